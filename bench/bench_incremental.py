"""What an incremental sync costs as the laptop's copy grows: 100 edited records synced from a
laptop holding 10,000 records, against the same sync from a laptop holding 100, in the same
run (target: at most 1.2x, in at most 3 requests), and a sync with nothing to do (target: one
request).

The server runs as an agency runs it (`tandem-server serve`, one worker, SQLite). Two officers
on two teams sign in on their own laptops; one writes 10,000 encounters, the other 100, and
each syncs them up. Then, for each round, each laptop edits 100 of its encounters and syncs
(timed: wall clock, and the laptop process's CPU, since the server runs in its own process),
then syncs again with nothing to do. Medians over the rounds. The last line printed is one
JSON object.

    python bench/bench_incremental.py [--records 10000] [--small 100] [--edits 100] [--rounds 7]
"""

import argparse
import json
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import keyring  # noqa: E402
import keyring.backends.fail  # noqa: E402

from agency_server import agency_server  # noqa: E402
from bench_sync import encounter  # noqa: E402
from fieldapp import changes  # noqa: E402
from sync import engine, online  # noqa: E402
from sync.server import accounts, agency_settings  # noqa: E402
from sync.server.db import make_engine, migrate  # noqa: E402

PASSWORD = secrets.token_urlsafe(16)  # throwaway accounts on a temporary server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--edits", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    work = Path(tempfile.mkdtemp(prefix="bench-incremental-"))
    url = f"sqlite:///{work / 'agency.db'}"
    server_db = make_engine(url)
    migrate(server_db)
    sizes = {"big": args.records, "small": args.small}
    with server_db.begin() as conn:
        agency_settings.set_value(conn, "two_factor", "optional")  # the bench has no phone
        for name in sizes:
            accounts.add_user(conn, f"ofc.{name}", "officer", [f"team-{name}"], PASSWORD)
    server_db.dispose()
    with agency_server(url, work / "server.log") as server_url:
        laptops, ids = {}, {}
        for name, n in sizes.items():
            laptop = online.login(work / name, server_url, f"ofc.{name}", PASSWORD)
            with laptop.db.atomic():
                ids[name] = [changes.create(laptop, "encounter",
                                            {**encounter(i), "team": f"team-{name}"})
                             for i in range(n)]
            assert engine.run_sync(laptop)["check"] == "ok"
            laptops[name] = laptop
        runs = {name: {"edit": [], "idle": []} for name in sizes}
        for r in range(args.rounds):
            for name, laptop in laptops.items():  # alternate, so drift hits both alike
                for i in ids[name][:args.edits]:
                    changes.patch(laptop, "encounter", i, {"police_note": f"round {r} edit"})
                runs[name]["edit"].append(timed(laptop))
                runs[name]["idle"].append(timed(laptop))
    result = {"records_big": args.records, "records_small": args.small,
              "edited_records": args.edits, "rounds": args.rounds}
    for name in sizes:
        for kind in ("edit", "idle"):
            done = runs[name][kind]
            result[f"{kind}_sync_{name}_ms"] = ms(statistics.median(d["s"] for d in done))
            result[f"{kind}_sync_{name}_laptop_cpu_ms"] = ms(
                statistics.median(d["cpu_s"] for d in done))
            result[f"{kind}_sync_{name}_requests"] = max(d["requests"] for d in done)
    result["edit_sync_ratio_big_to_small"] = round(
        result["edit_sync_big_ms"] / result["edit_sync_small_ms"], 2)
    result["edit_sync_cpu_ratio_big_to_small"] = round(
        result["edit_sync_big_laptop_cpu_ms"] / result["edit_sync_small_laptop_cpu_ms"], 2)
    result["idle_sync_ratio_big_to_small"] = round(
        result["idle_sync_big_ms"] / result["idle_sync_small_ms"], 2)
    result["edit_sync_meets_1_2x_in_3_requests"] = (
        result["edit_sync_ratio_big_to_small"] <= 1.2
        and result["edit_sync_big_requests"] <= 3)
    result["idle_sync_is_one_request"] = (result["idle_sync_big_requests"] == 1
                                          and result["idle_sync_small_requests"] == 1)
    print(json.dumps(result))


def timed(laptop) -> dict:
    wall, cpu = time.perf_counter(), time.process_time()
    summary = engine.run_sync(laptop)
    done = {"s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu,
            "requests": summary["requests"]}
    assert summary["check"] == "ok" and summary["pending"] == 0, summary
    return done


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


if __name__ == "__main__":
    main()
