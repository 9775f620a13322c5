"""Releases of information (42 CFR §2.31 consents): a clinician records a signed one, sees a
person's releases and when each ends, and records a revocation.

A release holds the elements §2.31 asks for: the patient (`person_id`), who discloses
(`discloser`), to whom (`recipient`), what (`scope`), why (`purpose`), until when (`expires_on`,
and an `expiry_event` that may end it sooner), when and by whom it was signed (`signed_on`,
`signed_by`); the patient may revoke it (`revoked_at`). The agency server decides from these
which clinical notes reach whom (sync/server/disclosures.py); dates are judged by the agency's
date, in its time zone (fieldapp.agency), as the server judges them.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from . import agency, changes
from .errors import TandemError, ValidationError
from .persons import label
from .records import record_type, release_problems
from .session import Session
from .timeutil import now_iso
from .validation import normalise, stored_to_python

EXPIRY_WARNING_DAYS = 14  # a release this close to its end shows as expiring
IN_FORCE, EXPIRING, EXPIRED, REVOKED, NOT_YET = (
    "in force", "expiring", "expired", "revoked", "not yet in force")


def today(db=None) -> date:
    """The date releases are judged by: the agency's (`agency.today`, in the zone the cache
    `db` last received); with no cache to read, in the setting's default zone."""
    if db is not None:
        return agency.today(db)
    return datetime.now(ZoneInfo(agency.SETTINGS["time_zone"].default)).date()


def add_release(session: Session, person_id: str, values: dict) -> str:
    """Record a signed release for this person. Clinical staff record releases (the server
    refuses anyone else's); recipient and scope take the form the server reads, see
    records.release_problems. Signed by the patient unless `signed_by` names who signed."""
    if not session.profile.can_read_clinical:
        raise TandemError("only clinical staff may record a release of information")
    values = {"person_id": person_id, "signed_by": "the patient", **values}
    problems = release_problems(values)
    try:  # one error naming every bad field
        normalise(record_type("release_of_information"), values, partial=False)
    except ValidationError as e:
        problems = {**e.problems, **problems}
    if problems:
        raise ValidationError("release_of_information", problems)
    return changes.create(session, "release_of_information", values)


def revoke_release(session: Session, release_id: str) -> None:
    """The patient revoked it: it covers no one from the next sync on (anyone on the team may
    record this; only narrowing what is disclosed)."""
    current = changes.get(session, "release_of_information", release_id)
    if current["revoked_at"]:
        raise TandemError("this release is already revoked")
    changes.patch(session, "release_of_information", release_id, {"revoked_at": now_iso()})


def status(release: dict, on: date | None = None) -> tuple[str, int | None]:
    """Where a release stands on `on` (default today), and the days left while in force."""
    on = on or today()
    if release["revoked_at"]:
        return REVOKED, None
    if str(release["signed_on"]) > on.isoformat():
        return NOT_YET, None
    left = (date.fromisoformat(str(release["expires_on"])) - on).days
    if left < 0:
        return EXPIRED, None
    return (EXPIRING if left <= EXPIRY_WARNING_DAYS else IN_FORCE), left


def for_person(session: Session, person_id: str, on: date | None = None) -> list[dict]:
    """Every release this person signed, in force first (soonest to end first), each with its
    `status` and `days_left`."""
    on = on or today(session.db)
    rows = [_with_status(r, on) for r in _query(session, "person_id = ?", [person_id])]
    order = (EXPIRING, IN_FORCE, NOT_YET, EXPIRED, REVOKED)
    return sorted(rows, key=lambda r: (order.index(r["status"]), str(r["expires_on"])))


def active_releases(session: Session, person_id: str, on: date | None = None) -> list[dict]:
    """The person's releases in force on `on`."""
    return [r for r in for_person(session, person_id, on) if r["status"] in (IN_FORCE, EXPIRING)]


def expiring(session: Session, on: date | None = None) -> list[dict]:
    """Releases of the user's teams' people in force but ending within EXPIRY_WARNING_DAYS,
    soonest first, each with its person's `label`, so a new one can be signed in time."""
    on = on or today(session.db)
    teams = list(session.profile.teams)
    rows = _query(session, f"person_id IN (SELECT id FROM person WHERE team IN "
                           f"({', '.join('?' for _ in teams)}))", teams)
    found = [r for r in map(lambda r: _with_status(r, on), rows) if r["status"] == EXPIRING]
    people = {p["id"]: label(p) for p in session.db.query(
        "SELECT * FROM person WHERE id IN (SELECT person_id FROM release_of_information)")}
    return sorted(({**r, "label": people.get(r["person_id"], "")} for r in found),
                  key=lambda r: str(r["expires_on"]))


def _query(session: Session, condition: str, params: list) -> list[dict]:
    return [stored_to_python(record_type("release_of_information"), r) for r in session.db.query(
        f"SELECT * FROM release_of_information WHERE deleted = 0 AND {condition}", params)]


def _with_status(release: dict, on: date | None) -> dict:
    state, left = status(release, on)
    return {**release, "status": state, "days_left": left}
