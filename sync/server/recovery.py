"""What laptops give back after the server's history went back (sync/server/restore.py), and
the log of it.

A laptop first offers the (table, id, version, stamp) of every record it holds; the server
answers each: held (nothing to do), send, deleted (its tombstone was compacted away), out of
scope (this user may no longer hold it, and the copy holds nothing the server lacks), or not
yours (the server lacks it, or this copy, and this user may not write it: the laptop keeps
it, asks again later, and the log says which device holds it). The laptop then gives back
the records asked for, with their original ids, fields, clock stamps and authors.

Taking a record back is order-independent and idempotent, so the laptops may come back in any
order and a retried request changes nothing more:
- a record the server lacks is restored as given (version 1, a new change_seq);
- append-only records are never changed once here;
- a mutable record merges field by field: each field keeps the value with the later clock
  stamp (the given copy's stamp is its updated_hlc; a tie goes to the larger value), and the
  deleted flag goes with the later of the two updated_hlc (a tie to deleted). Any change makes
  a new version, so every laptop pulls the result.
A caller gives back only what its role may write in its own teams, and audit events only of
its own device: an officer holding a clinical note under a release keeps it until a
clinician returns it. Within that, a copy's author and clock stamps are taken as given (the
server cannot tell them from the lost originals), so the log (`recovery`) names the device and
user behind every record restored or changed this way, with the author the record claims.
"""

import json
from collections import Counter, defaultdict

from sqlalchemy import func, select

from fieldapp.clock import parse_stamp
from fieldapp.errors import ValidationError
from fieldapp.records import RECORD_TYPES, RecordType
from fieldapp.timeutil import now_iso

from .. import protocol as P
from . import audit, change_log, disclosures, restore
from .accounts import Caller
from .db import insert_rows, read_meta
from .exchange import _Batch, _load, _validated, _write  # the same batch writes as a push
from .tables import device, record, recovery

AUDIT_TABLE = "audit_event"
KEPT = "kept_on_laptop"


def may_give_back(caller: Caller, table: str) -> bool:
    """Whether this caller's role writes `table` (team scope and authorship come on top)."""
    rt = RECORD_TYPES.get(table)
    if rt is None:
        return False
    if rt.clinical:
        return caller.role == "clinician"
    return P.may_write(caller.role, table)


def _writable_fields(caller: Caller, rt: RecordType) -> tuple[str, ...] | None:
    """The fields of an existing record this caller may change (None: all). Outside clinical
    staff, a release may only be marked revoked (disclosures.release_write_problem), so
    such a caller never restores a release the server lacks."""
    if rt.table == disclosures.RELEASE_TABLE and caller.role not in P.CLINICAL_ROLES:
        return ("revoked_at",)
    return None


def _may_restore(caller: Caller, table: str) -> bool:
    """Whether this caller may give back a record the server lacks altogether."""
    return may_give_back(caller, table) and _writable_fields(caller, RECORD_TYPES[table]) is None


def offer(conn, caller: Caller, known: str | None, keys: list[dict]) -> dict | restore.Behind:
    """Answer, for each record a laptop offers, what it should do with it. `known` is the
    epoch the laptop's copy comes from: when it is the current one, versions compare, and a
    record or version this server never had proves it forgot changes (a new generation)."""
    epoch = read_meta(conn, "epoch")
    same_generation = known == epoch
    ids = [k["id"] for k in keys]
    rows = {r.id: r for r in conn.execute(select(
        record.c.id, record.c.table_name, record.c.team, record.c.version, record.c.updated_hlc,
        record.c.author, record.c.device).where(record.c.id.in_(ids)))}
    compacted = restore.ever_applied(conn, [i for i in ids if i not in rows])
    readable = {t for t in RECORD_TYPES if P.may_read(caller.role, t)}
    covered = (disclosures.covered_notes(conn, caller)
               if any(k["table"] == disclosures.NOTE_TABLE for k in keys) else {})
    answers, kept, withdrawn = [], {}, {}
    for k in keys:
        row, table = rows.get(k["id"]), k["table"]
        # A copy this generation gave the laptop: its version compares with ours.
        from_here = same_generation and k["confirmed"]
        if row is None:
            if k["id"] in compacted:
                answer = P.GONE
            elif from_here:
                return restore.forgot(conn, caller, f"it holds {table} {k['id']}, which this "
                                                    "server never had", epoch)
            else:
                answer = P.SEND if _may_restore(caller, table) else P.NOT_YOURS
        elif row.table_name != table:
            answer = P.NOT_YOURS
        elif from_here and k["version"] > row.version:
            return restore.forgot(conn, caller, f"it holds {table} {row.id} at version "
                                                f"{k['version']}; this server has {row.version}",
                                  epoch)
        elif (from_here or RECORD_TYPES[table].append_only
              or (row.version, row.updated_hlc) == (k["version"], k["updated_hlc"])):
            # Nothing the server lacks: the laptop keeps it if it may, else drops it.
            answer = P.HELD if _in_scope(caller, row, readable, covered) else P.OUT_OF_SCOPE
        elif not _in_scope(caller, row, readable, covered):
            answer = P.NOT_YOURS  # it may carry changes the server lost: kept, asked again
        else:
            answer = P.SEND if may_give_back(caller, table) else P.HELD
        if answer == P.OUT_OF_SCOPE and table == disclosures.NOTE_TABLE:
            withdrawn[row.id] = []
        if answer == P.NOT_YOURS:
            kept[k["id"]] = (table, f"the server lacks it, or this copy, and a "
                                    f"{caller.role} of teams {', '.join(caller.teams)} "
                                    "may not give it back")
        answers.append({"id": k["id"], "answer": answer})
    log_kept(conn, caller, kept)
    if disclosures.needs_release(caller):
        disclosures.log(conn, caller, disclosures.WITHDRAWN, withdrawn)
    return {"epoch": epoch, "answers": answers}


def _in_scope(caller: Caller, row, readable: set[str], covered: dict) -> bool:
    if row.team not in caller.teams:
        return False
    if row.table_name == AUDIT_TABLE:
        return (row.author, row.device) == (caller.username, caller.device_id)
    return row.table_name in readable or row.id in covered


def take_back(conn, caller: Caller, records: list[dict]) -> list[dict]:
    """Apply records a laptop gives back, in the caller's transaction, as a push does; one
    result per record, in order."""
    change_log.join_writers(conn)
    wanted = {r["id"] for r in records}
    wanted |= {r["fields"].get(P.PARENT_FIELDS[r["table"]][0]) for r in records
               if r["table"] in P.PARENT_FIELDS}
    loaded = _load(conn, [w for w in wanted if isinstance(w, str)])
    batch = _Batch(conn, caller, loaded, {i: r["version"] for i, r in loaded.items()})
    compacted = restore.ever_applied(conn, [r["id"] for r in records if r["id"] not in loaded])
    results, log, kept = [], [], {}
    for given in records:
        result = {"id": given["id"], **_take(batch, given, compacted)}
        results.append(result)
        if result["status"] in (P.RESTORED, P.MERGED):
            log.append((given, result["status"]))
        elif result["status"] == P.REJECTED:
            kept[given["id"]] = (given["table"], result["reason"])
    _write(conn, batch)
    log_kept(conn, caller, kept)
    epoch, at = read_meta(conn, "epoch"), now_iso()
    insert_rows(conn, recovery, [{
        "at": at, "epoch": epoch, "device_id": caller.device_id, "username": caller.username,
        "table_name": given["table"], "record_id": given["id"], "outcome": outcome,
        "detail": f"author {given['author']}, written on {given['device']}"[:200]}
        for given, outcome in log])
    if log:
        outcomes = Counter(outcome for _given, outcome in log)
        audit.record(conn, "recovery.returned", actor=caller.username,
                     device_id=caller.device_id, target=f"epoch:{epoch}",
                     detail={"records": len(log), P.RESTORED: outcomes[P.RESTORED],
                             P.MERGED: outcomes[P.MERGED]})
    return results


def _rejected(reason: str) -> dict:
    return {"status": P.REJECTED, "reason": reason}


def _take(batch: _Batch, given: dict, compacted: set[str]) -> dict:
    caller, table = batch.caller, given["table"]
    rt = RECORD_TYPES.get(table)
    if rt is None:
        return _rejected(f"unknown record table {table!r}")
    current = batch.records.get(given["id"])
    if current is not None and current["table_name"] != table:
        return _rejected(f"id {given['id']} belongs to a {current['table_name']} record")
    writable = _writable_fields(caller, rt)
    if not may_give_back(caller, table) or (current is None and writable is not None):
        return _rejected(f"a {caller.role} may not write this {table} record")
    if table == AUDIT_TABLE and (given["author"], given["device"]) != (
            caller.username, caller.device_id):
        return _rejected("only the device that wrote an audit event may give it back")
    if problem := _stamp_problem(given):
        return _rejected(problem)
    try:
        values = _validated(rt, given["fields"], partial=False)
    except ValidationError as e:
        return _rejected(str(e))
    if current is None:
        if given["id"] in compacted:
            return {"status": P.GONE}
        return _restore(batch, rt, given, values)
    if current["team"] not in caller.teams or values.get("team", current["team"]) \
            not in caller.teams:
        return _rejected(f"{table} {given['id']} belongs to team {current['team']!r}, "
                         f"which {caller.username} is not a member of")
    if rt.append_only:
        return {"status": P.UNCHANGED, "version": current["version"]}
    changed = _merge(current, rt, given, values, writable)
    batch.dirty.add(current["id"])  # written even when only field stamps moved
    if not changed:
        return {"status": P.UNCHANGED, "version": current["version"]}
    current["version"] += 1
    current["change_seq"] = batch.next_seq()
    return {"status": P.MERGED, "version": current["version"]}


def _stamp_problem(given: dict) -> str | None:
    for name in ("created_hlc", "updated_hlc"):
        try:
            parse_stamp(given[name])
        except ValueError:
            return f"{name}: {given[name]!r} is not a clock stamp"
    if given["created_hlc"] > given["updated_hlc"]:
        return "created_hlc is later than updated_hlc"
    return None


def _restore(batch: _Batch, rt: RecordType, given: dict, values: dict) -> dict:
    caller = batch.caller
    if "team" in values:
        team = values["team"]
    elif rt.table in P.PARENT_FIELDS:
        parent_field, parent_table = P.PARENT_FIELDS[rt.table]
        parent = batch.records.get(values[parent_field])
        if parent is None or parent["table_name"] != parent_table:
            return _rejected(f"{parent_field}: no {parent_table} {values[parent_field]} on "
                             "the server; give it back first")
        team = parent["team"]
    else:
        team = caller.teams[0]
    if team not in caller.teams:
        return _rejected(f"team: {caller.username} is not a member of team {team!r}")
    batch.add_new(rt, given["id"], team, values, stamp=given["updated_hlc"],
                  created_hlc=given["created_hlc"], author=given["author"],
                  device=given["device"], deleted=bool(given["deleted"]))
    return {"status": P.RESTORED, "version": 1}


def _merge(current: dict, rt: RecordType, given: dict, values: dict, writable) -> bool:
    """Lay a given copy over the server's row (see the module docstring); True when a value
    or the deleted flag changed. Field stamps move even when values agree, so that a copy
    seen later always outranks an earlier one, whichever comes back first."""
    stamp, changed = given["updated_hlc"], False
    if writable is None and (stamp, bool(given["deleted"])) > (
            current["updated_hlc"], bool(current["deleted"])):
        if bool(given["deleted"]) != bool(current["deleted"]):
            current["deleted"], changed = bool(given["deleted"]), True
    for name in writable or rt.field_names:
        mine, theirs = values.get(name), current["data"].get(name)
        theirs_at = current["field_hlc"].get(name, current["created_hlc"])
        if (stamp, _order(mine)) > (theirs_at, _order(theirs)):
            current["data"][name], current["field_hlc"][name] = mine, stamp
            changed = changed or mine != theirs
    if stamp > current["updated_hlc"] and (writable is None or changed):
        # the given copy is the latest write: its author too
        current["updated_hlc"], changed = stamp, True
        current["author"], current["device"] = given["author"], given["device"]
    return changed


def _order(value) -> str:
    return json.dumps(value, sort_keys=True)


def log_kept(conn, caller: Caller, kept: dict[str, tuple[str, str]]) -> None:
    """Log once per generation each record (id -> table, why) this device holds and could
    not give back, so the admin knows where the last copy is."""
    if not kept:
        return
    epoch = read_meta(conn, "epoch")
    logged = set(conn.scalars(select(recovery.c.record_id).where(
        recovery.c.epoch == epoch, recovery.c.device_id == caller.device_id,
        recovery.c.outcome == KEPT, recovery.c.record_id.in_(list(kept)))))
    at, new = now_iso(), [(rid, table, why) for rid, (table, why) in sorted(kept.items())
                          if rid not in logged]
    insert_rows(conn, recovery, [{
        "at": at, "epoch": epoch, "device_id": caller.device_id, "username": caller.username,
        "table_name": table, "record_id": rid, "outcome": KEPT, "detail": why[:200]}
        for rid, table, why in new])
    if new:
        audit.record(conn, "recovery.kept_on_laptop", actor=caller.username,
                     device_id=caller.device_id, target=f"epoch:{epoch}",
                     detail={"records": len(new),
                             "tables": sorted({table for _rid, table, _why in new})})


def report(conn) -> dict:
    """Each history generation, and per device what it gave back in it (or kept)."""
    counts = defaultdict(dict)
    keys = (recovery.c.epoch, recovery.c.device_id, recovery.c.username, recovery.c.outcome)
    for r in conn.execute(select(*keys, func.count().label("n"),
                                 func.min(recovery.c.at).label("first"),
                                 func.max(recovery.c.at).label("last")).group_by(*keys)):
        entry = counts[r.epoch].setdefault(r.device_id, {
            "device_id": r.device_id, "username": r.username, P.RESTORED: 0, P.MERGED: 0,
            KEPT: 0, "first_at": r.first, "last_at": r.last})
        entry[r.outcome] = r.n
        entry["first_at"] = min(entry["first_at"], r.first)
        entry["last_at"] = max(entry["last_at"], r.last)
    names = dict(conn.execute(select(device.c.id, device.c.name)).all())
    generations = restore.generations(conn)
    known = {g["epoch"] for g in generations}
    # Give-backs into the epoch `init` made: laptops meeting a database created anew.
    generations[:0] = [{"epoch": e, "started_at": None, "reason": "init", "detail": "",
                        "newest_change": 0} for e in sorted(set(counts) - known)]
    for g in generations:
        g["devices"] = sorted(counts.get(g["epoch"], {}).values(), key=lambda d: d["first_at"])
        for d in g["devices"]:
            d["device_name"] = names.get(d["device_id"], "")
    return {"epoch": read_meta(conn, "epoch"), "generations": generations}

