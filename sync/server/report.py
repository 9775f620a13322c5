"""`tandem-server report`: the monthly program report from the agency's synced records.

The figures (fieldapp/metrics.py) are written over the laptop's record tables. The server keeps
each record as one JSON row, so the report lays out the records the month's figures read
(metrics.PERIOD_TIMES, PERIOD_DATES, WITH_PARENT: those with a time or due date in the month,
and the attempts on those follow-ups), of the team asked for, in the laptop's tables of a
private in-memory SQLite database, and computes from that: the copy grows with the month, not
with the agency's history. Deleted and clinical records are never copied: no figure reads them.
"""

import json
from pathlib import Path

import sqlcipher3
from sqlalchemy import and_, cast, func, or_, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine
from sqlite_utils import Database

from fieldapp import metrics, records, schema
from fieldapp.metrics import Parameters, Period
from fieldapp.report import month_period, write_report
from fieldapp.timeutil import to_iso

from .tables import record

CHUNK = 500


def record_tables(engine: Engine, period: Period, team: str | None = None) -> Database:
    """The records `period`'s figures read, as laptop-shaped tables in memory."""
    db = Database(sqlcipher3.connect(":memory:"))  # the laptop's SQLite build, unkeyed in memory
    schema.migrations.apply(db)
    db.execute("PRAGMA foreign_keys = OFF")
    start, end = to_iso(period.start), to_iso(period.end)
    first_day, end_day = (d.isoformat() for d in period.date_range())
    with engine.connect() as conn:
        field = _field_reader(conn.dialect.name)
        tables = {table: or_(*(and_(field(f) >= start, field(f) < end) for f in fields))
                  for table, fields in metrics.PERIOD_TIMES.items()}
        tables |= {table: and_(field(f) >= first_day, field(f) < end_day)
                   for table, f in metrics.PERIOD_DATES.items()}
        copied = {table: _records(conn, table, team, where) for table, where in tables.items()}
        for table, (column, parent) in metrics.WITH_PARENT.items():
            ids = [r["id"] for r in copied[parent]]
            copied[table] = [r for at in range(0, len(ids), CHUNK) for r in _records(
                conn, table, team, field(column).in_(ids[at:at + CHUNK]))]
    with db.atomic():
        for table, rows in copied.items():
            db[table].insert_all(rows)
    return db


def _records(conn, table: str, team: str | None, where) -> list[dict]:
    """Live, non-clinical `table` records meeting `where`, as the laptop's rows."""
    query = select(record).where(record.c.table_name == table, record.c.clinical.is_(False),
                                 record.c.deleted.is_(False), where)
    if team is not None:
        query = query.where(record.c.team == team)
    fields = records.record_type(table).field_names
    rows = []
    for r in conn.execute(query).mappings():
        data = json.loads(r["data"])
        rows.append({"id": r["id"], "created_hlc": r["created_hlc"],
                     "updated_hlc": r["updated_hlc"], "author": r["author"],
                     "device": r["device"], "server_version": r["version"], "deleted": 0,
                     **{f: data.get(f) for f in fields}})
    return rows


def _field_reader(dialect: str):
    """A record's field as text in SQL, compared byte by byte as SQLite compares it (ISO times
    and dates sort as text)."""
    if dialect == "postgresql":
        return lambda name: cast(record.c.data, JSONB)[name].astext.collate("C")
    return lambda name: func.json_extract(record.c.data, f"$.{name}")


def write(engine: Engine, month: str, team: str | None, fmt: str, out: Path, *, tz: str,
          parameters: Parameters) -> Path:
    db = record_tables(engine, month_period(month, tz), team)
    try:
        return write_report(db, month, team, fmt, out, tz=tz, parameters=parameters)
    finally:
        db.close()
