"""Supervisor review of the team's shift logs: the queue, one shift's timeline, the decision.

A shift is submitted when it ends. From then on its records change only by amendment (an
append-only record naming the record, the fields, old and new values, and why), so the
supervisor sees every change made after submission. Reviews, amendments and conflict
resolutions are synced records; each review action also writes an audit event.

Review state, from the shift's reviews and amendments in clock (HLC) order, which is causal
across laptops: no review yet → "waiting"; the latest review returned it and no amendment came
since → "returned" (the team's turn); an amendment came after the latest review → "amended"
(the supervisor's turn again); the latest review approved it → "approved" (out of the queue).

"Unsynced" is what this laptop can know honestly: the shift's records with ops still in this
laptop's outbox (pending, or rejected by the server). A partner laptop that has not synced yet
is invisible here; the timeline shows what has arrived, and the queue also marks shifts whose
status log says a CRC drop-off happened but whose drop-off record has not arrived.
"""

import json
from dataclasses import dataclass, field
from datetime import date, datetime

from . import agency, changes, crc, labels, settings
from .errors import TandemError, ValidationError
from .records import is_supervisor, record_type
from .session import Session
from .timeutil import now_iso, parse_iso, utc_now
from .validation import normalise, stored_to_python

QUEUE_LIMIT = 200
DELETE_FIELD = "_deleted"  # a delete that met an edit (sync.protocol.DELETE_FIELD)

FLAG_TEXT = {
    "use_of_force": "Use of force",
    "crc_over_target": "CRC check-in over target",
    "involuntary": "Involuntary transport",
    "conflict": "Conflict to review",
    "overdue_follow_ups": "Overdue follow-ups",
    "unsynced": "Not fully synced",
}


@dataclass
class QueueItem:
    shift: dict
    state: str  # waiting | returned | amended | approved
    flags: list[str] = field(default_factory=list)
    latest_review: dict | None = None

    @property
    def id(self) -> str:
        return self.shift["id"]


def require_supervisor(session: Session) -> None:
    if not is_supervisor(session.profile.role):
        raise TandemError("only a supervisor may review shifts")


# --- the queue -------------------------------------------------------------------------------

def queue(session: Session, today: date | None = None, include_approved: bool = False
          ) -> list[QueueItem]:
    """Ended shifts of this user's teams that wait for review (or the team), newest first.
    The same few queries however many shifts there are (`_states`, `_flags`)."""
    teams = list(session.profile.teams)
    shifts = [stored_to_python(record_type("shift"), row) for row in session.db.query(
        f"SELECT * FROM shift WHERE deleted = 0 AND ended_at IS NOT NULL "
        f"AND team IN ({', '.join('?' for _ in teams)}) ORDER BY started_at DESC LIMIT ?",
        [*teams, QUEUE_LIMIT])]
    states = _states(session, [s["id"] for s in shifts])
    shown = [s for s in shifts if include_approved or states[s["id"]][0] != "approved"]
    found = _flags(session, shown, today)
    return [QueueItem(s, states[s["id"]][0], found[s["id"]], states[s["id"]][1]) for s in shown]


def review_state(session: Session, shift_id: str) -> tuple[str, dict | None]:
    """(state, latest review) for one shift; see the module docstring."""
    return _states(session, [shift_id])[shift_id]


def flags(session: Session, shift: dict, today: date | None = None) -> list[str]:
    """The FLAG_TEXT keys that apply to this shift, in FLAG_TEXT order."""
    return _flags(session, [shift], today)[shift["id"]]


def _states(session: Session, shift_ids: list[str]) -> dict[str, tuple[str, dict | None]]:
    latest, amended = {}, {}
    for row in _rows_in(session, "shift_review", "shift_id", shift_ids,
                        order="created_hlc DESC, id DESC"):
        latest.setdefault(row["shift_id"], row)
    for sid, stamp in _in(session, "SELECT shift_id, max(created_hlc) FROM amendment "
                                   "WHERE deleted = 0 AND shift_id IN ({}) GROUP BY shift_id",
                          shift_ids):
        amended[sid] = stamp
    states = {}
    for sid in shift_ids:
        review = latest.get(sid)
        if review is None:
            states[sid] = ("waiting", None)
        elif amended.get(sid) and amended[sid] > review["created_hlc"]:
            states[sid] = ("amended", review)
        else:
            states[sid] = (review["decision"], review)
    return states


def _flags(session: Session, shifts: list[dict], today: date | None = None
           ) -> dict[str, list[str]]:
    """Each shift's flags, read for all of them at once."""
    ids = [s["id"] for s in shifts]
    found = {sid: set() for sid in ids}
    encounters = _in(session, "SELECT id, shift_id, use_of_force, disposition FROM encounter "
                              "WHERE deleted = 0 AND shift_id IN ({})", ids)
    for _id, sid, force, disposition in encounters:
        if force:
            found[sid].add("use_of_force")
        if disposition == "transported_crc_involuntary":
            found[sid].add("involuntary")
    dropoffs = _rows_in(session, "crc_dropoff", "shift_id", ids)
    target = settings.get(session.db, "crc_target_minutes")
    ended = {s["id"]: parse_iso(s["ended_at"]) if s.get("ended_at") else utc_now()
             for s in shifts}
    for d in dropoffs:
        if d["transport"] == "involuntary":
            found[d["shift_id"]].add("involuntary")
        if crc.timing(session, d, now=ended[d["shift_id"]], target_minutes=target).over_target:
            found[d["shift_id"]].add("crc_over_target")
    at_crc = dict(_in(session, "SELECT shift_id, count(*) FROM shift_event WHERE deleted = 0 "
                               "AND status = 'at_crc' AND shift_id IN ({}) GROUP BY shift_id",
                      ids))
    for sid in ids:  # the log says the unit was at the CRC, but a drop-off has not arrived
        if at_crc.get(sid, 0) > sum(1 for d in dropoffs if d["shift_id"] == sid):
            found[sid].add("unsynced")
    records = _record_keys(session, shifts, encounters, dropoffs)
    unsettled = set(session.db.execute(
        "SELECT table_name, record_id FROM conflict WHERE resolved_at IS NULL").fetchall())
    outbox = set(session.db.execute(
        "SELECT table_name, record_id FROM outbox WHERE state IN ('pending', 'rejected')"
    ).fetchall())
    overdue = _overdue_assignees(session, shifts, today)
    for s in shifts:
        keys = records[s["id"]]
        if not keys.isdisjoint(unsettled):
            found[s["id"]].add("conflict")
        if not keys.isdisjoint(outbox):
            found[s["id"]].add("unsynced")
        if any((s["team"], who) in overdue for who in (s["unit"], *_members(s))):
            found[s["id"]].add("overdue_follow_ups")
    return {sid: [k for k in FLAG_TEXT if k in found[sid]] for sid in ids}


def _record_keys(session: Session, shifts: list[dict], encounters, dropoffs
                 ) -> dict[str, set[tuple[str, str]]]:
    """(table, id) of every record of each shift: what its timeline shows (`_entries`)."""
    ids = [s["id"] for s in shifts]
    keys = {sid: {("shift", sid)} for sid in ids}
    for table in ("shift_event", "assignment", "amendment", "shift_review"):
        for record_id, sid in _in(session, f"SELECT id, shift_id FROM [{table}] "
                                           "WHERE deleted = 0 AND shift_id IN ({})", ids):
            keys[sid].add((table, record_id))
    shift_of = {}
    for record_id, sid, _force, _disposition in encounters:
        keys[sid].add(("encounter", record_id))
        shift_of[record_id] = sid
    for d in dropoffs:
        keys[d["shift_id"]].add(("crc_dropoff", d["id"]))
    for record_id, encounter_id in _in(session, "SELECT id, encounter_id FROM clinical_note "
                                                "WHERE deleted = 0 AND encounter_id IN ({})",
                                       list(shift_of)):
        keys[shift_of[encounter_id]].add(("clinical_note", record_id))
    if shifts:  # by its members during the shift: read the span of all shifts, then match
        first = min(_window(s)[0] for s in shifts)
        last = max(_window(s)[1] for s in shifts)
        for table, column, with_team in (("outreach_contact", "contacted_at", True),
                                          ("follow_up_attempt", "at", False)):
            rows = session.db.execute(
                f"SELECT id, author, {column}{', team' if with_team else ''} FROM [{table}] "
                f"WHERE deleted = 0 AND {column} BETWEEN ? AND ?", [first, last]).fetchall()
            for s in shifts:
                start, end = _window(s)
                members = set(_members(s))
                keys[s["id"]].update(
                    (table, r[0]) for r in rows if r[1] in members and start <= r[2] <= end
                    and (not with_team or r[3] == s["team"]))
    return keys


def _overdue_assignees(session: Session, shifts: list[dict], today: date | None
                       ) -> set[tuple[str, str]]:
    """(team, assignee) of the open follow-ups past due in these shifts' teams."""
    teams = sorted({s["team"] for s in shifts})
    return set(_in(session, "SELECT team, assignee FROM follow_up WHERE deleted = 0 "
                            "AND status = 'open' AND due_on < ? AND team IN ({})", teams,
                   before=[(today or agency.today(session.db)).isoformat()]))


def _in(session: Session, sql: str, values: list, before: list = ()) -> list[tuple]:
    """`sql` with its `IN ({})` filled with `values` (in chunks under SQLite's limit)."""
    rows = []
    for start in range(0, len(values), 500):
        chunk = values[start:start + 500]
        rows += session.db.execute(sql.format(", ".join("?" * len(chunk))),
                                   [*before, *chunk]).fetchall()
    return rows


def _rows_in(session: Session, table: str, column: str, values: list, order: str = "id"
             ) -> list[dict]:
    """Live records of `table` whose `column` is one of `values`, as Python values."""
    cursor_columns = [d[0] for d in session.db.execute(
        f"SELECT * FROM [{table}] LIMIT 0").description]
    return [stored_to_python(record_type(table), dict(zip(cursor_columns, r)))
            for r in _in(session, f"SELECT * FROM [{table}] WHERE deleted = 0 AND [{column}] "
                                  f"IN ({{}}) ORDER BY {order}", values)]


# --- one shift -------------------------------------------------------------------------------

def _members(shift: dict) -> list[str]:
    return [m.get("username") for m in shift["members"] if m.get("username")]


def _window(shift: dict) -> tuple[str, str]:
    return shift["started_at"], shift.get("ended_at") or now_iso()


def timeline(session: Session, shift_id: str) -> list[dict]:
    """Every record of the shift in time order: status events, assignments, encounters (and the
    clinical notes this laptop holds, which the server sends only to those who may read them;
    showing them is audited), CRC drop-offs, outreach contacts and follow-up attempts by its
    members during the shift, reviews and amendments. Each entry: at, table, id, title,
    detail, author, flags."""
    shift = changes.get(session, "shift", shift_id)
    entries = _entries(session, shift)
    if any(e["table"] == "clinical_note" for e in entries):
        changes.audit(session, "clinical_note.view", "shift", shift_id, detail="shift review")
    return entries


def timeline_of(session: Session, shift_id: str, tables: set[str]) -> list[dict]:
    """The shift's timeline entries of these tables only (the records a team member picks one
    of to amend); with no clinical note among them there is no note view to audit."""
    shift = changes.get(session, "shift", shift_id)
    return [e for e in _entries(session, shift) if e["table"] in tables and
            e["table"] != "clinical_note"]


def _assignment_source(r: dict) -> str:
    """"CAD incident CAD-2026-0412", or "Supervisor, CAD incident …": the source said once."""
    source = labels.text(r["source"])
    if not r["cad_incident"]:
        return source
    incident = f"CAD incident {r['cad_incident']}"
    return incident if r["source"] == "cad" else f"{source}, {incident}"


def _entries(session: Session, shift: dict) -> list[dict]:
    shift_id = shift["id"]
    start, end = _window(shift)
    members = _members(shift)
    in_members = f"author IN ({', '.join('?' for _ in members)})" if members else "0"
    entries = []

    def add(table, row, at, title, detail="", flags=()):
        entries.append({"at": at, "table": table, "id": row["id"], "title": title,
                        "detail": detail or "", "author": row.get("author", ""),
                        "flags": list(flags)})

    for r in _rows(session, "shift_event", "shift_id = ?", [shift_id]):
        add("shift_event", r, r["at"], f"Status: {labels.text(r['status'])}", r["note"])
    for r in _rows(session, "assignment", "shift_id = ?", [shift_id]):
        add("assignment", r, r["taken_at"] or r["received_at"],
            f"Assignment P{r['priority']} ({_assignment_source(r)})",
            "; ".join(p for p in (r["summary"], r["place"], labels.text(r["status"]),
                                   labels.text(r["disposition"])) if p))
    encounter_ids = []
    for r in _rows(session, "encounter", "shift_id = ?", [shift_id]):
        encounter_ids.append(r["id"])
        marks = []
        if r["use_of_force"]:
            marks.append("use_of_force")
        if r["disposition"] == "transported_crc_involuntary":
            marks.append("involuntary")
        force = "; use of force" + (f": {labels.text(r['use_of_force_type'])}"
                                    if r["use_of_force_type"] else "") if r["use_of_force"] else ""
        add("encounter", r, r["started_at"],
            f"Encounter: {labels.text(r['presenting_situation'])}",
            "; ".join(p for p in (labels.text(r["disposition"]), r["place"], r["police_note"]) if p)
            + force, marks)
    if encounter_ids:
        for r in _rows(session, "clinical_note",
                       f"encounter_id IN ({', '.join('?' for _ in encounter_ids)})", encounter_ids):
            add("clinical_note", r, r["written_at"], "Clinical note", r["body"])
    for r in _rows(session, "crc_dropoff", "shift_id = ?", [shift_id]):
        t = crc.timing(session, r, now=parse_iso(end))
        marks = ["crc_over_target"] if t.over_target else []
        if r["transport"] == "involuntary":
            marks.append("involuntary")
        detail = f"check-in {_minutes(t.check_in_seconds)}" + (
            "" if t.handed_off else " (not handed off)") + (
            f", over the {_minutes(t.target_seconds)} target" if t.over_target else "")
        if r["delay_reason"]:
            detail += f"; delay: {r['delay_reason']}"
        add("crc_dropoff", r, r["arrived_at"], f"CRC drop-off ({labels.phrase(r['transport'])})",
            detail, marks)
    for r in _rows(session, "outreach_contact",
                   f"team = ? AND contacted_at BETWEEN ? AND ? AND {in_members}",
                   [shift["team"], start, end, *members]):
        add("outreach_contact", r, r["contacted_at"], "Outreach contact",
            "; ".join(p for p in (r["place"], r["outcome"], r["referral"], r["note"]) if p))
    for r in _rows(session, "follow_up_attempt", f"at BETWEEN ? AND ? AND {in_members}",
                   [start, end, *members]):
        add("follow_up_attempt", r, r["at"],
            f"Follow-up attempt: {labels.phrase(r['method'])}, {labels.phrase(r['outcome'])}",
            r["note"])
    for r in _rows(session, "amendment", "shift_id = ?", [shift_id]):
        add("amendment", r, r["amended_at"], f"Amendment to {labels.text(r['record_table'])}",
            describe_changes(r["changes"]) + f" — {r['reason']}")
    for r in _rows(session, "shift_review", "shift_id = ?", [shift_id]):
        add("shift_review", r, r["reviewed_at"], f"Review: {labels.phrase(r['decision'])}",
            r["comment"])
    entries.sort(key=lambda e: (e["at"] or "", e["table"], e["id"]))
    return entries


def describe_changes(change_list: list[dict]) -> str:
    if not change_list:
        return "reply"
    return "; ".join(f"{labels.text(c['field'])}: {_shown(c.get('old'))} → {_shown(c.get('new'))}"
                     for c in change_list)


def _shown(value) -> str:
    return "(empty)" if value is None else str(value)


def _rows(session: Session, table: str, where: str, params: list) -> list[dict]:
    return [_row(session, table, r) for r in session.db.query(
        f"SELECT * FROM [{table}] WHERE deleted = 0 AND {where}", params)]


def _row(session: Session, table: str, row) -> dict:
    if not isinstance(row, dict):
        cols = [d[0] for d in session.db.execute(f"SELECT * FROM [{table}] LIMIT 0").description]
        row = dict(zip(cols, row))
    return stored_to_python(record_type(table), row)


def _minutes(seconds: float) -> str:
    m, s = divmod(round(seconds), 60)
    return f"{m} min {s:02d} s"


# --- decisions, amendments, replies ------------------------------------------------------------

def approve(session: Session, shift_id: str, comment: str | None = None) -> str:
    return _decide(session, shift_id, "approved", comment)


def return_shift(session: Session, shift_id: str, comment: str) -> str:
    """Send the shift back to its team; the comment says what to fix."""
    if not (comment or "").strip():
        raise ValidationError("shift_review", {"comment": "say what the team should fix"})
    return _decide(session, shift_id, "returned", comment)


def _decide(session: Session, shift_id: str, decision: str, comment: str | None) -> str:
    require_supervisor(session)
    shift = changes.get(session, "shift", shift_id)
    if shift["team"] not in session.profile.teams:
        raise TandemError(f"shift {shift_id} belongs to team {shift['team']}, not yours")
    if shift["ended_at"] is None:
        raise TandemError("this shift has not ended yet; review it once it is submitted")
    with session.db.atomic():
        review_id = changes.create(session, "shift_review", {
            "team": shift["team"], "shift_id": shift_id, "decision": decision,
            "comment": (comment or "").strip() or None, "reviewed_at": now_iso()})
        changes.audit(session, f"shift.{'approve' if decision == 'approved' else 'return'}",
                      "shift", shift_id, detail=(comment or "")[:1000] or None)
    return review_id


def shift_of(session: Session, table: str, record_id: str) -> str:
    """The id of the shift a record belongs to (for amendments)."""
    if table == "shift":
        return changes.get(session, "shift", record_id)["id"]
    rt = record_type(table)
    record = changes.get(session, table, record_id)
    if "shift_id" in rt.field_names and record.get("shift_id"):
        return record["shift_id"]
    raise TandemError(f"this {labels.phrase(table)} is not part of a shift")


def amend(session: Session, table: str, record_id: str, values: dict, reason: str) -> str:
    """Change a record of a submitted shift, on the record: the fields change (mutable records)
    and an amendment keeps the old and new values and the reason. Append-only records keep
    their original; the amendment is the correction. `values` may be empty: a reply."""
    if not (reason or "").strip():
        raise ValidationError("amendment", {"reason": "say why (or answer the review)"})
    shift_id = shift_of(session, table, record_id)
    shift = changes.get(session, "shift", shift_id)
    rt = record_type(table)
    current = changes.get(session, table, record_id)
    before = normalise(rt, {k: v for k, v in current.items() if k in rt.field_names},
                       partial=True)
    with session.db.atomic():
        if rt.append_only:  # the original stays; the amendment is the correction
            changed = normalise(rt, values, partial=True)
        else:
            changed = (changes.patch(session, table, record_id, values, amending=True)
                       if values else {})
        amendment_id = changes.create(session, "amendment", {
            "team": shift["team"], "shift_id": shift_id, "record_table": table,
            "record_id": record_id, "reason": reason.strip(), "amended_at": now_iso(),
            "changes": [{"field": k, "old": before.get(k), "new": v} for k, v in changed.items()],
        })
        changes.audit(session, "shift.amend", table, record_id,
                      detail=", ".join(sorted(changed)) or "reply")
    return amendment_id


def my_returned_shifts(session: Session) -> list[dict]:
    """Shifts this user worked that a supervisor returned and nobody has amended since: what
    the team's laptop shows until someone answers. Each: shift, review."""
    shifts = [shift for row in session.db.query(
        "SELECT * FROM shift WHERE deleted = 0 AND ended_at IS NOT NULL "
        "AND id IN (SELECT shift_id FROM shift_review WHERE deleted = 0) "
        "ORDER BY started_at DESC")
        for shift in [stored_to_python(record_type("shift"), row)]
        if session.username in _members(shift)]
    states = _states(session, [s["id"] for s in shifts])
    return [{"shift": s, "review": states[s["id"]][1]} for s in shifts
            if states[s["id"]][0] == "returned"]


# --- conflicts ---------------------------------------------------------------------------------

def open_conflicts(session: Session) -> list[dict]:
    return list(session.db.query(
        "SELECT * FROM conflict WHERE resolved_at IS NULL ORDER BY detected_at"))


def store_server_conflicts(session: Session, rows: list[dict]) -> int:
    """Keep conflicts the server flagged (GET /conflicts) in this laptop's conflict table, so a
    supervisor can settle ones detected on other laptops; returns how many were new."""
    new = 0
    with session.db.atomic():
        for c in rows:
            settled = session.db.execute(
                "SELECT 1 FROM conflict_resolution WHERE record_table = ? AND record_id = ? "
                "AND field = ? AND deleted = 0", [c["table_name"], c["record_id"], c["field"]]
            ).fetchone()
            if settled:
                continue
            new += session.db.execute(
                "INSERT OR IGNORE INTO conflict (id, table_name, record_id, field, kept_value, "
                "other_value, detected_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [c["id"], c["table_name"], c["record_id"], c["field"], c["kept_value"],
                 c["other_value"], c["detected_at"]]).rowcount
    if new:
        session.note_changed("conflict")
    return new


def decode_value(table: str, field_name: str, text: str | None):
    """A conflict value (stored as JSON text) as the Python value patch() takes for the field."""
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return text
    kind = record_type(table).field(field_name).type
    expected = {str: str, date: str, datetime: str, list: list, bool: (bool, int),
                int: int, float: (int, float)}[kind]
    return value if isinstance(value, expected) else text


def resolve_conflict(session: Session, conflict_id: str, choice: str) -> None:
    """Settle a conflict: write the chosen value (a normal edit that syncs) and a
    conflict_resolution record, which marks the same conflict resolved on every laptop that
    holds it (see schema.m005_review)."""
    if choice not in ("kept", "other"):
        raise ValueError(f"choice must be 'kept' or 'other', not {choice!r}")
    row = session.db["conflict"].get(conflict_id)
    table, record_id, field_name = row["table_name"], row["record_id"], row["field"]
    current = changes.get(session, table, record_id)
    text = row[f"{choice}_value"]
    with session.db.atomic():
        if field_name == DELETE_FIELD:
            if choice == "other":
                changes.delete(session, table, record_id, amending=True)
        else:  # recorded by the conflict_resolution below, so allowed on a submitted shift
            changes.patch(session, table, record_id,
                          {field_name: decode_value(table, field_name, text)}, amending=True)
        changes.create(session, "conflict_resolution", {
            "team": current.get("team") or session.profile.team, "record_table": table,
            "record_id": record_id, "field": field_name, "choice": choice, "value": text,
            "resolved_at": now_iso()})
        changes.audit(session, "conflict.resolve", table, record_id,
                      detail=f"{field_name}: {choice}")
