"""The demo's laptop side: the demo user's documented credentials and the seed case data.

The demo password is documented in seeds/roster.json and the README; `tandem demo` (see
sync/demo.py) supplies it so a first look needs no typing.
"""

from datetime import date, timedelta

import seeds

from . import assignments, followups, persons
from .session import Session


def credentials() -> tuple[str, str]:
    """The demo user's name and documented password."""
    roster = seeds.load("roster")
    return roster["demo_user"], roster["demo_password"]


def seed_case_data(session: Session, today: date) -> None:
    """Persons, follow-ups and assignments for the demo user's team, in one transaction."""
    team = session.profile.team
    people = seeds.load("followups")
    with session.db.atomic():
        for person in people["persons"]:
            values = {k: v for k, v in person.items() if k not in ("id", "team")}
            persons.add_person(session, {**values, "team": team}, record_id=person["id"])
        for item in people["follow_ups"]:
            values = {k: v for k, v in item.items() if k not in ("due_in_days", "team", "id")}
            values["due_on"] = (today + timedelta(days=item["due_in_days"])).isoformat()
            followups.create_follow_up(session, {**values, "team": team})
        for item in seeds.load("assignments")["assignments"]:
            values = {k: v for k, v in item.items() if k not in ("id", "team")}
            assignments.create_assignment(session, {**values, "team": team})
