"""Server-side imports that become ordinary synced records: the CRC's discharge list.

The server writes through exchange.push as a caller of its own, so each record gets an op id,
a version and a change_seq like one pushed from a laptop, and reaches the team's laptops on
their next sync. The whole file goes in one transaction: all of its good rows, or nothing.
"""

import json
from pathlib import Path

from sqlalchemy import select

from fieldapp import followup_import
from fieldapp.clock import HybridClock
from fieldapp.ids import new_id
from fieldapp.records import record_type
from fieldapp.validation import normalise

from .. import protocol as P
from . import disclosures, exchange
from .accounts import Caller
from .tables import record


def system_caller(name: str, team: str) -> Caller:
    """The server acting for a tool (an import, an integration) within one team."""
    return Caller(0, name[:64], disclosures.SYSTEM_ROLE, (team,), f"server:{name}"[:64])


def create_ops(caller: Caller, records: list[tuple[str, str, dict]]) -> list[dict]:
    """'create' ops for (table, id, values) records, stamped by a server clock."""
    clock = HybridClock(caller.device_id)
    return [{"op_id": new_id(), "table": table, "record_id": record_id, "kind": "create",
             "fields": normalise(record_type(table), values, partial=False),
             "base": {}, "base_version": 0, "hlc": clock.now()}
            for table, record_id, values in records]


def push_or_fail(conn, caller: Caller, ops: list[dict]) -> list[dict]:
    results = exchange.push(conn, caller, ops)
    refused = [r for r in results if r["status"] not in (P.APPLIED, P.DUPLICATE)]
    if refused:
        raise ValueError(f"the server refused {len(refused)} record(s): {refused[0].get('reason')}")
    return results


def team_records(conn, team: str, table: str) -> list[dict]:
    rt = record_type(table)
    out = []
    for row in conn.execute(select(record.c.id, record.c.data).where(
            record.c.team == team, record.c.table_name == table, record.c.deleted.is_(False))):
        data = json.loads(row.data)
        out.append({"id": row.id, **{k: data.get(k) for k in rt.field_names}})
    return out


def import_followups(engine, path: str | Path, team: str) -> followup_import.Plan:
    """Import a discharge list for `team`; returns the plan that was written."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise followup_import.ImportFileError(f"cannot read {path}: {e.strerror}") from None
    rows = followup_import.read_rows(data, str(path))
    with engine.begin() as conn:
        plan = followup_import.plan(rows, team_records(conn, team, "person"),
                                    team_records(conn, team, "follow_up"), team)
        records = [("person", p["id"], {k: v for k, v in p.items() if k != "id"})
                   for p in plan.persons]
        records += [("follow_up", f["id"], {k: v for k, v in f.items() if k != "id"})
                    for f in plan.follow_ups]
        if records:
            push_or_fail(conn, system_caller("import-followups", team), create_ops(
                system_caller("import-followups", team), records))
    return plan
