"""Follow-ups: who to check on and by when; attempts are append-only, so none is ever lost."""

from datetime import date, datetime

from . import agency, changes, labels, persons
from .errors import TandemError
from .records import record_type
from .session import Session
from .timeutil import when
from .validation import stored_to_python


def create_follow_up(session: Session, values: dict) -> str:
    values = {"team": session.profile.team, "status": "open", "priority": 2, **values}
    return changes.create(session, "follow_up", values)


def log_attempt(session: Session, follow_up_id: str, method: str, outcome: str,
                note: str | None = None, at: datetime | str | None = None) -> str:
    """Append an attempt; outcome 'completed' also closes the follow-up, in one transaction."""
    follow_up = changes.get(session, "follow_up", follow_up_id)
    if follow_up["status"] != "open":
        raise TandemError(f"this follow-up is {follow_up['status']}")
    attempted = when(at, "follow_up_attempt", "at")
    with session.db.atomic():
        attempt_id = changes.create(session, "follow_up_attempt", {
            "follow_up_id": follow_up_id, "at": attempted,
            "method": method, "outcome": outcome, "note": note})
        if outcome == "completed":
            changes.patch(session, "follow_up", follow_up_id,
                          {"status": "done", "done_at": attempted})
    return attempt_id


def worklist(session: Session, today: date | None = None) -> list[dict]:
    """Open follow-ups in working order (overdue, today, upcoming), each with who it is about."""
    today = today or agency.today(session.db)
    rows = []
    for group, found in (("Overdue", overdue(session, today)),
                         ("Today", due_today(session, today)),
                         ("Upcoming", upcoming(session, today))):
        rows += [{**r, "when": group} for r in found]
    people = persons.labels(session, {r["person_id"] for r in rows})
    return [{**r, "person": people.get(r["person_id"], "Unknown person")} for r in rows]


def due_today(session: Session, today: date | None = None) -> list[dict]:
    return _open_where("due_on = ?", [(today or agency.today(session.db)).isoformat()], session)


def overdue(session: Session, today: date | None = None) -> list[dict]:
    return _open_where("due_on < ?", [(today or agency.today(session.db)).isoformat()], session)


def upcoming(session: Session, today: date | None = None) -> list[dict]:
    return _open_where("due_on > ?", [(today or agency.today(session.db)).isoformat()], session)


def attempts(session: Session, follow_up_id: str) -> list[dict]:
    return list(session.db.query(
        "SELECT * FROM follow_up_attempt WHERE follow_up_id = ? AND deleted = 0 ORDER BY at",
        [follow_up_id]))


def person_history(session: Session, person_id: str) -> list[dict]:
    """Everything the team has logged about one person, newest first: the context for a visit."""
    changes.get(session, "person", person_id)
    rows = session.db.query("""
        SELECT 'follow_up_attempt' AS kind, a.at AS at, a.method AS a, a.outcome AS b,
               a.note AS note
          FROM follow_up_attempt a JOIN follow_up f ON f.id = a.follow_up_id
         WHERE f.person_id = :p AND a.deleted = 0
        UNION ALL
        SELECT 'follow_up', f.due_on, f.reason, f.status, f.note
          FROM follow_up f WHERE f.person_id = :p AND f.deleted = 0
        UNION ALL
        SELECT 'encounter', e.started_at, e.presenting_situation, e.disposition, NULL
          FROM encounter e, json_each(coalesce(e.person_ids, '[]')) j
         WHERE j.value = :p AND e.deleted = 0
        UNION ALL
        SELECT 'outreach_contact', o.contacted_at, o.outcome, NULL, o.note
          FROM outreach_contact o WHERE o.person_id = :p AND o.deleted = 0
        ORDER BY at DESC""", {"p": person_id})
    return [{"kind": r["kind"], "at": r["at"], "note": r["note"], "summary": _summary(r)}
            for r in rows]


def _summary(row: dict) -> str:
    """One history line in words, each code through labels (a whole sentence of codes given
    to labels at once kept 'crc' lower-case inside its brackets)."""
    a, b = labels.phrase(row["a"]), labels.phrase(row["b"])
    if row["kind"] == "follow_up":
        return f"follow-up due ({a}), {b}"
    if row["kind"] == "follow_up_attempt":
        return f"{a}: {b}"
    if row["kind"] == "outreach_contact":
        return a or "outreach contact"
    return f"{a}, {b}" if b else a


def _open_where(condition: str, params: list, session: Session) -> list[dict]:
    rows = session.db.query(
        f"SELECT * FROM follow_up WHERE deleted = 0 AND status = 'open' AND {condition} "
        "ORDER BY due_on, priority", params)
    return [stored_to_python(record_type("follow_up"), r) for r in rows]
