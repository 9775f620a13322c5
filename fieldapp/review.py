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

from . import agency, changes, crc
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
    """Ended shifts of this user's teams that wait for review (or the team), newest first."""
    teams = list(session.profile.teams)
    rows = session.db.query(
        f"SELECT * FROM shift WHERE deleted = 0 AND ended_at IS NOT NULL "
        f"AND team IN ({', '.join('?' for _ in teams)}) ORDER BY started_at DESC LIMIT ?",
        [*teams, QUEUE_LIMIT])
    items = []
    for row in rows:
        shift = stored_to_python(record_type("shift"), row)
        state, latest = review_state(session, shift["id"])
        if state == "approved" and not include_approved:
            continue
        items.append(QueueItem(shift, state, flags(session, shift, today), latest))
    return items


def review_state(session: Session, shift_id: str) -> tuple[str, dict | None]:
    """(state, latest review) for one shift; see the module docstring."""
    latest = session.db.execute(
        "SELECT * FROM shift_review WHERE shift_id = ? AND deleted = 0 "
        "ORDER BY created_hlc DESC, id DESC LIMIT 1", [shift_id]).fetchone()
    amended = session.db.execute(
        "SELECT max(created_hlc) FROM amendment WHERE shift_id = ? AND deleted = 0",
        [shift_id]).fetchone()[0]
    if latest is None:
        return "waiting", None
    review = _row(session, "shift_review", latest)
    if amended and amended > review["created_hlc"]:
        return "amended", review
    return review["decision"], review


def flags(session: Session, shift: dict, today: date | None = None) -> list[str]:
    """The FLAG_TEXT keys that apply to this shift, in FLAG_TEXT order."""
    db, sid = session.db, shift["id"]
    found = set()
    if db.execute("SELECT 1 FROM encounter WHERE shift_id = ? AND deleted = 0 "
                  "AND use_of_force = 1", [sid]).fetchone():
        found.add("use_of_force")
    if db.execute("SELECT 1 FROM encounter WHERE shift_id = ? AND deleted = 0 "
                  "AND disposition = 'transported_crc_involuntary' UNION ALL "
                  "SELECT 1 FROM crc_dropoff WHERE shift_id = ? AND deleted = 0 "
                  "AND transport = 'involuntary'", [sid, sid]).fetchone():
        found.add("involuntary")
    end = parse_iso(shift["ended_at"]) if shift.get("ended_at") else utc_now()
    for dropoff in _dropoffs(session, sid):
        if crc.timing(session, dropoff, now=end).over_target:
            found.add("crc_over_target")
    records = _shift_record_keys(session, shift)
    if _open_conflict_on(session, records):
        found.add("conflict")
    if overdue_follow_ups(session, shift, today):
        found.add("overdue_follow_ups")
    if unsynced_ops(session, records) or _dropoff_missing(session, sid):
        found.add("unsynced")
    return [k for k in FLAG_TEXT if k in found]


def overdue_follow_ups(session: Session, shift: dict, today: date | None = None) -> list[dict]:
    """Open follow-ups past due assigned to this shift's unit or one of its members."""
    assignees = [shift["unit"], *(m.get("username") for m in shift["members"])]
    rows = session.db.query(
        f"SELECT * FROM follow_up WHERE deleted = 0 AND status = 'open' AND team = ? "
        f"AND due_on < ? AND assignee IN ({', '.join('?' for _ in assignees)}) ORDER BY due_on",
        [shift["team"], (today or agency.today(session.db)).isoformat(), *assignees])
    return [stored_to_python(record_type("follow_up"), r) for r in rows]


def unsynced_ops(session: Session, records: set[tuple[str, str]]) -> int:
    """How many ops for these (table, id) records wait in this laptop's outbox."""
    if not records:
        return 0
    rows = session.db.execute(
        "SELECT table_name, record_id FROM outbox WHERE state IN ('pending', 'rejected')")
    return sum(1 for key in rows if tuple(key) in records)


def _dropoff_missing(session: Session, shift_id: str) -> bool:
    """The status log says the unit was at the CRC, but no drop-off record has arrived."""
    at_crc = session.db.execute("SELECT count(*) FROM shift_event WHERE shift_id = ? "
                                "AND status = 'at_crc' AND deleted = 0", [shift_id]).fetchone()[0]
    return at_crc > len(_dropoffs(session, shift_id))


def _dropoffs(session: Session, shift_id: str) -> list[dict]:
    return [_row(session, "crc_dropoff", r) for r in session.db.execute(
        "SELECT * FROM crc_dropoff WHERE shift_id = ? AND deleted = 0", [shift_id]).fetchall()]


def _open_conflict_on(session: Session, records: set[tuple[str, str]]) -> bool:
    return any(tuple(k) in records for k in session.db.execute(
        "SELECT table_name, record_id FROM conflict WHERE resolved_at IS NULL"))


# --- one shift -------------------------------------------------------------------------------

def _members(shift: dict) -> list[str]:
    return [m.get("username") for m in shift["members"] if m.get("username")]


def _window(shift: dict) -> tuple[str, str]:
    return shift["started_at"], shift.get("ended_at") or now_iso()


def _shift_record_keys(session: Session, shift: dict) -> set[tuple[str, str]]:
    """(table, id) of every record that belongs to the shift."""
    keys = {("shift", shift["id"])}
    for entry in _entries(session, shift):
        keys.add((entry["table"], entry["id"]))
    return keys


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
        add("shift_event", r, r["at"], f"Status: {_words(r['status'])}", r["note"])
    for r in _rows(session, "assignment", "shift_id = ?", [shift_id]):
        add("assignment", r, r["taken_at"] or r["received_at"],
            f"Assignment P{r['priority']} ({_words(r['source'])}"
            f"{', CAD ' + r['cad_incident'] if r['cad_incident'] else ''})",
            "; ".join(p for p in (r["summary"], r["place"], _words(r["status"]),
                                   _words(r["disposition"])) if p))
    encounter_ids = []
    for r in _rows(session, "encounter", "shift_id = ?", [shift_id]):
        encounter_ids.append(r["id"])
        marks = []
        if r["use_of_force"]:
            marks.append("use_of_force")
        if r["disposition"] == "transported_crc_involuntary":
            marks.append("involuntary")
        force = "; use of force" + (f": {_words(r['use_of_force_type'])}"
                                    if r["use_of_force_type"] else "") if r["use_of_force"] else ""
        add("encounter", r, r["started_at"],
            f"Encounter: {_words(r['presenting_situation'])}",
            "; ".join(p for p in (_words(r["disposition"]), r["place"], r["police_note"]) if p)
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
        add("crc_dropoff", r, r["arrived_at"], f"CRC drop-off ({r['transport']})", detail, marks)
    for r in _rows(session, "outreach_contact",
                   f"team = ? AND contacted_at BETWEEN ? AND ? AND {in_members}",
                   [shift["team"], start, end, *members]):
        add("outreach_contact", r, r["contacted_at"], "Outreach contact",
            "; ".join(p for p in (r["place"], r["outcome"], r["referral"], r["note"]) if p))
    for r in _rows(session, "follow_up_attempt", f"at BETWEEN ? AND ? AND {in_members}",
                   [start, end, *members]):
        add("follow_up_attempt", r, r["at"],
            f"Follow-up attempt: {_words(r['method'])}, {_words(r['outcome'])}", r["note"])
    for r in _rows(session, "amendment", "shift_id = ?", [shift_id]):
        add("amendment", r, r["amended_at"], f"Amendment to {_words(r['record_table'])}",
            describe_changes(r["changes"]) + f" — {r['reason']}")
    for r in _rows(session, "shift_review", "shift_id = ?", [shift_id]):
        add("shift_review", r, r["reviewed_at"], f"Review: {r['decision']}", r["comment"])
    entries.sort(key=lambda e: (e["at"] or "", e["table"], e["id"]))
    return entries


def describe_changes(change_list: list[dict]) -> str:
    if not change_list:
        return "reply"
    return "; ".join(f"{_words(c['field'])}: {_shown(c.get('old'))} → {_shown(c.get('new'))}"
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


def _words(code: str | None) -> str:
    return (code or "").replace("_", " ")


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
    raise TandemError(f"this {table.replace('_', ' ')} is not part of a shift")


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
    out = []
    for row in session.db.query(
            "SELECT * FROM shift WHERE deleted = 0 AND ended_at IS NOT NULL "
            "AND id IN (SELECT shift_id FROM shift_review WHERE deleted = 0) "
            "ORDER BY started_at DESC"):
        shift = stored_to_python(record_type("shift"), row)
        if session.username not in _members(shift):
            continue
        state, review = review_state(session, shift["id"])
        if state == "returned":
            out.append({"shift": shift, "review": review})
    return out


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
