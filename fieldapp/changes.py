"""Every local change to a synced record: the row and its outbox op, in one transaction.

Every edit made on the laptop goes through here (only sync/engine.py also writes synced tables,
applying what it pulls), so no edit can reach the cache without the op that will carry it to
the agency server, nor an op without its edit. Each write names its table on the session
(`Session.note_changed`), which is how open screens learn what to redraw.
An op records the changed fields with the values they replaced (its base) and the record's
server version, which is what the server's three-way merge needs.
"""

import json

from . import labels
from .errors import NotFound, TandemError, ValidationError
from .ids import new_id
from .records import RecordType, record_type
from .session import Session
from .timeutil import now_iso
from .validation import normalise, stored_to_python


def create(session: Session, table: str, values: dict, *, record_id: str | None = None) -> str:
    """Validate and insert a new record with its outbox op; returns the new id."""
    rt = record_type(table)
    stored = normalise(rt, values, partial=False)
    _check_references(session, rt, stored)
    record_id = record_id or new_id()
    db = session.db
    with db.atomic():
        stamp = session.stamp()
        db[table].insert({
            "id": record_id, "created_hlc": stamp, "updated_hlc": stamp,
            "author": session.username, "device": session.device_id,
            "server_version": 0, "deleted": 0, **stored,
        })
        _write_op(session, rt, record_id, "append" if rt.append_only else "create",
                  stored, {}, 0, stamp, None)
        _audit_change(session, rt, record_id, "create")
    session.note_changed(table)
    return record_id


def patch(session: Session, table: str, record_id: str, values: dict, *,
          amending: bool = False) -> dict:
    """Change some fields of a mutable record; returns the fields that actually changed.
    A record of a submitted (ended) shift changes only as part of an amendment (`amending`),
    so the supervisor's review sees every change made after submission."""
    rt = record_type(table)
    if rt.append_only:
        raise TandemError(f"{table} records are append-only; write a new one instead")
    stored = normalise(rt, values, partial=True)
    _check_references(session, rt, stored)
    db = session.db
    with db.atomic():
        current = _current_row(session, table, record_id)
        if not amending:
            _refuse_if_submitted(session, rt, current)
        changed = {k: v for k, v in stored.items() if current[k] != v}
        if not changed:
            return {}
        stamp = session.stamp()
        db[table].update(record_id, {**changed, "updated_hlc": stamp})
        _write_op(session, rt, record_id, "patch", changed,
                  {k: current[k] for k in changed}, current["server_version"], stamp,
                  current["updated_hlc"])
        _audit_change(session, rt, record_id, "change", ", ".join(sorted(changed)))
    session.note_changed(table)
    return changed


def delete(session: Session, table: str, record_id: str, *, amending: bool = False) -> None:
    """Mark a mutable record deleted (a tombstone that syncs); the row stays for the merge."""
    rt = record_type(table)
    if rt.append_only:
        raise TandemError(f"{table} records are append-only and cannot be deleted")
    db = session.db
    with db.atomic():
        current = _current_row(session, table, record_id)
        if not amending:
            _refuse_if_submitted(session, rt, current)
        stamp = session.stamp()
        db[table].update(record_id, {"deleted": 1, "updated_hlc": stamp})
        _write_op(session, rt, record_id, "delete", {}, {}, current["server_version"], stamp,
                  current["updated_hlc"])
        _audit_change(session, rt, record_id, "delete")
    session.note_changed(table)


def get(session: Session, table: str, record_id: str) -> dict:
    """One live record as Python values, or NotFound."""
    return stored_to_python(record_type(table), _current_row(session, table, record_id))


def _current_row(session: Session, table: str, record_id: str) -> dict:
    if not isinstance(record_id, str):
        raise NotFound(table, str(record_id))
    row = session.db.execute(
        f"SELECT * FROM [{table}] WHERE id = ? AND deleted = 0", [record_id]).fetchone()
    if row is None:
        raise NotFound(table, record_id)
    cols = [d[0] for d in session.db.execute(f"SELECT * FROM [{table}] LIMIT 0").description]
    return dict(zip(cols, row))


def _refuse_if_submitted(session: Session, rt: RecordType, current: dict) -> None:
    if rt.table == "shift":
        shift_id = current["id"]
    elif "shift_id" in rt.field_names and current.get("shift_id"):
        shift_id = current["shift_id"]
    else:
        return
    row = session.db.execute("SELECT ended_at FROM shift WHERE id = ?", [shift_id]).fetchone()
    if row and row[0]:
        raise TandemError(f"this {labels.phrase(rt.table)} belongs to a shift that ended (was "
                          "submitted for review); change it with an amendment, which the "
                          "supervisor sees")


def _check_references(session: Session, rt: RecordType, stored: dict) -> None:
    problems = {}
    for f in rt.fields:
        value = stored.get(f.name)
        if f.references is None or value is None:
            continue
        ids = json.loads(value) if f.type is list else [value]
        missing = [i for i in ids
                   if not (isinstance(i, str) and _exists(session, f.references, i))]
        if missing:
            problems[f.name] = f"no {f.references} with id {', '.join(map(str, missing))}"
    if problems:
        raise ValidationError(rt.table, problems)


def _exists(session: Session, table: str, record_id) -> bool:
    return session.db.execute(
        f"SELECT 1 FROM [{table}] WHERE id = ? AND deleted = 0", [record_id]).fetchone() is not None


def _write_op(session: Session, rt: RecordType, record_id: str, kind: str,
              fields: dict, base: dict, base_version: int, stamp: str,
              base_hlc: str | None) -> None:
    """`base_hlc`: the record's stamp before this op, naming the copy the base values come
    from (what the laptop gives back should the server lose it; sync/giveback.py)."""
    session.db["outbox"].insert({
        "op_id": new_id(), "table_name": rt.table, "record_id": record_id, "kind": kind,
        "fields": json.dumps(fields, ensure_ascii=False),
        "base": json.dumps(base, ensure_ascii=False),
        "base_version": base_version, "hlc": stamp, "base_hlc": base_hlc,
        "state": "pending", "created_at": now_iso(),
    })


def audit(session: Session, action: str, table: str | None = None,
          record_id: str | None = None, outcome: str = "success", detail: str | None = None) -> str:
    """Write an audit event: what, when, who (author), which device, outcome."""
    return create(session, "audit_event", {
        "at": now_iso(), "actor": session.username, "action": action,
        "record_table": table, "record_id": record_id, "outcome": outcome, "detail": detail,
    })


def _audit_change(session: Session, rt: RecordType, record_id: str, verb: str,
                  detail: str | None = None) -> None:
    """Changes to sensitive records leave an audit event in the same transaction."""
    if rt.sensitive:
        audit(session, f"{rt.table}.{verb}", rt.table, record_id, detail=detail)


def pending_ops(session: Session) -> int:
    return session.db.execute("SELECT count(*) FROM outbox WHERE state = 'pending'").fetchone()[0]


def sync_status(session: Session) -> dict:
    """What the status bar, Settings and sign-out show: the changes waiting to sync, the open
    conflicts, when this laptop last synced and the agency server it syncs with (or None)."""
    server, last_sync_at = session.db.execute(
        "SELECT server_url, last_sync_at FROM sync_state WHERE id = 1").fetchone()
    return {"pending": pending_ops(session), "server": server, "last_sync_at": last_sync_at,
            "conflicts": session.db.execute(
                "SELECT count(*) FROM conflict WHERE resolved_at IS NULL").fetchone()[0]}
