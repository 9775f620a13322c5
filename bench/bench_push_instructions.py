"""The server's push counted in CPU instructions (valgrind's callgrind), with a direct insert
of the same records counted the same way: a ratio that the host's drifting speed cannot move.

bench_sync times the push end to end, laptop and HTTP included, and on a shared host its
ratio moves by a third between runs of the same code. This counts only the server's side of
applying the ops (exchange.push, in this process, after one warm-up batch), so a change to it
shows as a change in instructions, run to run alike within a fraction of a percent.

Ops as a laptop sends them: encounters created, each with its audit event, in batches of
500. Needs valgrind (Debian's `valgrind`). The server database is embedded SQLite, or with
`--pg ADMIN_URL` a fresh PostgreSQL database (the database's own work is then in its server
processes, not counted). The last line printed is one JSON object.
"""

import argparse
import gc
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_sync import PASSWORD, encounter, fresh_database  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from fieldapp.clock import format_stamp  # noqa: E402
from fieldapp.ids import new_id  # noqa: E402
from sync.server import accounts, exchange  # noqa: E402
from sync.server.db import make_engine, migrate  # noqa: E402
from sync.server.tables import record  # noqa: E402

WARM_UP, BATCH, COUNTED = 500, 500, 3500  # ops


def ops(device: str) -> list[dict]:
    """Encounter creates, each followed by its audit event, in the laptop's wire form."""
    out, ms = [], 1_796_000_000_000
    for i in range((WARM_UP + COUNTED) // 2):
        record_id = new_id()
        for table, kind, fields in (
                ("encounter", "create", encounter(i)),
                ("audit_event", "append", {
                    "at": "2026-05-01T10:00:01.000Z", "actor": "ofc.a",
                    "action": "encounter.create", "record_table": "encounter",
                    "record_id": record_id, "outcome": "success", "detail": None})):
            ms += 1
            out.append({"op_id": new_id(), "table": table,
                        "record_id": record_id if table == "encounter" else new_id(),
                        "kind": kind, "fields": fields, "base": {}, "base_version": 0,
                        "hlc": format_stamp(ms, 0, device)})
    return out


def counted(pg: str | None, work: Path) -> None:
    """Run under callgrind: push, dump the count; insert directly, dump again."""
    def dump(label: str) -> None:
        subprocess.run(["callgrind_control", "--dump=" + label, str(os.getpid())],
                       check=True, capture_output=True)

    device = new_id()
    sent = ops(device)
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, *gc.get_threshold()[1:])  # as the server runs (cli._frozen)
    with fresh_database(work, "server", pg) as url, fresh_database(work, "direct", pg) as direct:
        server_db, direct_db = make_engine(url), make_engine(direct)
        migrate(server_db)
        migrate(direct_db)
        with server_db.begin() as conn:
            user = accounts.add_user(conn, "ofc.a", "officer", ["mhst-1"], PASSWORD)
        caller = accounts.Caller(user, "ofc.a", "officer", ("mhst-1",), device)
        with server_db.begin() as conn:
            exchange.push(conn, caller, sent[:WARM_UP])
        with server_db.connect() as conn:
            warm_rows = [dict(r) for r in conn.execute(record.select()).mappings()]
        with direct_db.begin() as conn:  # the direct insert warmed up alike
            conn.execute(insert(record), warm_rows)
        subprocess.run(["callgrind_control", "--instr=on", str(os.getpid())],
                       check=True, capture_output=True)
        dump("start")
        for at in range(WARM_UP, len(sent), BATCH):
            with server_db.begin() as conn:
                exchange.push(conn, caller, sent[at:at + BATCH])
        dump("push")
        with server_db.connect() as conn:
            rows = [dict(r) for r in conn.execute(
                record.select().where(record.c.id.not_in([r["id"] for r in warm_rows])))
                .mappings()]
        dump("read")
        for at in range(0, len(rows), BATCH):
            with direct_db.begin() as conn:
                conn.execute(insert(record), rows[at:at + BATCH])
        dump("direct")
        print(json.dumps({"records": len(rows)}))
        server_db.dispose()
        direct_db.dispose()


def measure(work: Path, pg: str | None) -> tuple[dict[str, int], int]:
    """Instructions per dumped part ("push", "direct"), and the records pushed."""
    out = work / "callgrind.out"
    run = subprocess.run(
        ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
         sys.executable, __file__, "--counted", str(work), *(["--pg", pg] if pg else [])],
        capture_output=True, text=True, check=True)
    records = json.loads(run.stdout.strip().splitlines()[-1])["records"]
    parts = {}
    for part in work.glob("callgrind.out*"):
        text = part.read_text(errors="replace")
        label = re.search(r"^desc: Trigger: dump (\S+)$", text, re.M)  # callgrind_control's
        total = re.search(r"^summary: (\d+)$", text, re.M)
        if label and total:
            parts[label.group(1)] = int(total.group(1))
    return parts, records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", metavar="ADMIN_URL", help="the server database on PostgreSQL")
    parser.add_argument("--counted", metavar="WORK_DIR", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.counted:
        counted(args.pg, Path(args.counted))
        return
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        sys.exit("bench_push_instructions needs valgrind: apt install valgrind")
    with tempfile.TemporaryDirectory(prefix="bench-push-instr-") as work:
        parts, records = measure(Path(work), args.pg)
    push, direct = parts["push"], parts["direct"]
    print(json.dumps({
        "backend": "postgresql" if args.pg else "sqlite", "push_ops": COUNTED,
        "records": records, "push_instructions": push, "direct_insert_instructions": direct,
        "push_instructions_per_op": round(push / COUNTED),
        "direct_insert_instructions_per_record": round(direct / records),
        "push_ops_per_direct_insert_record_ratio": round(
            (direct / records) / (push / COUNTED), 3)}))


if __name__ == "__main__":
    main()
