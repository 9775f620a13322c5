"""The demo: a laptop cache for the demo user, filled from seeds/, opened with the demo password.

The demo password is documented in seeds/roster.json and the README; `tandem demo` supplies
it so a first look needs no typing. Seeding runs once, when the demo cache is first made.
"""

from datetime import date, timedelta
from pathlib import Path

import seeds

from . import assignments, followups, paths, persons
from .session import Profile, Session, create_cache, unlock


def credentials() -> tuple[str, str]:
    """The demo user's name and documented password."""
    roster = seeds.load("roster")
    return roster["demo_user"], roster["demo_password"]


def demo_profile() -> Profile:
    roster = seeds.load("roster")
    user = next(u for u in roster["users"] if u["username"] == roster["demo_user"])
    teams = user.get("teams") or [user["team"]]
    return Profile(user["username"], user["role"], tuple(teams), user.get("display_name", ""))


def prepare(data_dir: Path, today: date | None = None) -> Session:
    """Open the demo user's cache, creating and seeding it on first use."""
    username, password = credentials()
    if paths.cache_path(data_dir, username).exists():
        return unlock(data_dir, username, password)
    session = create_cache(data_dir, demo_profile(), password)
    seed_case_data(session, today or date.today())
    return session


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
