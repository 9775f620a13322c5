"""Giving back to the agency server what a restore or a failover took from it.

When the server's history went back (its epoch is not the one this laptop synced with, or one
of this laptop's requests proved it forgot changes: 409 epoch_changed), the laptop, before it
changes any record, offers the server the (table, id, version, stamp) of every record it
holds, and gives back those the server asks for: its own and the ones it pulled from others,
as the server last confirmed them (pending local edits stay out; they follow as ops), with
their ids, fields, clock stamps and authors. Only then does it take the new epoch and cursor
0, and the engine pulls the new generation as a rebuild (sync/server/recovery.py has the
server's side).

The laptop deletes a record only when the server says it was deleted (its tombstone was
compacted away) or is no longer the user's to hold. A record the server lacks that this user
may not give back (a clinical note held under a release, a sergeant's review) is kept, listed
in `unreturned`, left out of the end-of-sync check, and asked about again at every sync until
the server holds it or says to drop it.
"""

import json
from dataclasses import dataclass, field

import sqlcipher3

from fieldapp.records import RECORD_TYPES
from fieldapp.session import Session
from fieldapp.timeutil import now_iso

from . import protocol as P
from .transport import SyncFailed, Transport

AUDIT_TABLE = "audit_event"
_PARENTS = {parent for _field, parent in P.PARENT_FIELDS.values()}
# Parents before children, so the server has a record's parent when the record comes back.
GIVEN_TABLES = sorted((*P.PULLED_TABLES, AUDIT_TABLE), key=lambda t: t not in _PARENTS)


@dataclass
class Outcome:
    epoch: str | None = None
    returned: int = 0  # records the server restored or brought up to date from this laptop
    drop: list[tuple[str, str]] = field(default_factory=list)
    keep: dict[tuple[str, str], str] = field(default_factory=dict)  # -> why
    held: list[tuple[str, str]] = field(default_factory=list)


def give_back(session: Session, transport: Transport, summary) -> None:
    """Give back everything the server's current generation lacks, then take its epoch and
    cursor 0 (with the drops and keeps it answered) in one transaction."""
    known = _stored_epoch(session)
    for attempt in range(3):  # the epoch may move again while we give back
        try:
            outcome = _offer_and_give(session, transport, known, _held_keys(session))
            break
        except SyncFailed as e:
            if e.code != P.EPOCH_CHANGED or attempt == 2:
                raise
    db = session.db
    with db.atomic():
        summary.repaired_rows += _settle(session, outcome, summary)
        db.execute("UPDATE sync_state SET server_epoch = ?, pull_cursor = '0', "
                   "last_op_id = NULL WHERE id = 1", [outcome.epoch])
    summary.returned += outcome.returned
    summary.rebuilt = True


def ask(session: Session, transport: Transport, keys: list[tuple[str, str]], summary) -> int:
    """Within this generation, ask the server about records this laptop holds that its
    manifest lacks or holds at a lower version; act on the answers. A record the server
    confirmed and has forgotten makes it begin a new generation (409 epoch_changed, raised
    for the engine). Returns how many local rows changed."""
    if not keys:
        return 0
    known, held = _stored_epoch(session), _held_keys(session, set(keys))
    if not held:  # rows gone meanwhile (say, a withdrawn note): nothing to ask about
        with session.db.atomic():
            return _settle(session, Outcome(held=list(keys)), summary)
    outcome = _offer_and_give(session, transport, known, held)
    outcome.held += set(keys) - {(k["table"], k["id"]) for k in held}
    if outcome.epoch != known:
        raise SyncFailed("the server's history generation changed", P.EPOCH_CHANGED)
    summary.returned += outcome.returned
    with session.db.atomic():
        return _settle(session, outcome, summary)


def ask_again(session: Session, transport: Transport, summary) -> int:
    """Ask once more about the records kept because the server lacked them."""
    keys = [tuple(k) for k in session.db.execute("SELECT table_name, record_id FROM unreturned")]
    changed = ask(session, transport, keys, summary)
    summary.unreturned = count_unreturned(session)
    return changed


def count_unreturned(session: Session) -> int:
    return session.db.execute("SELECT count(*) FROM unreturned").fetchone()[0]


def unreturned_keys(session: Session) -> set[tuple[str, str]]:
    return set(session.db.execute("SELECT table_name, record_id FROM unreturned"))


def held_again(db, records: list[dict]) -> None:
    """Pulled rows: the server holds them, so they are no longer kept back (call inside the
    pull's transaction)."""
    if records and db.execute("SELECT 1 FROM unreturned LIMIT 1").fetchone():
        db.conn.executemany("DELETE FROM unreturned WHERE table_name = ? AND record_id = ?",
                            [(r["table"], r["id"]) for r in records])


def _stored_epoch(session: Session) -> str | None:
    return session.db.execute("SELECT server_epoch FROM sync_state WHERE id = 1").fetchone()[0]


def _held_keys(session: Session, only: set[tuple[str, str]] | None = None) -> list[dict]:
    """What this laptop holds, as the offer names it: every record (this device's audit
    events among them) but those whose create is still in the outbox (the op carries them).
    The stamp is the one of the copy the server confirmed: for a record with pending edits,
    the stamp it had before the first of them."""
    db = session.db
    first_ops = {}
    for table, record_id, kind, base_hlc, hlc in db.execute(
            "SELECT table_name, record_id, kind, base_hlc, hlc FROM outbox "
            "WHERE state IN ('pending', 'rejected') ORDER BY seq"):
        first_ops.setdefault((table, record_id), (kind, base_hlc or hlc))
    kept_back = unreturned_keys(session)
    keys = []
    for table in GIVEN_TABLES:
        if only is not None and not any(t == table for t, _ in only):
            continue
        mine = "WHERE device = ?" if table == AUDIT_TABLE else ""
        for record_id, version, stamp in db.execute(
                f"SELECT id, server_version, updated_hlc FROM [{table}] {mine}",
                [session.device_id] if mine else []):
            key = (table, record_id)
            if only is not None and key not in only:
                continue
            first = first_ops.get(key)
            if first and first[0] in ("create", "append"):
                continue
            keys.append({"table": table, "id": record_id, "version": version,
                         "updated_hlc": first[1] if first else stamp,
                         "confirmed": key not in kept_back and table != AUDIT_TABLE
                         and (version > 0 or first is None)})
    return keys


def _offer_and_give(session: Session, transport: Transport, known: str | None,
                    keys: list[dict]) -> Outcome:
    outcome = Outcome()
    params = {"known": known} if known else None
    for start in range(0, max(len(keys), 1), P.OFFER_MAX_KEYS):
        chunk = keys[start:start + P.OFFER_MAX_KEYS]
        answer = transport.call("POST", "/recovery/offer", params=params, body={"keys": chunk})
        if outcome.epoch not in (None, answer["epoch"]):
            raise SyncFailed("the server's history generation changed", P.EPOCH_CHANGED)
        outcome.epoch = answer["epoch"]
        said = {a["id"]: a["answer"] for a in answer["answers"]}
        wanted = []
        for k in chunk:
            key, what = (k["table"], k["id"]), said.get(k["id"])
            if what == P.SEND:
                wanted.append(key)
            elif what in (P.GONE, P.OUT_OF_SCOPE):
                outcome.drop.append(key)
            elif what == P.NOT_YOURS:
                outcome.keep[key] = "the server lacks it and this user may not give it back"
            elif what == P.HELD:
                outcome.held.append(key)
        for at in range(0, len(wanted), P.RETURN_MAX_RECORDS):
            _give(session, transport, outcome, wanted[at:at + P.RETURN_MAX_RECORDS])
    return outcome


def _give(session: Session, transport: Transport, outcome: Outcome,
          keys: list[tuple[str, str]]) -> None:
    records = _copies(session, keys)
    results = transport.call("POST", "/recovery/records", params={"epoch": outcome.epoch},
                             body={"records": records})["results"]
    table_of = {r["id"]: r["table"] for r in records}
    for result in results:
        key, status = (table_of.get(result["id"]), result["id"]), result["status"]
        if status in (P.RESTORED, P.MERGED):
            outcome.returned += 1
            outcome.held.append(key)
        elif status == P.UNCHANGED:
            outcome.held.append(key)
        elif status == P.GONE:
            outcome.drop.append(key)
        else:
            outcome.keep[key] = str(result.get("reason") or status)[:500]


def _copies(session: Session, keys: list[tuple[str, str]]) -> list[dict]:
    """The records as the server last confirmed them: the row, with fields a pending or
    rejected op changed set back to that op's base values, and live if one deletes it."""
    db, by_table = session.db, {}
    for table, record_id in keys:
        by_table.setdefault(table, []).append(record_id)
    copies = {}
    for table, ids in by_table.items():
        names = RECORD_TYPES[table].field_names
        columns = ", ".join(f"[{c}]" for c in ("id", "deleted", "created_hlc", "updated_hlc",
                                               "author", "device", *names))
        for row in db.execute(f"SELECT {columns} FROM [{table}] WHERE id IN "
                              f"({', '.join('?' for _ in ids)})", ids):
            record_id, deleted, created, updated, author, device, *values = row
            copies[record_id] = {"table": table, "id": record_id, "deleted": bool(deleted),
                                 "created_hlc": created, "updated_hlc": updated,
                                 "author": author, "device": device,
                                 "fields": dict(zip(names, values))}
    for table, record_id, base, base_hlc, hlc in db.execute(
            "SELECT table_name, record_id, base, base_hlc, hlc FROM outbox "
            "WHERE state IN ('pending', 'rejected') ORDER BY seq DESC"):
        copy = copies.get(record_id)
        if copy is None or copy["table"] != table:
            continue
        copy["fields"].update(json.loads(base))  # the earliest op's base is applied last
        copy["deleted"], copy["updated_hlc"] = False, base_hlc or hlc
    return [copies[record_id] for _table, record_id in keys if record_id in copies]


def _settle(session: Session, outcome: Outcome, summary) -> int:
    """Drop what the server said to drop (children before parents, never a row with pending
    ops), keep back what it could not take, and stop keeping back what it now holds; in the
    caller's transaction. Returns how many rows were dropped (their tables noted on the
    session and the summary, so open screens redraw)."""
    db = session.db
    pending = set(db.execute("SELECT DISTINCT table_name, record_id FROM outbox "
                             "WHERE state IN ('pending', 'rejected')"))
    dropped = 0
    for table, record_id in sorted(outcome.drop, key=lambda k: k[0] in _PARENTS):
        if (table, record_id) in pending:
            continue
        db.execute("SAVEPOINT drop_row")
        try:
            if db.execute(f"DELETE FROM [{table}] WHERE id = ?", [record_id]).rowcount:
                dropped += 1
                summary.tables.add(table)
                session.note_changed(table)
            db.execute("RELEASE drop_row")
        except sqlcipher3.IntegrityError:  # a child this user still holds points to it: keep it
            db.execute("ROLLBACK TO drop_row")
            db.execute("RELEASE drop_row")
    done = [*outcome.drop, *outcome.held]
    db.conn.executemany("DELETE FROM unreturned WHERE table_name = ? AND record_id = ?", done)
    db.conn.executemany(
        "INSERT INTO unreturned (table_name, record_id, reason, since) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (table_name, record_id) DO UPDATE SET reason = excluded.reason",
        [(t, i, why, now_iso()) for (t, i), why in outcome.keep.items()])
    return dropped
