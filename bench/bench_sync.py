"""Sync throughput against a real local server, each figure also as a ratio to inserting the
same rows straight into the server database in the same run.

The server runs as an agency runs it, `tandem-server serve` in its own process on loopback:
one worker on SQLite, one per core on PostgreSQL (docs/deployment.md), or --server-workers N.
The laptops are this process; a push keeps several batches in flight, which several workers
apply side by side where one worker takes them in turn.

Push: 10,000 encounters (each also writes its audit event, so 20,000 ops) in batches of 500;
push_ops_per_s times the push phase, and whole_sync_after_push_ops_per_s the whole sync that
carries them (which also pulls the 10,000 encounters back with their server versions).
Pull: a second laptop of the same team signs in and pulls the 10,000 encounters.
Storage: the server's bytes per stored record (the tables a push writes, with their indexes)
against the record's JSON as a pull serves it: on SQLite the pages they use (dbstat); on
PostgreSQL pg_total_relation_size right after the sync ("_after_push") and after a plain
VACUUM, as autovacuum leaves them in service ("_after_vacuum").
The server runs on embedded SQLite, or with `--pg ADMIN_URL` (e.g.
postgresql+psycopg://tandem:PW@127.0.0.1:54329/postgres) on fresh PostgreSQL databases made
and dropped by the bench.

Each figure's direct insert runs right after the push it is set against, and the whole
measure runs ROUNDS times on fresh databases: the machine's speed drifts by half within a
minute on a shared host, which a single baseline taken later than its push does not cancel.
The figures printed are the round with the median push ratio, with every round's push and
pull ratios beside them. The last line printed is one JSON object.
"""

import argparse
import json
import os
import secrets
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import keyring  # noqa: E402
import keyring.backends.fail  # noqa: E402
from sqlalchemy import create_engine, insert, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from agency_server import agency_server  # noqa: E402
from fieldapp import changes  # noqa: E402
from sync import engine, online  # noqa: E402
from sync.server import accounts, agency_settings  # noqa: E402
from sync.server.db import make_engine, migrate  # noqa: E402
from sync.server.exchange import _wire  # noqa: E402
from sync.server.tables import record  # noqa: E402

N = 10_000
BATCH = 500
PASSWORD = secrets.token_urlsafe(16)  # throwaway accounts on a temporary server


def encounter(i: int) -> dict:
    return {"team": "mhst-1", "started_at": "2026-05-01T10:00:00.000Z",
            "presenting_situation": "welfare_check", "disposition": "referred",
            "place": f"{100 + i} N Stone Ave", "lat": 32.22, "lon": -110.97,
            "police_note": f"Subject calm, agreed to referral; contact #{i}.",
            "connected_to_care": 1}


@contextmanager
def fresh_database(work: Path, name: str, pg_admin: str | None):
    """A new, empty server database URL: a SQLite file, or a PostgreSQL database dropped after."""
    if pg_admin is None:
        (work / name).mkdir(parents=True, exist_ok=True)
        yield f"sqlite:///{work / name / 'agency.db'}"
        return
    admin = create_engine(pg_admin, isolation_level="AUTOCOMMIT")
    db_name = f"tandem_bench_{name}_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{db_name}"'))
    try:
        yield make_url(pg_admin).set(database=db_name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        admin.dispose()


def baseline_insert(url: str, rows: list[dict]) -> float:
    """Rows per second inserting the pushed rows directly into a fresh server database."""
    server_db = make_engine(url)
    migrate(server_db)
    start = time.perf_counter()
    for at in range(0, len(rows), BATCH):
        with server_db.begin() as conn:
            conn.execute(insert(record), rows[at:at + BATCH])
    elapsed = time.perf_counter() - start
    server_db.dispose()
    return len(rows) / elapsed


ROUNDS = 3  # each on fresh databases; the figures are the round with the median push ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", metavar="ADMIN_URL", help="run the server on PostgreSQL")
    parser.add_argument("--server-workers", type=int, metavar="N",
                        help="the server's worker processes (default: 1 on SQLite, one per "
                             "core on PostgreSQL)")
    args = parser.parse_args()
    workers = args.server_workers or ((os.cpu_count() or 1) if args.pg else 1)
    keyring.set_keyring(keyring.backends.fail.Keyring())
    work = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    rounds = []
    for n in range(ROUNDS):
        (here := work / f"round{n}").mkdir()
        with fresh_database(here, "server", args.pg) as url, \
                fresh_database(here, "baseline", args.pg) as baseline_url:
            rounds.append(measure(here, url, baseline_url, workers))
    rounds.sort(key=lambda r: r["push_ratio_to_direct_insert"])
    result = {**rounds[len(rounds) // 2],
              **{f"{key}_rounds": [r[key] for r in rounds] for key in (
                  "push_ratio_to_direct_insert", "pull_ratio_to_direct_insert")}}
    print(json.dumps({"backend": "postgresql" if args.pg else "sqlite", **result}))


def measure(work: Path, url: str, baseline_url: str, workers: int) -> dict:
    server_db = make_engine(url)
    migrate(server_db)
    with server_db.begin() as conn:
        agency_settings.set_value(conn, "two_factor", "optional")  # the bench has no phone
        accounts.add_user(conn, "ofc.a", "officer", ["mhst-1"], PASSWORD)
        accounts.add_user(conn, "ofc.b", "officer", ["mhst-1"], PASSWORD)
    with agency_server(url, work / "server.log", workers) as server_url:
        writer = online.login(work / "a", server_url, "ofc.a", PASSWORD)
        with writer.db.atomic():
            for i in range(N):
                changes.create(writer, "encounter", encounter(i))
        ops = writer.db.execute("SELECT count(*) FROM outbox").fetchone()[0]
        start = time.perf_counter()
        pushed = engine.run_sync(writer, batch_size=BATCH)
        push_s = time.perf_counter() - start
        assert pushed["pushed"] == ops and pushed["check"] == "ok", pushed
        with server_db.connect() as conn:
            rows = [dict(r) for r in conn.execute(record.select()).mappings()]
        base_rows_per_s = baseline_insert(baseline_url, rows)  # right after: the machine drifts

        start = time.perf_counter()
        reader = online.login(work / "b", server_url, "ofc.b", PASSWORD)
        login_s = time.perf_counter() - start
        start = time.perf_counter()
        pulled = engine.run_sync(reader)
        pull_s = time.perf_counter() - start
        assert pulled["pulled"] == N and pulled["check"] == "ok", pulled
        storage = storage_figures(server_db, rows)
    server_db.dispose()
    push_ops_per_s = ops / pushed["push_s"]  # the push phase; its pull-back counts as pull
    sync_ops_per_s = ops / push_s
    pull_records_per_s = N / pull_s
    pull_requests = pulled["requests"]
    return {
        "server_workers": workers, "encounters": N, "push_ops": ops, "push_batch_ops": BATCH,
        "push_ops_per_s": round(push_ops_per_s),
        "push_requests": pushed["requests"],
        "whole_sync_after_push_ops_per_s": round(sync_ops_per_s),
        "pull_records_per_s": round(pull_records_per_s),
        "pull_requests_per_10000_records": round(pull_requests * 10_000 / N, 1),
        "pull_json_bytes_per_record": round(pulled["bytes_received"] / N, 1),
        "pull_wire_bytes_per_record": round(pulled["wire_bytes_received"] / N, 1),
        "push_wire_bytes_per_op": round(pushed["wire_bytes_sent"] / ops, 1),
        "signin_s": round(login_s, 3),
        "signin_to_synced_s": round(login_s + pull_s, 3),
        "baseline_direct_insert_rows_per_s": round(base_rows_per_s),
        "push_ratio_to_direct_insert": round(push_ops_per_s / base_rows_per_s, 3),
        "pull_ratio_to_direct_insert": round(pull_records_per_s / base_rows_per_s, 3),
        **storage,
    }


STORED = ("record", "applied_op", "conflict", "record_sum")  # the tables a push writes


def storage_figures(server_db, rows: list[dict]) -> dict:
    """Server bytes per stored record, whole and per table (indexes and TOAST included), and
    their ratio to the record's JSON as a pull serves it (_wire)."""
    json_bytes = sum(len(_wire(row).encode()) for row in rows)
    figures = {"stored_records": len(rows),
               "record_json_bytes_per_record": round(json_bytes / len(rows), 1)}

    def add(tables: dict[str, int], suffix: str) -> None:
        total = sum(tables.values())
        figures[f"server_bytes_per_record{suffix}"] = round(total / len(rows), 1)
        figures[f"server_bytes_per_record_json_byte_ratio{suffix}"] = round(total / json_bytes, 2)
        for name, size in tables.items():
            figures[f"{name}_bytes_per_record{suffix}"] = round(size / len(rows), 1)

    if server_db.dialect.name == "postgresql":
        with server_db.connect() as conn:
            add(_pg_sizes(conn), "_after_push")
        with server_db.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM " + ", ".join(STORED))
            add(_pg_sizes(conn), "_after_vacuum")
    else:
        with server_db.connect() as conn:
            used = dict(conn.exec_driver_sql(
                "SELECT m.tbl_name, sum(d.pgsize) FROM dbstat d JOIN sqlite_master m "
                "ON m.name = d.name GROUP BY m.tbl_name").all())
        add({name: used.get(name, 0) for name in STORED}, "")
    return figures


def _pg_sizes(conn) -> dict[str, int]:
    return {name: conn.scalar(text(f"SELECT pg_total_relation_size('{name}')"))
            for name in STORED}


if __name__ == "__main__":
    main()
