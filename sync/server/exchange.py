"""The server's half of the exchange: apply pushed ops once each, serve pulls, check sums.

A push batch runs in one transaction. It locks the records it reads (PostgreSQL; on SQLite
every writer holds the database lock), so two pushes to one record take turns while pushes to
different records run side by side, and takes its change_seq values as it writes
(change_log.py), which also says why a pull that serves only below its bound never lets a
cursor skip a row committed late. applied_op rows are written in the same transaction as the
changes they record, so an op is either applied and remembered, or neither. Two pushes that
race to create one record, or to apply one op, make the database refuse the later one; the
request is then run again (db.retried) and finds the first.

Mutable records merge field by field: a field whose server value still equals the op's base
takes the new value; a field changed on both sides goes to the later clock stamp (a
deterministic winner) and the other value is kept in `conflict`. A delete that meets an edit
it had not seen keeps the record and is flagged. Append-only records never conflict. A record
type that merges creates (an encounter, whose id two laptops derive from one assignment) takes
a second create of its id as such a merge, against an empty base.
"""

import json
from dataclasses import dataclass, field
from functools import cache

from sqlalchemy import bindparam, delete, func, insert, or_, select, update

from fieldapp.clock import format_stamp
from fieldapp.errors import ValidationError
from fieldapp.ids import new_id
from fieldapp.records import RECORD_TYPES, Field, RecordType, referral_problems, release_problems
from fieldapp.timeutil import now_iso, utc_now
from fieldapp.validation import normalise

from .. import protocol as P
from . import agency_settings, audit, change_log, crc_status, disclosures, record_sums, stored
from .accounts import Caller
from .db import among, insert_rows, read_meta, read_metas
from .tables import applied_op, conflict, meta, record


class CursorExpired(Exception):
    """The laptop's cursor is older than the oldest change this server still describes."""


@dataclass
class _Batch:
    conn: object
    caller: Caller
    records: dict[str, dict]  # id -> row (data parsed; field_hlc as stored.stamps_from)
    loaded_versions: dict[str, int] = field(default_factory=dict)  # as read, before this batch
    new: set[str] = field(default_factory=set)
    dirty: set[str] = field(default_factory=set)
    applied: list[dict] = field(default_factory=list)
    conflicts: list[dict] = field(default_factory=list)
    stamp_limit_ms: int = 0  # clock stamps beyond this wall time are clamped to it
    clamped: list[str] = field(default_factory=list)  # the stamps as sent, when clamped
    changes: int = 0

    def next_seq(self) -> int:
        """A stand-in for the record's next change_seq: negative, in the order taken; _write
        puts real values, taken as late as possible, in their place."""
        self.changes += 1
        return -self.changes

    def add_new(self, rt: RecordType, record_id: str, team: str, values: dict, *, stamp: str,
                created_hlc: str, author: str, device: str, deleted: bool = False) -> None:
        """A record this batch creates, at version 1, every field stamped `stamp`. Its flags
        are 0 or 1, which both databases take for a boolean: Python's sqlite3 looks for an
        adapter for a bool, at about the cost of the rest of the row's binding."""
        self.records[record_id] = {
            "id": record_id, "table_name": rt.table, "team": team, "clinical": int(rt.clinical),
            "version": 1, "change_seq": self.next_seq(), "deleted": int(deleted), "data": values,
            "field_hlc": {} if stamp == created_hlc else dict.fromkeys(values, stamp),
            "created_hlc": created_hlc,
            "updated_hlc": stamp, "author": author, "device": device}
        self.new.add(record_id)
        self.dirty.add(record_id)


def push(conn, caller: Caller, ops: list[dict], *, joined: bool = False) -> list[dict]:
    """Apply a batch of ops in the caller's transaction; one result per op, in order.
    `joined`: the transaction is one of the writers already (change_log.join_writers)."""
    if not joined:
        change_log.join_writers(conn)
    seen = {r.op_id: stored.result_from(r.op_id, r.result) for r in conn.execute(
        _applied_read(conn.dialect.name),
        {"device": caller.device_id, "ids": json.dumps([op["op_id"] for op in ops])})}
    wanted = {op["record_id"] for op in ops}
    wanted |= {ref[2] for op in ops if (ref := _parent(op["table"], op["fields"]))
               and isinstance(ref[2], str) and P.RECORD_ID.fullmatch(ref[2])}  # no other is one
    loaded = _load(conn, list(wanted))
    batch = _Batch(conn, caller, loaded, {i: r["version"] for i, r in loaded.items()},
                   stamp_limit_ms=clock_limit_ms(conn))

    results, blocked, applied_at = [], set(), now_iso()
    for op in ops:
        if op["op_id"] in seen:
            results.append({"op_id": op["op_id"], "status": P.DUPLICATE,
                            "original": seen[op["op_id"]]})
            continue
        if op["record_id"] in blocked:
            results.append({"op_id": op["op_id"], "status": P.DEFERRED,
                            "reason": "an earlier op on this record was rejected"})
            continue
        result = {"op_id": op["op_id"], **_apply(batch, op)}
        if result["status"] == P.REJECTED:
            blocked.add(op["record_id"])
        seen[op["op_id"]] = result
        batch.applied.append({
            "device_id": caller.device_id, "op_id": op["op_id"], "table_name": op["table"][:64],
            "record_id": op["record_id"], "result": stored.result_text(result),
            "applied_at": applied_at})
        results.append(result)
    _write(conn, batch)
    if batch.clamped:
        audit.record(conn, "clock.clamped", actor=caller.username, device_id=caller.device_id,
                     target=f"device:{caller.device_id}", outcome="flagged", detail={
                         "ops": len(batch.clamped), "latest_sent": max(batch.clamped),
                         "clamped_to_ms": batch.stamp_limit_ms})
    return results


def clock_limit_ms(conn) -> int:
    """The latest wall time a stamp may carry: the server's clock plus the agency's bound."""
    bound = agency_settings.read(conn)["clock_skew_max_minutes"]
    return int(utc_now().timestamp() * 1000) + bound * 60_000


def _parent(table: str, fields) -> tuple[str, str, object] | None:
    """(field, table, id) of the record this one belongs to, whose team it takes: the parent a
    laptop's foreign key needs, or the record a conflict resolution settles."""
    if not isinstance(fields, dict):
        return None
    if table in P.PARENT_FIELDS:
        name, parent_table = P.PARENT_FIELDS[table]
        return name, parent_table, fields.get(name)
    if table == "conflict_resolution":
        return "record_id", fields.get("record_table"), fields.get("record_id")
    return None


# The push's two reads are built once per kind of database: building a statement costs about
# as much CPU as running it.
@cache
def _applied_read(dialect: str):
    """Which of these ops (ids) this device had applied already, with their results."""
    return select(applied_op.c.op_id, applied_op.c.result).where(
        applied_op.c.device_id == bindparam("device"), among(dialect, applied_op.c.op_id, "ids"))


@cache
def _records_read(dialect: str):
    """These records (ids), locked until the transaction ends, in id order so that two
    writers never wait for each other's locks."""
    return (select(record).where(among(dialect, record.c.id, "ids"))
            .order_by(record.c.id).with_for_update())


def _load(conn, ids: list[str]) -> dict[str, dict]:
    """These records as they are, locked until the transaction ends (_records_read)."""
    rows = {}
    for r in conn.execute(_records_read(conn.dialect.name), {"ids": json.dumps(ids)}).mappings():
        row = dict(r)
        row["data"] = json.loads(row["data"])
        row["field_hlc"] = stored.stamps_from(row["field_hlc"])
        rows[row["id"]] = row
    return rows


def _write(conn, batch: _Batch) -> None:
    fresh = sorted((row for row in batch.records.values() if row["change_seq"] < 0),
                   key=lambda row: -row["change_seq"])
    for row, seq in zip(fresh, change_log.take(conn, len(fresh)), strict=True):
        row["change_seq"] = seq

    def dumped(row):
        return {**row, "data": stored.fields_text(row["data"]),
                "field_hlc": stored.stamps_text(row["field_hlc"], row["created_hlc"])}

    insert_rows(conn, record, [dumped(batch.records[i]) for i in sorted(batch.new)])
    changed = batch.dirty - batch.new
    if changed:
        columns = ("version", "change_seq", "deleted", "data", "field_hlc", "updated_hlc",
                   "author", "device")
        conn.execute(
            update(record).where(record.c.id == bindparam("b_id"))
            .values({c: bindparam(f"b_{c}") for c in columns}),
            [{"b_id": i, **{f"b_{c}": v for c, v in dumped(batch.records[i]).items()
                            if c in columns}} for i in changed])
    insert_rows(conn, applied_op, batch.applied)
    insert_rows(conn, conflict, batch.conflicts)
    sums = record_sums.Changes()
    for i in batch.dirty:
        row = batch.records[i]
        if i in batch.new:
            sums.add(row["team"], row["table_name"], i, row["version"], row["change_seq"])
        else:
            sums.replace(row["team"], row["table_name"], i, batch.loaded_versions[i],
                         row["version"], row["change_seq"])
    _settle_conflicts(conn, batch)
    sums.write(conn)  # last: other writers of the team wait for these rows until commit


def _settle_conflicts(conn, batch: _Batch) -> None:
    """A conflict_resolution in this batch settles the open conflicts on its record and field,
    so no supervisor sees them again (laptops do the same when they pull it)."""
    for rid in batch.new:
        row = batch.records[rid]
        if row["table_name"] != "conflict_resolution":
            continue
        data = row["data"]
        conn.execute(update(conflict).where(
            conflict.c.table_name == data["record_table"], conflict.c.record_id == data["record_id"],
            conflict.c.field == data["field"], conflict.c.resolved_at.is_(None))
            .values(resolved_at=now_iso()))


REASON_MAX = 1000  # characters: a reason quotes what was sent, and is kept with the op for good


def _rejected(reason: str) -> dict:
    """A rejection; its reason cut short, since it may quote every unknown field a hostile
    client sent, and applied_op keeps it."""
    if len(reason) > REASON_MAX:
        reason = reason[:REASON_MAX - 1] + "…"
    return {"status": P.REJECTED, "reason": reason}


def _apply(batch: _Batch, op: dict) -> dict:
    caller, table, record_id, kind = batch.caller, op["table"], op["record_id"], op["kind"]
    rt = RECORD_TYPES.get(table)
    if rt is None:
        return _rejected(f"unknown record table {table!r}")
    if kind not in P.OP_KINDS:
        return _rejected(f"unknown op kind {kind!r}")
    if rt.append_only and kind != "append":
        return _rejected(f"{table} records are append-only; only 'append' ops are accepted")
    if not rt.append_only and kind == "append":
        return _rejected(f"{table} records are created with 'create', not 'append'")
    if rt.clinical and caller.role != "clinician":
        return _rejected(f"only clinicians may write {table} records")
    if not P.may_write(caller.role, table):
        who = ("CRC intake staff, on the intake board," if table in P.INTAKE_ONLY
               else "supervisors")
        if caller.role == P.INTAKE_ROLE:
            return _rejected(f"CRC intake accounts may not write {table} records")
        return _rejected(f"only {who} may write {table} records")
    if table == disclosures.RELEASE_TABLE and (
            problem := disclosures.release_write_problem(caller, kind, op["fields"])):
        return _rejected(problem)
    if not isinstance(op["fields"], dict) or not isinstance(op["base"], dict):
        return _rejected("fields and base must be JSON objects")
    for name in rt.writer_names:
        if op["fields"].get(name) not in (None, caller.username):
            return _rejected(f"{name}: names who wrote it, so it can only be "
                             f"{caller.username!r} in {caller.username}'s change")
    if not P.STAMP.fullmatch(op["hlc"]):
        return _rejected(f"hlc: {op['hlc']!r} is not a clock stamp "
                         "(<13-digit ms>-<5-digit counter>-<device>)")
    if int(op["hlc"][:13]) > batch.stamp_limit_ms:  # a clock far ahead: flagged, never refused
        batch.clamped.append(op["hlc"])
        op = {**op, "hlc": format_stamp(batch.stamp_limit_ms, int(op["hlc"][14:19]),
                                        op["hlc"][20:])}
    current = batch.records.get(record_id)
    if current is not None and current["table_name"] != table:
        return _rejected(f"id {record_id} belongs to a {current['table_name']} record")
    if kind in ("create", "append"):
        if current is None:
            return _create(batch, rt, op)
        if current["created_hlc"] == op["hlc"]:
            # This very create, applied before a restore and given back since by a laptop
            # that had pulled it (recovery.py): applied, once.
            return {"status": P.APPLIED, "version": current["version"]}
        if kind == "create" and rt.merge_creates and current["team"] in caller.teams:
            return _merge_create(batch, rt, op, current)
        return _rejected(f"{table} {record_id} already exists on the server")
    if current is None or current["team"] not in caller.teams:
        return _rejected(f"no {table} {record_id} on the server")
    if kind == "patch":
        return _patch(batch, rt, op, current)
    return _delete(batch, op, current)


def _validated(rt: RecordType, fields: dict, partial: bool) -> dict:
    """Check stored-form values with the same rules the laptop uses."""
    values = dict(fields)
    for name in rt.list_names:
        if isinstance(values.get(name), str):
            try:
                values[name] = P.strict_json(values[name])
            except (ValueError, RecursionError):
                raise ValidationError(rt.table, {name: "must be a JSON list"}) from None
    values = normalise(rt, values, partial=partial)  # also refuses NUL and lone surrogates
    if rt.table == disclosures.RELEASE_TABLE and (problems := release_problems(values)):
        raise ValidationError(rt.table, problems)
    if rt.table == "referral" and not partial and (problems := referral_problems(values)):
        raise ValidationError(rt.table, problems)
    return values


def _create(batch: _Batch, rt: RecordType, op: dict) -> dict:
    try:
        values = _validated(rt, op["fields"], partial=False)
    except ValidationError as e:
        return _rejected(str(e))
    caller = batch.caller
    if parent := _parent(rt.table, values):  # a child is its parent's team, whatever it says
        name, parent_table, parent_id = parent
        row = batch.records.get(parent_id)
        if (row is None or row["table_name"] != parent_table or row["team"] not in caller.teams
                or (row["deleted"] and rt.table in P.PARENT_FIELDS)):
            return _rejected(f"{name}: no {parent_table} {parent_id} on the server")
        team = row["team"]
        if "team" in values:
            values["team"] = team
    elif "team" in values:
        team = values["team"]
    else:
        team = caller.teams[0]
    if team not in caller.teams:
        return _rejected(f"team: {caller.username} is not a member of team {team!r}")
    batch.add_new(rt, op["record_id"], team, values, stamp=op["hlc"], created_hlc=op["hlc"],
                  author=caller.username, device=caller.device_id)
    return {"status": P.APPLIED, "version": 1}


def _touch(batch: _Batch, row: dict, hlc: str) -> None:
    """Every accepted patch or delete gives the record a new version and change_seq, so the
    pushing laptop pulls the merged result back."""
    row["version"] += 1
    row["change_seq"] = batch.next_seq()
    row["updated_hlc"] = max(row["updated_hlc"], hlc)
    row["author"], row["device"] = batch.caller.username, batch.caller.device_id
    batch.dirty.add(row["id"])


def _conflict(batch: _Batch, op: dict, field_name: str, kept, other) -> dict:
    entry = {"id": new_id(), "table_name": op["table"], "record_id": op["record_id"],
             "field": field_name, "kept_value": json.dumps(kept), "other_value": json.dumps(other),
             "op_id": op["op_id"], "device_id": batch.caller.device_id,
             "detected_at": now_iso()}
    batch.conflicts.append(entry)
    return {"field": field_name, "kept": kept, "other": other}


def _patch(batch: _Batch, rt: RecordType, op: dict, row: dict) -> dict:
    try:
        values = _validated(rt, op["fields"], partial=True)
    except ValidationError as e:
        return _rejected(str(e))
    if "team" in values and values["team"] != row["data"].get("team"):
        return _rejected("team: a record stays in the team it was created in")
    if ((parent := _parent(rt.table, values)) and parent[0] in values
            and parent[2] != row["data"].get(parent[0])):  # moved to another parent
        name, parent_table, parent_id = parent
        moved_to = batch.records.get(parent_id)
        if (moved_to is None or moved_to["table_name"] != parent_table
                or moved_to["team"] != row["team"] or moved_to["deleted"]):
            return _rejected(f"{name}: no {parent_table} {parent_id} in this record's team")
    hlc, base, found = op["hlc"], op["base"], []
    if row["deleted"]:  # an edit against a delete keeps the record, flagged
        row["deleted"] = False
        found.append(_conflict(batch, op, P.DELETE_FIELD, "kept: edited", "deleted"))
    for name, new in values.items():
        now = row["data"].get(name)
        if now == new:
            continue
        if name not in base or base[name] == now:
            row["data"][name], row["field_hlc"][name] = new, hlc
            continue
        if hlc > row["field_hlc"].get(name, row["created_hlc"]):
            row["data"][name], row["field_hlc"][name] = new, hlc
            found.append(_conflict(batch, op, name, new, now))
        else:
            found.append(_conflict(batch, op, name, now, new))
    _touch(batch, row, hlc)
    status = P.CONFLICT if found else P.APPLIED
    return {"status": status, "version": row["version"], "conflicts": found}


def _merge_create(batch: _Batch, rt: RecordType, op: dict, row: dict) -> dict:
    """A second create of a record that merges creates (two laptops that documented one call,
    under the id derived from its assignment): merged field by field, as a patch whose base
    is an empty record. A value only one side gave is kept whichever came first (an unchecked
    flag gives nothing); a list of references keeps both sides' items; two different values of
    one field follow the patch rule (the later stamp wins, the other is kept in `conflict`)."""
    try:
        values = _validated(rt, op["fields"], partial=False)
    except ValidationError as e:
        return _rejected(str(e))
    if values.get("team", row["team"]) != row["team"]:
        return _rejected(f"team: {op['record_id']} belongs to team {row['team']!r}")
    hlc, found = op["hlc"], []
    if row["deleted"]:
        row["deleted"] = False
        found.append(_conflict(batch, op, P.DELETE_FIELD, "kept: created again", "deleted"))
    for name, new in values.items():
        now, f = row["data"].get(name), rt.field(name)
        if _unset(f, new) or now == new:
            continue
        if _unset(f, now):
            row["data"][name], row["field_hlc"][name] = new, hlc
        elif f.type is list and f.references:
            items = json.loads(now)
            items += [i for i in json.loads(new) if i not in items]
            row["data"][name] = json.dumps(items, ensure_ascii=False)
            row["field_hlc"][name] = max(hlc, row["field_hlc"].get(name, row["created_hlc"]))
        elif hlc > row["field_hlc"].get(name, row["created_hlc"]):
            row["data"][name], row["field_hlc"][name] = new, hlc
            found.append(_conflict(batch, op, name, new, now))
        else:
            found.append(_conflict(batch, op, name, now, new))
    _touch(batch, row, hlc)
    return {"status": P.CONFLICT if found else P.APPLIED, "version": row["version"],
            "conflicts": found}


def _unset(f: Field, value) -> bool:
    """A stored value that says nothing: no value, an unchecked flag, an empty list."""
    return (value is None or (f.type is bool and value == 0)
            or (f.type is list and value == "[]"))


def _edited_elsewhere(batch: _Batch, op: dict, row: dict) -> bool:
    """Whether another device changed the record after the version this delete was based on.
    The deleting device's own later edits (say, to a record it never synced) do not count."""
    if row["version"] <= op["base_version"]:
        return False
    others = batch.conn.execute(
        select(applied_op.c.result).where(applied_op.c.record_id == row["id"],
                                          applied_op.c.device_id != batch.caller.device_id))
    return any(stored.result_version(r.result) > op["base_version"] for r in others)


def _delete(batch: _Batch, op: dict, row: dict) -> dict:
    found = []
    if row["deleted"]:
        pass
    elif _edited_elsewhere(batch, op, row):
        found.append(_conflict(batch, op, P.DELETE_FIELD, "kept: edited elsewhere", "deleted"))
    else:
        row["deleted"] = True
    _touch(batch, row, op["hlc"])
    return {"status": P.CONFLICT if found else P.APPLIED, "version": row["version"],
            "conflicts": found}


# --- reading -------------------------------------------------------------------------------

def _visible(caller: Caller, covered: dict | None = None):
    """Conditions for the records this caller may hold: the tables their role reads, in their
    teams, plus the clinical notes releases cover for them (disclosures.covered_notes)."""
    readable = record.c.table_name.in_(_readable_tables(caller))
    if covered:
        readable = or_(readable, record.c.id.in_(list(covered)))
    return [record.c.team.in_(caller.teams), readable]


def _readable_tables(caller: Caller) -> list[str]:
    return [t for t in RECORD_TYPES if P.may_read(caller.role, t)]


def _wire(row) -> str:
    """A record as wire JSON text. Its fields go out as stored (the JSON this server wrote),
    not parsed and written again: the bulk of a pull page."""
    head = P.json_text({"table": row["table_name"], "id": row["id"], "version": row["version"],
                        "deleted": bool(row["deleted"]), "created_hlc": row["created_hlc"],
                        "updated_hlc": row["updated_hlc"], "author": row["author"],
                        "device": row["device"]})
    return f'{head[:-1]},"fields":{row["data"]}}}'


def pull(conn, caller: Caller, after: int, limit: int, *, sums: bool = False) -> dict:
    """Records this caller may see changed after `after`, in change order; parents that the
    laptop's foreign keys need come first even when their own change is later. The records
    are wire JSON texts (_wire). With `sums`, the last page carries the summary, and the
    first page of a first sync how many records come (`total`, its progress), read with the
    notes the page was served under.

    For a reader who sees clinical notes only under a release, the page also carries notes a
    release came to cover after the cursor passed them, and `withdrawn`: the notes this
    device was sent whose cover has ended, for the laptop to delete. Every page carries the
    agency's settings (`agency`) and the CRC's posted status (`crc_status`), so laptops
    follow a change on their next sync, and the caller's role and teams (`scope`), so a
    laptop shrinks its copy when they change."""
    settings = agency_settings.read(conn)
    covered = disclosures.covered_notes(conn, caller, settings)
    below = change_log.servable_below(conn)
    rows = conn.execute(
        select(record).where(record.c.change_seq > after, *_visible(caller, covered),
                             *([record.c.change_seq < below] if below is not None else []))
        .order_by(record.c.change_seq).limit(limit + 1)).mappings().all()
    # Checked after the read: a compaction that committed before it raised the horizon, and
    # one that commits after it could not take tombstones this page already holds. Cursor 0
    # is a full copy, which needs no tombstones, so it never expires.
    known = read_metas(conn, "epoch", HORIZON_KEY)
    oldest = int(known[HORIZON_KEY] or 0)
    if 0 < after < oldest:
        raise CursorExpired(f"cursor {after} is older than this server keeps deletions for "
                            f"(horizon {oldest}); pull again from 0")
    more = len(rows) > limit
    rows = rows[:limit]
    withdrawn = {}
    if disclosures.needs_release(caller):
        held = disclosures.held(conn, caller)
        late = [i for i in covered if i not in held]
        if late:
            rows = [*rows, *conn.execute(select(record).where(
                record.c.id.in_(late), record.c.change_seq <= after)).mappings().all()]
        withdrawn = {i: [] for i in held if i not in covered}
        disclosures.log(conn, caller, disclosures.WITHDRAWN, withdrawn)
    in_page = {r["id"] for r in rows}
    parent_ids = set()
    for r in rows:
        if r["table_name"] in P.PARENT_FIELDS:
            pid = json.loads(r["data"]).get(P.PARENT_FIELDS[r["table_name"]][0])
            if pid and pid not in in_page:
                parent_ids.add(pid)
    parents = conn.execute(select(record).where(record.c.id.in_(parent_ids), *_visible(caller))
                           ).mappings().all() if parent_ids else []
    disclosures.log_served(conn, caller, rows, covered)
    cursor = max([after, *(r["change_seq"] for r in rows)])
    page = {"epoch": known["epoch"], "records": [_wire(r) for r in [*parents, *rows]],
            "cursor": cursor, "more": more, "server_time": now_iso(),
            "agency": settings, "crc_status": crc_status.current(conn),
            "scope": {"role": caller.role, "teams": list(caller.teams)},
            "withdrawn": [{"table": disclosures.NOTE_TABLE, "id": i} for i in sorted(withdrawn)]}
    if sums and not more:
        page["summary"] = summary(conn, caller, covered)
    elif sums and after == 0:
        page["total"] = summary(conn, caller, covered)["count"]
    return page


HORIZON_KEY = "oldest_cursor"  # meta: the newest change_seq a compaction discarded


def horizon(conn) -> int:
    """The oldest cursor a pull may continue from (0 until a compaction discards tombstones)."""
    return int(read_meta(conn, HORIZON_KEY, "0"))


def compact(conn, before: str) -> dict:
    """Discard tombstones last changed before `before` (server time, ISO text) and raise the
    cursor horizon to the newest discarded change_seq. A laptop at or above the horizon has
    already pulled every discarded delete; one below it gets 410 and rebuilds its copy, whose
    end-of-sync check asks about rows the server no longer lists and is told they were deleted
    (recovery.offer). Tombstones a child record still points to stay (laptop foreign keys need
    the parent row). applied_op is kept whole, so an op replayed after the rebuild still gets
    its stored result, never a second application, and a discarded record is told apart from
    one a restore lost."""
    change_log.exclude_writers(conn)  # no push interleaves (one may revive a row)
    last_change = (select(applied_op.c.record_id, func.max(applied_op.c.applied_at).label("at"))
                   .group_by(applied_op.c.record_id).subquery())
    old = conn.execute(
        select(record.c.id, record.c.change_seq, record.c.team)
        .join(last_change, last_change.c.record_id == record.c.id)
        .where(record.c.deleted.is_(True), last_change.c.at < before)).all()
    parents = set()
    for table_name, data in conn.execute(select(record.c.table_name, record.c.data).where(
            record.c.table_name.in_(list(P.PARENT_FIELDS)))):
        parents.add(json.loads(data).get(P.PARENT_FIELDS[table_name][0]))
    discard = [(i, seq) for i, seq, _ in old if i not in parents]
    top = max([horizon(conn), *(seq for _, seq in discard)])
    for start in range(0, len(discard), 1000):
        conn.execute(delete(record).where(
            record.c.id.in_([i for i, _ in discard[start:start + 1000]])))
    if discard:
        record_sums.rebuild(conn, sorted({team for i, _, team in old if i not in parents}))
    if conn.execute(update(meta).where(meta.c.key == HORIZON_KEY)
                    .values(value=str(top))).rowcount == 0:
        conn.execute(insert(meta).values(key=HORIZON_KEY, value=str(top)))
    return {"discarded": len(discard), "kept_as_parents": len(old) - len(discard),
            "horizon": top}


def fetch(conn, caller: Caller, ids: list[str]) -> list[str]:
    covered = disclosures.covered_notes(conn, caller)
    rows = conn.execute(select(record).where(record.c.id.in_(ids), *_visible(caller, covered))
                        ).mappings().all()
    disclosures.log_served(conn, caller, rows, covered)
    return [_wire(r) for r in rows]


def manifest(conn, caller: Caller) -> list[list]:
    covered = disclosures.covered_notes(conn, caller)
    return [[r.table_name, r.id, r.version] for r in conn.execute(
        select(record.c.table_name, record.c.id, record.c.version)
        .where(*_visible(caller, covered)))]


def summary(conn, caller: Caller, covered: dict | None = None) -> dict:
    """Count, order-independent hash, and newest change_seq of what this caller may see: the
    sums kept for the tables the caller's role reads in their teams (record_sums), plus each
    clinical note a release covers for them (`covered`, when a pull has read them)."""
    tables = _readable_tables(caller)
    h = P.SetHash()
    h.count, h.total, top = record_sums.read(conn, caller.teams, tables)
    if covered is None:
        covered = disclosures.covered_notes(conn, caller)
    if covered:
        for r in conn.execute(select(record.c.table_name, record.c.id, record.c.version,
                                     record.c.change_seq).where(
                record.c.id.in_(list(covered)), record.c.team.in_(caller.teams),
                record.c.table_name.not_in(tables))):
            h.add(r.table_name, r.id, r.version)
            top = max(top, r.change_seq)
    return {"count": h.count, "hash": h.hex, "cursor": top}


def conflicts_for(conn, caller: Caller) -> list[dict]:
    """Unresolved conflicts on records this caller may see (for supervisors' review)."""
    rows = conn.execute(
        select(conflict).join(record, record.c.id == conflict.c.record_id)
        .where(conflict.c.resolved_at.is_(None), *_visible(caller))
        .order_by(conflict.c.detected_at)).mappings()
    return [dict(r) for r in rows]
