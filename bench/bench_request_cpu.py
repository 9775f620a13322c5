"""The agency server's CPU per request, by kind of request: what bounds how many laptops a
core serves (bench_load's fleet is this figure times the request rate, plus queueing).

`tandem-server serve` (one worker) on PostgreSQL, with an agency of `--users` accounts (ten
to a team, as bench_load's fleet) and one team's ten laptops signed in through /login. One
laptop then sends the requests of a sync as sync/engine.py sends them (bench_load's Fleet),
one kind at a time, one after another over one kept-alive connection: GET /health (one
SELECT: the fixed cost of any request, the baseline), the idle sync (GET /pull with the
sync's fleet report, directory version, roster and sums, nothing new: the whole sync), the
pull of a sync that brings a teammate's 40 ops (the same request), POST /device/status (the
end of a sync that changed something), and POST /push of 4 ops of a real shift with its
report.
The server process's CPU time (user + system, from /proc) around each batch, divided by the
requests: the figure least disturbed by other work on the machine, since a busy machine
delays a request more than it adds to its CPU. PostgreSQL's CPU is read the same way, from
the backends serving the bench's database (`*_postgres_cpu_ms`). Each round measures every
kind; the lowest round per kind is reported, with its ratio to the health probe's in the same
run.

    python bench/bench_request_cpu.py [--pg ADMIN_URL] [--requests N] [--rounds N] [--users N]
"""

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

import keyring
import keyring.backends.fail
from sqlalchemy.engine import make_url
from agency_server import agency_server
from bench_load import (PASSWORD, PG_DEFAULT, TEAM_SIZE, Fleet, Laptop, ShiftText,
                        postgres_picker, processes_cpu, server_picker, shift_template)
from bench_sync import fresh_database

from sync import protocol as P

KINDS = ("health", "idle_pull", "pull", "status", "push")


def measure(url: str, work: Path, template: list[dict], requests: int, rounds: int,
            users: int) -> dict:
    import seeds
    from sync.server import accounts, agency_settings, directory
    from sync.server.db import make_engine, migrate

    engine = make_engine(url)
    migrate(engine)
    directory.import_directory(engine, seeds.DIRECTORY_DIR)
    shift = ShiftText(template)
    laptops = [Laptop(n, shift) for n in range(max(users, TEAM_SIZE))]
    with engine.begin() as conn:
        agency_settings.set_value(conn, "two_factor", "optional")
        for laptop in laptops:
            accounts.add_user(conn, laptop.username, "officer", [laptop.team], PASSWORD)
    engine.dispose()
    laptops = laptops[:TEAM_SIZE]  # one team signs in
    with agency_server(url, work / "server.log") as server_url:
        fleet = Fleet(server_url, laptops, ops_per_sync=4)
        for laptop in laptops:
            fleet.sign_in(laptop)
            fleet.call(laptop, "POST", "/push", "push", body=laptop.push_body(40))
        laptop = laptops[0]
        fleet.sync(laptop, push=False)  # its cursor, directory version and sums are current
        behind = laptop.pull_params(first=True)  # its next pull brings laptop 1's 40 ops
        fleet.call(laptops[1], "POST", "/push", "push", body=laptops[1].push_body(40))
        fleet.sync(laptops[1], push=False)
        idle = laptops[1].pull_params(first=True)
        send = {
            "health": lambda: fleet.send("GET", P.PREFIX + "/health", None, {}),
            "idle_pull": lambda: fleet.call(laptops[1], "GET", "/pull", "pull", params=idle),
            "pull": lambda: fleet.call(laptop, "GET", "/pull", "pull", params=behind),
            "status": lambda: fleet.call(laptop, "POST", "/device/status", "status", body={
                "sync": "finished", "pending_changes": 0, "oldest_pending_at": None,
                "check": "ok"}),
            "push": lambda: fleet.call(laptop, "POST", "/push", "push", params={
                "epoch": laptop.epoch, "pending_changes": 4,
                "oldest_pending_at": "2026-12-01T10:00:00Z"}, body=laptop.push_body(4)),
        }
        pulled = len(send["pull"]()["records"])
        assert pulled and send["idle_pull"]()["records"] == []
        picks = {"server": server_picker(urlsplit(server_url).port),
                 "postgres": postgres_picker(make_url(url).database)}

        def cpu() -> dict[str, float]:
            return {name: sum(processes_cpu(pick).values()) for name, pick in picks.items()}

        best = {name: dict.fromkeys(KINDS, float("inf")) for name in picks}
        for _ in range(rounds):
            for kind in KINDS:
                send[kind]()  # warm
                before = cpu()
                for _ in range(requests):
                    send[kind]()
                after = cpu()
                for name in picks:
                    best[name][kind] = min(best[name][kind],
                                           (after[name] - before[name]) * 1000 / requests)
    if fleet.errors:
        raise SystemExit(f"requests failed: {fleet.errors[:3]}")
    return {"requests_per_kind": requests, "rounds": rounds, "users": users,
            "pull_records": pulled,
            **{f"{kind}_server_cpu_ms": round(best["server"][kind], 2) for kind in KINDS},
            **{f"ratio_{kind}_to_health": round(best["server"][kind] / best["server"]["health"], 2)
               for kind in KINDS if kind != "health"},
            **{f"{kind}_postgres_cpu_ms": round(best["postgres"][kind], 2) for kind in KINDS}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", metavar="ADMIN_URL", default=PG_DEFAULT,
                        help="a PostgreSQL account that may create databases")
    parser.add_argument("--requests", type=int, default=300, help="requests per kind a round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--users", type=int, default=300, help="accounts in the agency")
    args = parser.parse_args()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    work = Path(tempfile.mkdtemp(prefix="bench-request-cpu-"))
    os.environ.update(HOME=str(work), XDG_DATA_HOME=str(work), XDG_CONFIG_HOME=str(work))
    template = shift_template(work)
    with fresh_database(work, "request_cpu", args.pg) as url:
        result = measure(url, work, template, args.requests, args.rounds, args.users)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
