"""The team roster on this laptop: who may ride in the car with this user, and each member's
usual unit and vehicle. Reference data from the agency server (sync/roster.py replaces it on
every sync), never edited here."""

import json

from .session import Session

# Roles a shift's partner can have: everyone on the road (an admin is not).
ROAD_ROLES = ("officer", "clinician", "peer", "supervisor", "clinical_supervisor")


def replace(session: Session, members: list[dict]) -> bool:
    """The roster as the server sent it, in one transaction; True if it changed (the table
    is then noted on the session, so the shift screen shows it)."""
    rows = sorted((m["username"], m.get("display_name") or m["username"], m["role"],
                   json.dumps(list(m.get("teams") or [])), m.get("unit"), m.get("vehicle"))
                  for m in members)
    db = session.db
    with db.atomic():
        if rows == sorted(db.execute("SELECT username, display_name, role, teams, unit, "
                                     "vehicle FROM roster_member")):
            return False
        db.execute("DELETE FROM roster_member")
        db.conn.executemany(
            "INSERT INTO roster_member (username, display_name, role, teams, unit, vehicle) "
            "VALUES (?, ?, ?, ?, ?, ?)", rows)
    session.note_changed("roster_member")
    return True


def members(session: Session) -> list[dict]:
    """Everyone on this user's teams, by name."""
    rows = session.db.query("SELECT * FROM roster_member ORDER BY display_name, username")
    return [{**r, "teams": json.loads(r["teams"])} for r in rows]


def member(session: Session, username: str) -> dict | None:
    return next((m for m in members(session) if m["username"] == username), None)


def partners(session: Session) -> list[dict]:
    """Who this user may start a shift with: teammates on the road, the roles this user
    usually rides with first (an officer's clinicians, a clinician's officers)."""
    me = session.profile
    usual = {"officer": "clinician", "clinician": "officer"}.get(me.role, me.role)
    found = [m for m in members(session) if m["username"] != me.username
             and m["role"] in ROAD_ROLES and set(m["teams"]) & set(me.teams)]
    return sorted(found, key=lambda m: m["role"] != usual)


def car(session: Session, partner: str | None = None) -> dict:
    """The unit and vehicle a shift starts with: this user's usual car, else the partner's."""
    out = {"unit": None, "vehicle": None}
    for name in (session.username, partner):
        m = member(session, name) if name else None
        for key in out:
            out[key] = out[key] or (m or {}).get(key)
    return out


def choices(session: Session) -> dict:
    """What starting a shift offers: the partners, and the car each pick starts with (under
    None, the car with no partner picked)."""
    found = partners(session)
    return {"partners": found,
            "cars": {None: car(session), **{m["username"]: car(session, m["username"])
                                            for m in found}}}
