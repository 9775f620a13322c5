"""`tandem-server releases`: the releases of information on file, and signed ones imported from
a CSV file (fieldapp/release_import.py) as ordinary synced records, all rows or none."""

import json
from pathlib import Path

from sqlalchemy import select

from fieldapp import release_import, releases
from fieldapp.followup_import import ImportFileError, read_rows
from fieldapp.persons import label

from .imports import create_ops, push_or_fail, system_caller, team_records
from .tables import app_user, record


def listing(conn, team: str | None = None, in_force: bool = False) -> list[dict]:
    """Every release on file (or one team's), newest signature first, each with its patient's
    label, its `status` and `days_left` (judged by today's UTC date)."""
    query = select(record.c.id, record.c.team, record.c.table_name, record.c.data).where(
        record.c.table_name.in_(["release_of_information", "person"]),
        record.c.deleted.is_(False))
    if team:
        query = query.where(record.c.team == team)
    people, found = {}, []
    for row in conn.execute(query):
        data = json.loads(row.data)
        if row.table_name == "person":
            people[row.id] = label(data)
        else:
            found.append({"id": row.id, "team": row.team, **data})
    out = []
    for r in found:
        state, left = releases.status({**r, "revoked_at": r.get("revoked_at")})
        if in_force and state not in (releases.IN_FORCE, releases.EXPIRING):
            continue
        out.append({**r, "person": people.get(r["person_id"], ""), "status": state,
                    "days_left": left})
    return sorted(out, key=lambda r: (str(r["signed_on"]), r["id"]), reverse=True)


def line(r: dict) -> str:
    """One release as a line of the listing."""
    state = r["status"] + (f" ({r['days_left']} days left)" if r["days_left"] is not None
                           else "")
    event = f" or when {r['expiry_event']}" if r.get("expiry_event") else ""
    return (f"{r['id']}  {r['person'] or r['person_id']} → {r['recipient']}  "
            f"[{r['scope']}] for {r['purpose']}; signed {r['signed_on']} by "
            f"{r.get('signed_by') or 'the patient'}; ends {r['expires_on']}{event}; "
            f"discloser {r['discloser']}; team {r['team']}; {state}")


def import_file(engine, path: str | Path, team: str) -> release_import.Plan:
    """Import a file of signed releases for `team`: every row is checked first, and if any
    is bad nothing is written (the plan's problems say where)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ImportFileError(f"cannot read {path}: {e.strerror}") from None
    rows = read_rows(data, str(path), release_import.REQUIRED, release_import.OPTIONAL)
    with engine.begin() as conn:
        usernames = set(conn.scalars(select(app_user.c.username)))
        plan = release_import.plan(rows, team_records(conn, team, "person"),
                                   team_records(conn, team, "release_of_information"), team,
                                   usernames)
        if plan.problems:
            return plan
        records = [("person", p["id"], {k: v for k, v in p.items() if k != "id"})
                   for p in plan.persons]
        records += [("release_of_information", r["id"], {k: v for k, v in r.items()
                                                           if k != "id"})
                    for r in plan.releases]
        if records:
            caller = system_caller("import-releases", team)
            push_or_fail(conn, caller, create_ops(caller, records))
    return plan
