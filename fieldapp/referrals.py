"""Referrals: a person sent on, from an encounter or an outreach contact, to a service in the
resource directory; the crew or a sergeant moves each one on as they hear back.

A referral keeps the service's and organization's names as they were when it was made, so it
reads the same after the directory changes. Its status goes sent -> accepted -> completed, or
to declined from sent or accepted; FHIR (sync/server/fhir.py) and HMIS (sync/server/hmis.py)
exports read these records, and program figures count them (metrics.py).
"""

import json
from datetime import datetime

from . import changes, persons
from .errors import TandemError, ValidationError
from .records import REFERRAL_CATEGORIES, referral_problems
from .session import Session
from .timeutil import when

NEXT_STATUSES = {"sent": ("accepted", "declined", "completed"),
                 "accepted": ("completed", "declined"),
                 "declined": (), "completed": ()}

# Words in a service's name or categories that suggest what a referral to it is for; the first
# category whose word appears wins, and the person making the referral can change it.
_HINTS = (
    ("crisis_care", ("crisis",)), ("substance_use", ("detox", "substance", "addiction",
                                                     "recovery", "opioid")),
    ("mental_health", ("mental", "behavioral", "counsel", "psychiatr")),
    ("shelter", ("shelter", "emergency housing")), ("housing", ("housing", "rent")),
    ("food", ("food", "meal", "pantry")), ("medical", ("clinic", "medical", "health care",
                                                       "dental")),
    ("health_insurance", ("insurance", "medicaid", "ahcccs")),
    ("benefits", ("benefit", "snap", "income", "cash")), ("employment", ("employ", "job")),
    ("education", ("education", "school", "ged")), ("transportation", ("transport", "bus")),
    ("legal", ("legal", "court", "law")), ("id_documents", ("identification", "id card",
                                                            "birth certificate")),
)


def suggested_category(service: dict) -> str:
    """A first guess at what a referral to this service (a directory result) is for."""
    text = " ".join([service.get("name") or "", *(service.get("categories") or [])]).lower()
    for category, words in _HINTS:
        if any(word in text for word in words):
            return category
    return "other"


def refer(session: Session, *, service_id: str, category: str,
          encounter_id: str | None = None, outreach_contact_id: str | None = None,
          person_id: str | None = None, note: str | None = None,
          at: datetime | str | None = None) -> str:
    """Make a referral (status sent) to a directory service; returns its id."""
    service = session.db.execute(
        "SELECT s.name, o.name FROM dir_service s LEFT JOIN dir_organization o "
        "ON o.id = s.organization_id WHERE s.id = ?", [service_id]).fetchone()
    if service is None:
        raise ValidationError("referral", {"service_id": "not in this laptop's resource "
                                                         "directory; sync, then search again"})
    if category not in REFERRAL_CATEGORIES:
        raise ValidationError("referral", {"category": f"must be one of "
                                                       f"{', '.join(REFERRAL_CATEGORIES)}"})
    if outreach_contact_id and not encounter_id and person_id is None:
        person_id = changes.get(session, "outreach_contact", outreach_contact_id)["person_id"]
    if encounter_id and person_id:
        listed = changes.get(session, "encounter", encounter_id)["person_ids"] or []
        if person_id not in listed:
            raise ValidationError("referral", {"person_id": "is not a person on this encounter"})
    sent_at = when(at, "referral", "sent_at")
    values = {"team": session.profile.team, "encounter_id": encounter_id,
              "outreach_contact_id": outreach_contact_id, "person_id": person_id,
              "service_id": service_id, "service_name": service[0],
              "organization_name": service[1], "category": category, "status": "sent",
              "sent_at": sent_at, "status_changed_at": sent_at, "note": note or None}
    if problems := referral_problems(values):
        raise ValidationError("referral", problems)
    return changes.create(session, "referral", values)


def set_status(session: Session, referral_id: str, status: str,
               at: datetime | str | None = None) -> None:
    """Record what came of a referral: accepted, declined or completed."""
    current = changes.get(session, "referral", referral_id)["status"]
    if status not in NEXT_STATUSES.get(current, ()):
        allowed = NEXT_STATUSES.get(current, ())
        raise TandemError(f"a {current} referral cannot become {status}"
                          + (f"; it can become {' or '.join(allowed)}" if allowed else
                             "; it is closed"))
    changes.patch(session, "referral", referral_id, {
        "status": status, "status_changed_at": when(at, "referral", "status_changed_at")})


def team_referrals(session: Session, open_only: bool = False, limit: int = 200) -> list[dict]:
    """The team's referrals, newest first; open ones are sent or accepted."""
    sql = "SELECT * FROM referral WHERE deleted = 0"
    if open_only:
        sql += " AND status IN ('sent', 'accepted')"
    return list(session.db.query(sql + " ORDER BY sent_at DESC LIMIT ?", [limit]))


def recent_sources(session: Session, limit: int = 30) -> list[dict]:
    """What a referral can be made on: the latest encounters and outreach contacts, newest
    first, each as {kind, id, at, what, people: [{id, label}]}."""
    names = {p["id"]: persons.label(p) for p in session.db.query(
        "SELECT id, kind, first_name, last_name, alias, description FROM person "
        "WHERE deleted = 0")}
    rows = [{"kind": "encounter", "id": r[0], "at": r[1], "what": r[3],
             "people": json.loads(r[2] or "[]")} for r in session.db.execute(
        "SELECT id, started_at, person_ids, presenting_situation FROM encounter "
        "WHERE deleted = 0 ORDER BY started_at DESC LIMIT ?", [limit])]
    rows += [{"kind": "outreach_contact", "id": r[0], "at": r[1],
              "what": ", ".join([*json.loads(r[4] or "[]")[:2], *([r[3]] if r[3] else [])]),
              "people": [r[2]] if r[2] else []} for r in session.db.execute(
        "SELECT id, contacted_at, person_id, place, services_offered FROM outreach_contact "
        "WHERE deleted = 0 ORDER BY contacted_at DESC LIMIT ?", [limit])]
    for row in rows:
        row["people"] = [{"id": i, "label": names.get(i, "Unknown person")}
                         for i in row["people"]]
    return sorted(rows, key=lambda r: r["at"], reverse=True)[:limit]
