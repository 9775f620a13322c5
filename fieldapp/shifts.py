"""Shifts: start with partners, unit and vehicle; append status events; end; read the timeline."""

from datetime import datetime

from . import changes, roster
from .errors import TandemError, ValidationError
from .records import record_type
from .session import Session
from .timeutil import parse_iso, when
from .validation import stored_to_python


def start_shift(session: Session, unit: str, vehicle: str | None = None,
                partners: list[dict] = (), at: datetime | str | None = None) -> str:
    """Start a shift for this user and their partners ({username, role} each); returns its id.
    The shift belongs to the car: each partner's laptop finds it after a sync, and everyone on
    it appends status events to its one log. Once this laptop has the team roster, partners
    come from it (their role too)."""
    if active_shift(session) is not None:
        raise TandemError("you are already on a shift; end it before starting another")
    if not isinstance(partners, (list, tuple)) or not all(
            isinstance(p, dict) and p.get("username") for p in partners):
        raise ValidationError("shift", {"members": "each partner needs a username and a role"})
    members = [{"username": session.username, "role": session.profile.role}]
    known = {m["username"]: m for m in roster.partners(session)}
    for p in partners:
        if known and p["username"] not in known:
            raise ValidationError("shift", {"members": f"{p['username']} is not on your team's "
                                                       "roster; pick your partner from it"})
        role = known[p["username"]]["role"] if known else p.get("role", "")
        members.append({"username": p["username"], "role": role})
    started = when(at, "shift", "started_at")
    db = session.db
    with db.atomic():
        shift_id = changes.create(session, "shift", {
            "team": session.profile.team, "unit": unit, "vehicle": vehicle,
            "members": members, "started_at": started,
        })
        set_status(session, shift_id, "in_service", at=started)
    return shift_id


def set_status(session: Session, shift_id: str, status: str, at: datetime | str | None = None,
               note: str | None = None, lat: float | None = None, lon: float | None = None) -> str:
    """One tap in the car: append a status event with its time. A tap on the status the unit
    is already in (a double tap, a second press to be sure) adds nothing: the timeline and the
    shift's minutes count each status once; a time, a note or a place given is always kept."""
    shift = changes.get(session, "shift", shift_id)
    if shift["ended_at"] is not None:
        raise TandemError("this shift has ended")
    if at is None and note is None and lat is None and lon is None:
        last = _last_event(session, shift_id)
        if last is not None and last["status"] == status:
            return last["id"]
    return changes.create(session, "shift_event", {
        "shift_id": shift_id, "status": status, "at": when(at, "shift_event", "at"), "note": note,
        "lat": lat, "lon": lon,
    })


def end_shift(session: Session, shift_id: str, at: datetime | str | None = None) -> None:
    shift = changes.get(session, "shift", shift_id)
    if shift["ended_at"] is not None:
        raise TandemError("this shift has already ended")
    ended = when(at, "shift", "ended_at")
    if parse_iso(ended) < parse_iso(shift["started_at"]):
        raise ValidationError("shift", {"ended_at": "must not be before the shift started"})
    with session.db.atomic():
        set_status(session, shift_id, "out_of_service", at=ended)
        _finalize_encounters(session, shift_id, ended)
        changes.patch(session, "shift", shift_id, {"ended_at": ended})


def _finalize_encounters(session: Session, shift_id: str, at: str) -> None:
    """Ending a shift submits its encounters: from then on they change only by amendment, and
    the retention window may take them off the laptop once old (retention.CLOSED)."""
    for (encounter_id,) in session.db.execute(
            "SELECT id FROM encounter WHERE shift_id = ? AND deleted = 0 "
            "AND finalized_at IS NULL", [shift_id]).fetchall():
        changes.patch(session, "encounter", encounter_id, {"finalized_at": at})


def active_shift(session: Session) -> dict | None:
    """This user's open shift, if any."""
    for row in session.db.query(
            "SELECT * FROM shift WHERE ended_at IS NULL AND deleted = 0 ORDER BY started_at DESC"):
        shift = stored_to_python(record_type("shift"), row)
        if any(m.get("username") == session.username for m in shift["members"]):
            return shift
    return None


def timeline(session: Session, shift_id: str) -> list[dict]:
    """The shift's status events, oldest first."""
    changes.get(session, "shift", shift_id)
    return list(session.db.query(
        "SELECT id, status, at, note FROM shift_event WHERE shift_id = ? ORDER BY at, id",
        [shift_id]))


def current_status(session: Session, shift_id: str) -> str | None:
    changes.get(session, "shift", shift_id)
    last = _last_event(session, shift_id)
    return last["status"] if last else None


def _last_event(session: Session, shift_id: str) -> dict | None:
    """The shift's newest status event (the timeline's last)."""
    return next(iter(session.db.query(
        "SELECT id, status FROM shift_event WHERE shift_id = ? ORDER BY at DESC, id DESC "
        "LIMIT 1", [shift_id])), None)

