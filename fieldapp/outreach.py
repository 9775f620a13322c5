"""Outreach contacts: what a peer logs on the sidewalk, in seconds; a person is optional."""

from datetime import datetime

from . import changes
from .session import Session
from .timeutil import when


def log_contact(session: Session, *, services_offered: list[str] = (), supplies: list[str] = (),
                referral: str | None = None, outcome: str | None = None,
                person_id: str | None = None, place: str | None = None,
                lat: float | None = None, lon: float | None = None, note: str | None = None,
                living_situation: str | None = None, engaged: bool = False,
                at: datetime | str | None = None) -> str:
    """Log a contact. `living_situation` (records.LIVING_SITUATIONS) and `engaged` (the person
    accepted case planning) are what an HMIS street outreach export needs of each contact."""
    return changes.create(session, "outreach_contact", {
        "team": session.profile.team, "contacted_at": when(at, "outreach_contact", "contacted_at"),
        "person_id": person_id, "place": place, "lat": lat, "lon": lon,
        "services_offered": list(services_offered) if isinstance(services_offered, (list, tuple)) else services_offered,
        "supplies": list(supplies) if isinstance(supplies, (list, tuple)) else supplies,
        "referral": referral, "outcome": outcome, "note": note,
        "living_situation": living_situation, "engaged": engaged,
    })


def recent_contacts(session: Session, limit: int = 50) -> list[dict]:
    return list(session.db.query(
        "SELECT * FROM outreach_contact WHERE deleted = 0 ORDER BY contacted_at DESC LIMIT ?",
        [limit]))
