"""`tandem-server report`: the monthly program report from the agency's synced records.

The figures (fieldapp/metrics.py) are written over the laptop's record tables. The server keeps
each record as one JSON row, so the report first lays the non-clinical records out in those
tables in a private in-memory SQLite database, then computes from that. Clinical notes are
never copied: no figure reads them.
"""

import json
from pathlib import Path

import sqlcipher3
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlite_utils import Database

from fieldapp import records, schema
from fieldapp.metrics import Parameters
from fieldapp.report import write_report

from .tables import record

# The records the figures read.
REPORT_TABLES = ("shift", "shift_event", "assignment", "encounter", "person", "outreach_contact",
                 "follow_up", "follow_up_attempt", "crc_dropoff", "referral")


def record_tables(engine: Engine) -> Database:
    """The server's non-clinical records as laptop-shaped tables in memory."""
    db = Database(sqlcipher3.connect(":memory:"))  # the laptop's SQLite build, unkeyed in memory
    schema.migrations.apply(db)
    db.execute("PRAGMA foreign_keys = OFF")
    query = select(record).where(record.c.table_name.in_(REPORT_TABLES),
                                 record.c.clinical.is_(False))
    rows: dict[str, list[dict]] = {t: [] for t in REPORT_TABLES}
    with engine.connect() as conn:
        for r in conn.execute(query).mappings():
            fields = records.record_type(r["table_name"]).field_names
            data = json.loads(r["data"])
            rows[r["table_name"]].append({
                "id": r["id"], "created_hlc": r["created_hlc"], "updated_hlc": r["updated_hlc"],
                "author": r["author"], "device": r["device"], "server_version": r["version"],
                "deleted": int(r["deleted"]), **{f: data.get(f) for f in fields}})
    with db.atomic():
        for table, batch in rows.items():
            db[table].insert_all(batch)
    return db


def write(engine: Engine, month: str, team: str | None, fmt: str, out: Path, *, tz: str,
          parameters: Parameters) -> Path:
    db = record_tables(engine)
    try:
        return write_report(db, month, team, fmt, out, tz=tz, parameters=parameters)
    finally:
        db.close()
