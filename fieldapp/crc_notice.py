"""The pre-arrival notice a unit sends the CRC, and what comes back: the CRC's half of the
drop-off clock and the center's status.

A notice is an ordinary synced record (`crc_notice`): written here with its outbox op, it waits
offline like any change and goes on the next sync, and the intake board (sync/server/intake.py)
shows it. It holds the minimum the intake staff need to get ready: unit, ETA, voluntary or
involuntary, adult or youth, safety cautions, pickup order, emergency petition, and the person's
name only where the agency's `crc_notice_names` setting allows it. Nothing from the encounter's
notes ever goes in it.
"""

from datetime import datetime, timedelta

from . import agency, changes, shifts
from .directory import haversine_km
from .errors import TandemError, ValidationError
from .records import AGE_GROUPS, TRANSPORT_KINDS
from .session import Session
from .timeutil import parse_date, parse_iso, to_iso, utc_now

OPEN_HOURS = 12  # a notice older than this with no drop-off is no longer "in progress"
ETA_MAX_MINUTES = 240
DISAGREE_SECONDS = 60  # the two halves of the clock "disagree" beyond a minute
STATUSES = ("open", "at_capacity", "diverting")
UNSENT = object()  # a pull page that carried no CRC status (an older server)


# --- sending, updating, cancelling ------------------------------------------------------------

def defaults(session: Session, encounter_id: str | None = None) -> dict:
    """What the notice form starts with: from the encounter (transport, pickup order,
    emergency petition; the person's safety cautions, age group and, where allowed, name) and
    an ETA from distance when the laptop knows where it is."""
    names = agency.get(session.db, "crc_notice_names")
    out = {"transport": "voluntary", "age_group": "adult", "safety_cautions": "",
           "pickup_order": False, "emergency_petition": False, "person_name": "",
           "names_allowed": names, "encounter_id": encounter_id,
           "eta_minutes": eta_minutes(session, encounter_id)}
    if not encounter_id:
        return out
    encounter = changes.get(session, "encounter", encounter_id)
    out["transport"] = ("involuntary" if encounter["disposition"] == "transported_crc_involuntary"
                        else "voluntary")
    out["pickup_order"] = bool(encounter["pickup_order_attempted"]
                               or encounter["pickup_order_served"])
    out["emergency_petition"] = bool(encounter["emergency_petition"])
    people = [p for p in (_person(session, i) for i in encounter["person_ids"] or []) if p]
    if len(people) == 1:
        person = people[0]
        out["safety_cautions"] = person["safety_cautions"] or ""
        age = _age(person)
        if age is not None:
            out["age_group"] = "youth" if age < 18 else "adult"
        if names and person["kind"] == "named":
            out["person_name"] = " ".join(
                p for p in (person["first_name"], person["last_name"]) if p)
    return out


def send(session: Session, *, transport: str, age_group: str, eta_minutes: float | None = None,
         safety_cautions: str = "", pickup_order: bool = False, emergency_petition: bool = False,
         person_name: str = "", encounter_id: str | None = None,
         shift_id: str | None = None) -> str:
    """Send the notice (queued in the outbox; it goes on the next sync) and set the shift to
    'transporting'. Without an entered ETA, it is worked out from distance."""
    shift = changes.get(session, "shift", shift_id) if shift_id else shifts.active_shift(session)
    if shift is None:
        raise TandemError("start a shift first: the notice names the unit")
    eta, source = _eta(session, eta_minutes, encounter_id)
    values = {"team": shift["team"], "unit": shift["unit"], "shift_id": shift["id"],
              "encounter_id": encounter_id, "eta_at": eta, "eta_source": source,
              "sent_at": to_iso(utc_now()),
              **_content(session, transport, age_group, safety_cautions, pickup_order,
                         emergency_petition, person_name)}
    with session.db.atomic():
        notice_id = changes.create(session, "crc_notice", values)
        if shifts.current_status(session, shift["id"]) != "transporting":
            shifts.set_status(session, shift["id"], "transporting")
    return notice_id


def update(session: Session, notice_id: str, *, transport: str, age_group: str,
           eta_minutes: float | None = None, safety_cautions: str = "",
           pickup_order: bool = False, emergency_petition: bool = False,
           person_name: str = "") -> dict:
    """Change a notice already sent (a new ETA, a caution learned on the way); the CRC sees
    it on the unit's next sync. With no ETA entered, the one sent stays. Returns the fields
    that changed."""
    notice = changes.get(session, "crc_notice", notice_id)
    if notice["cancelled_at"]:
        raise TandemError("this notice was cancelled; send a new one")
    eta = {}
    if eta_minutes is not None:
        eta["eta_at"], eta["eta_source"] = _eta(session, eta_minutes, notice["encounter_id"])
    return changes.patch(session, "crc_notice", notice_id, {
        **eta,
        **_content(session, transport, age_group, safety_cautions, pickup_order,
                   emergency_petition, person_name)})


def cancel(session: Session, notice_id: str) -> None:
    """The unit is not coming after all (taken elsewhere, released on scene)."""
    notice = changes.get(session, "crc_notice", notice_id)
    if notice["cancelled_at"]:
        return
    changes.patch(session, "crc_notice", notice_id, {"cancelled_at": to_iso(utc_now())})


def _content(session, transport, age_group, safety_cautions, pickup_order, emergency_petition,
             person_name) -> dict:
    problems = {}
    if transport not in TRANSPORT_KINDS:
        problems["transport"] = f"must be one of {', '.join(TRANSPORT_KINDS)}"
    if age_group not in AGE_GROUPS:
        problems["age_group"] = f"must be one of {', '.join(AGE_GROUPS)}"
    name = (person_name or "").strip()
    if name and not agency.get(session.db, "crc_notice_names"):
        problems["person_name"] = ("your agency does not send names to the CRC "
                                   "(the crc_notice_names setting)")
    if problems:
        raise ValidationError("crc_notice", problems)
    return {"transport": transport, "age_group": age_group,
            "safety_cautions": (safety_cautions or "").strip() or None,
            "pickup_order": bool(pickup_order), "emergency_petition": bool(emergency_petition),
            "person_name": name or None}


def _eta(session, minutes, encounter_id) -> tuple[str, str]:
    if minutes is None:
        minutes, source = eta_minutes(session, encounter_id), "distance"
        if minutes is None:
            raise ValidationError("crc_notice", {
                "eta_at": "enter the minutes to arrival: this laptop does not know where it is"})
    else:
        source = "entered"
    if isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or not (
            0 <= minutes <= ETA_MAX_MINUTES):
        raise ValidationError("crc_notice", {
            "eta_at": f"minutes to arrival must be 0 to {ETA_MAX_MINUTES}"})
    return to_iso(utc_now() + timedelta(minutes=minutes)), source


# --- the ETA from distance --------------------------------------------------------------------

def eta_minutes(session: Session, encounter_id: str | None = None) -> int | None:
    """Minutes to the CRC from where the laptop last knew it was (the encounter's place, else
    the shift's latest located status), at the agency's average speed; None if either end is
    unknown."""
    here = _position(session, encounter_id)
    there = crc_position(session)
    if here is None or there is None:
        return None
    speed = agency.get(session.db, "crc_eta_speed_kmh")
    return max(1, round(haversine_km(here, there) / speed * 60))


def crc_position(session: Session) -> tuple[float, float] | None:
    """Where the CRC is: the law-enforcement drop-off service in the resource directory."""
    row = session.db.execute(
        "SELECT latitude, longitude FROM dir_doc WHERE le_dropoff = 1 AND listed = 1 "
        "AND latitude IS NOT NULL ORDER BY name LIMIT 1").fetchone()
    return (row[0], row[1]) if row else None


def _position(session: Session, encounter_id: str | None) -> tuple[float, float] | None:
    if encounter_id:
        row = session.db.execute("SELECT lat, lon FROM encounter WHERE id = ?",
                                 [encounter_id]).fetchone()
        if row and row[0] is not None and row[1] is not None:
            return row[0], row[1]
    row = session.db.execute(
        "SELECT lat, lon FROM shift_event WHERE lat IS NOT NULL AND lon IS NOT NULL "
        "AND at >= ? ORDER BY at DESC LIMIT 1",
        [to_iso(utc_now() - timedelta(hours=1))]).fetchone()
    return (row[0], row[1]) if row else None


def _person(session: Session, person_id: str) -> dict | None:
    row = session.db.execute("SELECT * FROM person WHERE id = ? AND deleted = 0",
                             [person_id]).fetchone()
    if row is None:
        return None
    return changes.get(session, "person", person_id)


def _age(person: dict) -> int | None:
    today = utc_now().date()
    if person.get("date_of_birth"):
        born = parse_date(str(person["date_of_birth"]))
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    if person.get("birth_year"):
        return today.year - person["birth_year"]
    return None


# --- reading ----------------------------------------------------------------------------------

def open_notice(session: Session) -> dict | None:
    """The notice of the transport in progress: sent in the last hours, not cancelled, and
    no drop-off started from it yet."""
    row = session.db.execute(
        "SELECT n.id FROM crc_notice n WHERE n.deleted = 0 AND n.cancelled_at IS NULL "
        "AND n.sent_at >= ? AND NOT EXISTS (SELECT 1 FROM crc_dropoff d "
        "WHERE d.notice_id = n.id AND d.deleted = 0) ORDER BY n.sent_at DESC LIMIT 1",
        [to_iso(utc_now() - timedelta(hours=OPEN_HOURS))]).fetchone()
    return notice(session, row[0]) if row else None


def notice(session: Session, notice_id: str) -> dict:
    """A notice with `sent`: whether the agency server has it yet (its op left the outbox)."""
    found = changes.get(session, "crc_notice", notice_id)
    pending = session.db.execute(
        "SELECT count(*) FROM outbox WHERE table_name = 'crc_notice' AND record_id = ? "
        "AND state = 'pending'", [notice_id]).fetchone()[0]
    return {**found, "sent": not pending}


def crc_half(session: Session, notice_id: str | None) -> dict | None:
    """The CRC's stamps for a notice's drop-off, as last pulled: {arrived_at, checked_in_at}."""
    if not notice_id:
        return None
    row = session.db.execute(
        "SELECT arrived_at, checked_in_at FROM crc_checkin WHERE notice_id = ? AND deleted = 0 "
        "ORDER BY updated_hlc DESC LIMIT 1", [notice_id]).fetchone()
    return {"arrived_at": row[0], "checked_in_at": row[1]} if row else None


def halves(session: Session, dropoff: dict) -> list[dict]:
    """Both halves of the clock side by side: for arrival and for check-in, the unit's time,
    the CRC's, and the difference in seconds (CRC minus unit) where they disagree."""
    crc = crc_half(session, dropoff.get("notice_id")) or {}
    out = []
    for label, unit_field, crc_field in (("arrived", "arrived_at", "arrived_at"),
                                         ("checked in", "handed_off_at", "checked_in_at")):
        unit, theirs = _iso(dropoff.get(unit_field)), crc.get(crc_field)
        difference = None
        if unit and theirs:
            seconds = (parse_iso(theirs) - parse_iso(unit)).total_seconds()
            difference = seconds if abs(seconds) > DISAGREE_SECONDS else None
        out.append({"what": label, "unit": unit, "crc": theirs, "difference_s": difference})
    return out


def _iso(value) -> str | None:
    if value is None:
        return None
    return to_iso(value) if isinstance(value, datetime) else value


# --- the CRC's status, as the last pull brought it --------------------------------------------

def store_status(db, value) -> None:
    """Keep the status a pull carried (call inside the pull's transaction); None clears it,
    UNSENT (an older server) leaves what is there."""
    if value is UNSENT:
        return
    if not isinstance(value, dict) or value.get("status") not in STATUSES:
        db.execute("DELETE FROM crc_status")
        return
    wait = value.get("wait_minutes")
    db.execute("INSERT OR REPLACE INTO crc_status (id, status, wait_minutes, posted_at) "
               "VALUES (1, ?, ?, ?)",
               [value["status"], wait if isinstance(wait, int) else None,
                str(value.get("posted_at") or "")])


def status(db) -> dict | None:
    """The CRC's status as last pulled: {status, wait_minutes, posted_at}, or None."""
    row = db.execute("SELECT status, wait_minutes, posted_at FROM crc_status").fetchone()
    return {"status": row[0], "wait_minutes": row[1], "posted_at": row[2]} if row else None


def status_text(value: dict | None, clock) -> str:
    """One line for the CRC drop-off screen and the directory: status, wait, as-of time
    (`clock` formats a stored time as the laptop shows it)."""
    if not value:
        return "CRC status: not posted yet"
    words = {"open": "Open", "at_capacity": "At capacity", "diverting": "Diverting"}
    wait = value["wait_minutes"]
    text = f"CRC status: {words[value['status']]}"
    if wait is not None:
        text += f", expected wait {wait} min"
    return text + f" (as of {clock(value['posted_at'])})" if value["posted_at"] else text
