"""CRC drop-offs: arrival at the sally port, hand-off (check-in complete), back in service.

The program's target is a check-in under 7 minutes (the `crc_target_minutes` setting). When a
hand-off runs over, the team records why before the drop-off is cleared.
"""

from dataclasses import dataclass
from datetime import datetime

from . import changes, persons, settings, shifts
from .errors import TandemError, ValidationError
from .session import Session
from .timeutil import parse_iso, utc_now, when


@dataclass(frozen=True)
class DropoffTiming:
    check_in_seconds: float  # arrived → handed off (or → now while waiting)
    back_in_service_seconds: float | None  # arrived → cleared
    target_seconds: float
    handed_off: bool
    cleared: bool

    @property
    def over_target(self) -> bool:
        return self.check_in_seconds > self.target_seconds


def arrive(session: Session, transport: str, encounter_id: str | None = None,
           shift_id: str | None = None, at: datetime | str | None = None,
           person_id: str | None = None, notice_id: str | None = None) -> str:
    """Start the clock at the sally port; also sets the shift's status to 'at CRC'. A drop-off
    from an encounter is linked to it and to whom it is for (the encounter's one person,
    unless `person_id` names which). One after a pre-arrival notice (crc_notice.py) is linked
    to it, so the CRC's half of the clock lines up with the unit's; it takes the notice's
    encounter."""
    arrived = when(at, "crc_dropoff", "arrived_at")
    if notice_id and encounter_id is None:
        encounter_id = changes.get(session, "crc_notice", notice_id)["encounter_id"]
    if encounter_id and person_id is None:
        people = changes.get(session, "encounter", encounter_id)["person_ids"] or []
        person_id = people[0] if len(people) == 1 else None
    with session.db.atomic():
        dropoff_id = changes.create(session, "crc_dropoff", {
            "team": session.profile.team, "transport": transport, "encounter_id": encounter_id,
            "shift_id": shift_id, "arrived_at": arrived, "person_id": person_id,
            "notice_id": notice_id})
        if shift_id:
            shifts.set_status(session, shift_id, "at_crc", at=arrived)
    return dropoff_id


def hand_off(session: Session, dropoff_id: str, at: datetime | str | None = None,
             delay_reason: str | None = None) -> None:
    dropoff = changes.get(session, "crc_dropoff", dropoff_id)
    if dropoff["handed_off_at"]:
        raise TandemError("this drop-off is already handed off")
    handed = when(at, "crc_dropoff", "handed_off_at")
    _not_before(handed, dropoff["arrived_at"], "handed_off_at", "arrival")
    values = {"handed_off_at": handed}
    if delay_reason:
        values["delay_reason"] = delay_reason
    changes.patch(session, "crc_dropoff", dropoff_id, values)


def set_delay_reason(session: Session, dropoff_id: str, reason: str) -> None:
    changes.patch(session, "crc_dropoff", dropoff_id, {"delay_reason": reason})


def clear(session: Session, dropoff_id: str, at: datetime | str | None = None,
          delay_reason: str | None = None) -> None:
    """Back in service. A check-in over target needs its reason first."""
    dropoff = changes.get(session, "crc_dropoff", dropoff_id)
    if not dropoff["handed_off_at"]:
        raise TandemError("mark the hand-off before clearing")
    if dropoff["cleared_at"]:
        raise TandemError("this drop-off is already cleared")
    cleared = when(at, "crc_dropoff", "cleared_at")
    _not_before(cleared, dropoff["handed_off_at"], "cleared_at", "hand-off")
    reason = delay_reason or dropoff["delay_reason"]
    if timing(session, dropoff).over_target and not reason:
        raise ValidationError("crc_dropoff", {
            "delay_reason": "required: the check-in took longer than the "
                            f"{settings.get(session.db, 'crc_target_minutes')}-minute target"})
    values = {"cleared_at": cleared}
    if delay_reason:
        values["delay_reason"] = delay_reason
    with session.db.atomic():
        changes.patch(session, "crc_dropoff", dropoff_id, values)
        if dropoff["shift_id"]:
            shifts.set_status(session, dropoff["shift_id"], "available", at=cleared)


def timing(session: Session, dropoff: dict, now: datetime | None = None) -> DropoffTiming:
    """Elapsed times for the big clock and for the figures; running ones count to `now`."""
    now = now or utc_now()
    arrived = parse_iso(dropoff["arrived_at"])
    handed = parse_iso(dropoff["handed_off_at"]) if dropoff["handed_off_at"] else None
    cleared = parse_iso(dropoff["cleared_at"]) if dropoff["cleared_at"] else None
    return DropoffTiming(
        check_in_seconds=((handed or now) - arrived).total_seconds(),
        back_in_service_seconds=(cleared - arrived).total_seconds() if cleared else None,
        target_seconds=settings.get(session.db, "crc_target_minutes") * 60.0,
        handed_off=handed is not None, cleared=cleared is not None)


def open_dropoff(session: Session) -> dict | None:
    """The drop-off in progress (not cleared), if any, with `for` saying whom it is for."""
    row = session.db.execute(
        "SELECT id FROM crc_dropoff WHERE deleted = 0 AND cleared_at IS NULL "
        "ORDER BY arrived_at DESC LIMIT 1").fetchone()
    if not row:
        return None
    dropoff = changes.get(session, "crc_dropoff", row[0])
    return {**dropoff, "for": whom(session, dropoff["person_id"], dropoff["encounter_id"])}


def from_encounter(session: Session, encounter_id: str) -> dict:
    """What a drop-off started from an encounter begins with: the encounter, its people (to
    pick whom it is for when there are several), and the transport its disposition names."""
    encounter = changes.get(session, "encounter", encounter_id)
    people = [{"id": p, "label": whom(session, p)} for p in encounter["person_ids"] or []]
    transport = ("involuntary" if encounter["disposition"] == "transported_crc_involuntary"
                 else "voluntary")
    return {"encounter_id": encounter_id, "people": people, "transport": transport,
            "person_id": people[0]["id"] if len(people) == 1 else None,
            "place": encounter["place"], "started_at": encounter["started_at"]}


def whom(session: Session, person_id: str | None, encounter_id: str | None = None) -> str:
    """Whom a drop-off is for, as the screen shows it."""
    if person_id:
        row = next(iter(session.db.query("SELECT * FROM person WHERE id = ?", [person_id])), None)
        return persons.label(row) if row else "someone not on this laptop"
    if encounter_id:
        return "someone on the encounter (not named)"
    return ""


def _not_before(later: str, earlier: str, field: str, what: str) -> None:
    if parse_iso(later) < parse_iso(earlier):
        raise ValidationError("crc_dropoff", {field: f"must not be before the {what}"})
