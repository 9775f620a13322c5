"""Only what is needed on the laptop (CJIS and HIPAA minimum necessary): closed records older
than the agency's `retention_days` leave the cache after a sync, and a role or team change
shrinks the copy to the new scope. The server keeps everything; the laptop gets a record
back if it changes again.

Closed and old: a shift ended before the cutoff (with its events, reviews and amendments), a
finalized encounter (with its clinical notes), a cleared assignment or CRC drop-off, an
outreach contact, a follow-up done or cancelled (with its attempts), a release expired or
revoked, a resolved conflict and its resolution, an audit event already sent, and a person no
remaining record names. Kept whatever their age: open follow-ups, active releases, anything
with a change not yet synced, and the parents of anything kept. Drafts are never touched.

A purged record's (table, id, version) stays in `purged`, so the end-of-sync check still
counts it and the repair does not fetch it back. The cache is then compacted (VACUUM), so the
file holds no trace of the rows and shrinks.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from . import agency
from .timeutil import parse_iso, to_iso, utc_now

if TYPE_CHECKING:
    from .session import Session

RUN_EVERY = timedelta(hours=12)
VACUUM_SHARE = 0.2  # compact when this share of the file is free pages

# table -> SQL condition for "closed before :cutoff" (:day is the cutoff's date).
CLOSED = {
    "shift": "ended_at IS NOT NULL AND ended_at < :cutoff",
    "assignment": "status = 'cleared' AND coalesce(cleared_at, received_at) < :cutoff",
    "encounter": "finalized_at IS NOT NULL AND started_at < :cutoff",
    "crc_dropoff": "cleared_at IS NOT NULL AND arrived_at < :cutoff",
    "outreach_contact": "contacted_at < :cutoff",
    "follow_up": "status IN ('done', 'cancelled') AND coalesce(done_at, due_on) < :cutoff",
    "release_of_information": "(expires_on < :day OR revoked_at < :cutoff)",
    "conflict_resolution": "resolved_at < :cutoff",
    "audit_event": "at < :cutoff",
}
# Records that name a person: table -> (record id, person id) rows.
PERSON_REFERENCES = {
    "follow_up": "SELECT id, person_id FROM follow_up WHERE person_id IS NOT NULL",
    "outreach_contact": "SELECT id, person_id FROM outreach_contact WHERE person_id IS NOT NULL",
    "release_of_information": "SELECT id, person_id FROM release_of_information",
    "encounter": "SELECT encounter.id, j.value FROM encounter, json_each(encounter.person_ids) j "
                 "WHERE json_valid(encounter.person_ids)",
}


def due(session: Session, now: datetime | None = None) -> bool:
    """Whether the retention window has not run in the last RUN_EVERY."""
    row = session.db.execute("SELECT retention_run_at FROM sync_state WHERE id = 1").fetchone()
    return not row[0] or parse_iso(row[0]) < (now or utc_now()) - RUN_EVERY


def purge(session: Session, pulled_tables: tuple[str, ...],
          now: datetime | None = None) -> dict:
    """Remove closed records older than the window; {purged, vacuumed}. `pulled_tables`: the
    tables the server sends back (their purged versions are remembered for the check)."""
    now = now or utc_now()
    cutoff = now - timedelta(days=agency.get(session.db, "retention_days"))
    params = {"cutoff": to_iso(cutoff), "day": cutoff.date().isoformat()}
    db = session.db
    with db.atomic():
        doomed = {table: {r[0] for r in db.execute(
            f"SELECT id FROM [{table}] WHERE {where}", params)} for table, where in CLOSED.items()}
        doomed["person"] = _unnamed_people(db, doomed, params)
        removed = _remove(db, doomed, remember=set(pulled_tables))
        db.execute("DELETE FROM conflict WHERE resolved_at IS NOT NULL AND resolved_at < ?",
                   [params["cutoff"]])
        db.execute("UPDATE sync_state SET retention_run_at = ? WHERE id = 1", [to_iso(now)])
    return {"purged": removed, "vacuumed": compact(session) if removed else False}


def narrow_to_scope(session: Session, readable: set[str], teams: list[str]) -> int:
    """Remove what a new role or team list may no longer hold: tables outside `readable`,
    and records of other teams. Returns how many rows went. Forgets the purged list, since
    the laptop now pulls its copy again from the start."""
    db = session.db
    with db.atomic():
        marks = ", ".join("?" for _ in teams)
        doomed = {}
        for table in _record_tables(db):
            if table not in readable and table != "audit_event":
                doomed[table] = {r[0] for r in db.execute(f"SELECT id FROM [{table}]")}
            elif "team" in _columns(db, table):
                doomed[table] = {r[0] for r in db.execute(
                    f"SELECT id FROM [{table}] WHERE team NOT IN ({marks})", teams)}
        removed = _remove(db, doomed, remember=set())
        db.execute("DELETE FROM purged")
        db.execute("UPDATE sync_state SET retention_run_at = NULL WHERE id = 1")
    if removed:
        compact(session)
    return removed


def compact(session: Session) -> bool:
    """VACUUM when enough of the file is free pages; True if it did. The old pages go from
    the write-ahead log too."""
    db = session.db
    free = db.execute("PRAGMA freelist_count").fetchone()[0]
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    if not pages or free / pages < VACUUM_SHARE:
        return False
    db.execute("VACUUM")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return True


def _unnamed_people(db, doomed: dict[str, set[str]], params: dict) -> set[str]:
    """People last changed before the cutoff whom no record staying on the laptop names."""
    stamp = f"{int(parse_iso(params['cutoff']).timestamp() * 1000):013d}"
    old = {r[0] for r in db.execute("SELECT id FROM person WHERE updated_hlc < ?", [stamp])}
    if not old:
        return set()
    named = set()
    for table, sql in PERSON_REFERENCES.items():
        named |= {person for record_id, person in db.execute(sql)
                  if record_id not in doomed.get(table, ())}
    return old - named


def _remove(db, doomed: dict[str, set[str]], remember: set[str]) -> int:
    """Delete the doomed rows, with their foreign-key children, except rows with unsynced
    changes and the parents of rows that stay; remember confirmed versions of `remember`
    tables in `purged`. Returns how many rows went."""
    edges = _foreign_keys(db)  # (child table, column, parent table)
    doomed = {t: set(ids) for t, ids in doomed.items() if ids}
    changed = True
    while changed:  # children go with their parent
        changed = False
        for child, column, parent in edges:
            if doomed.get(parent):
                found = _ids_where_in(db, child, column, doomed[parent]) - doomed.get(child, set())
                if found:
                    doomed.setdefault(child, set()).update(found)
                    changed = True
    for table, record_id in db.execute(
            "SELECT DISTINCT table_name, record_id FROM outbox "
            "WHERE state IN ('pending', 'rejected')"):
        doomed.get(table, set()).discard(record_id)
    changed = True
    while changed:  # a parent stays while a child of it stays
        changed = False
        for child, column, parent in edges:
            if not doomed.get(parent):
                continue
            children = _ids_where_in(db, child, column, doomed[parent], with_parent=True)
            keep = {p for c, p in children if c not in doomed.get(child, set())}
            if keep & doomed[parent]:
                doomed[parent] -= keep
                changed = True
    removed = 0
    order = sorted(doomed, key=lambda t: t not in {child for child, _, _ in edges})
    for table in order:
        ids = sorted(doomed[table])
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ", ".join("?" for _ in chunk)
            if table in remember:
                db.execute(f"INSERT INTO purged (table_name, record_id, server_version) "
                           f"SELECT ?, id, server_version FROM [{table}] "
                           f"WHERE server_version > 0 AND id IN ({marks}) "
                           f"ON CONFLICT (table_name, record_id) DO UPDATE SET "
                           f"server_version = excluded.server_version", [table, *chunk])
            removed += db.execute(f"DELETE FROM [{table}] WHERE id IN ({marks})", chunk).rowcount
    return removed


def _ids_where_in(db, table: str, column: str, values: set[str], with_parent: bool = False):
    found = set()
    values = sorted(values)
    for start in range(0, len(values), 500):
        chunk = values[start:start + 500]
        marks = ", ".join("?" for _ in chunk)
        rows = db.execute(f"SELECT id, [{column}] FROM [{table}] WHERE [{column}] IN ({marks})",
                          chunk)
        found |= {tuple(r) if with_parent else r[0] for r in rows}
    return found


def _record_tables(db) -> list[str]:
    """Tables with synced records: those with the bookkeeping columns."""
    return [name for (name,) in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        if {"server_version", "created_hlc"} <= _columns(db, name)]


def _columns(db, table: str) -> set[str]:
    return {r[1] for r in db.execute(f"PRAGMA table_info([{table}])")}


def _foreign_keys(db) -> list[tuple[str, str, str]]:
    return [(table, fk[3], fk[2]) for table in _record_tables(db)
            for fk in db.execute(f"PRAGMA foreign_key_list([{table}])")]
