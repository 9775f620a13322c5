"""People the team meets: named, known by an alias, or anonymous; cautions. (Their releases of
information are in releases.py.)

Person records are sensitive: reading one through `view_person` leaves an audit event, and
every change does too (see changes.py).
"""

from . import changes
from .errors import ValidationError
from .records import record_type
from .session import Session
from .validation import stored_to_python


def add_person(session: Session, values: dict, record_id: str | None = None) -> str:
    values = {"team": session.profile.team, **values}
    _check_identity(values)
    return changes.create(session, "person", values, record_id=record_id)


def view_person(session: Session, person_id: str) -> dict:
    """The person's record, for display; audited as a view."""
    person = changes.get(session, "person", person_id)
    changes.audit(session, "person.view", "person", person_id)
    return person


# What a form keeps of a person on file: enough to show them, and their id.
ON_FILE_FIELDS = ("id", "kind", "first_name", "last_name", "alias", "description",
                  "safety_cautions")


def on_file(session: Session, person_id: str) -> dict:
    """Someone on file picked for a form: read through view_person (an audited view), kept to
    what the form shows."""
    person = view_person(session, person_id)
    return {k: person.get(k) for k in ON_FILE_FIELDS}


def label(person: dict) -> str:
    """How the person is shown in lists: name, else alias, else description."""
    if person.get("kind") == "named":
        return " ".join(p for p in (person.get("first_name"), person.get("last_name")) if p)
    if person.get("kind") == "alias":
        return f"“{person.get('alias')}”"
    return person.get("description") or "Anonymous"


def labels(session: Session, person_ids) -> dict[str, str]:
    """id -> how each of these people is shown (`label`), read without an audit event: a name
    on a list is not a view of the record."""
    ids = sorted(person_ids)
    found = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        found |= {p["id"]: label(p) for p in session.db.query(
            f"SELECT id, kind, first_name, last_name, alias, description FROM person "
            f"WHERE id IN ({', '.join('?' * len(chunk))})", chunk)}
    return found


def search_people(session: Session, text: str, limit: int = 8,
                  teams: list[str] | None = None) -> list[dict]:
    """People of `teams` (default: the user's) whose name, alias or description holds every
    typed word, for picking someone already on file. Lists labels only: opening a record is
    `view_person`."""
    teams = list(teams or session.profile.teams)
    sql = (f"SELECT * FROM person WHERE deleted = 0 AND team IN ({', '.join('?' * len(teams))})")
    params: list = [*teams]
    for word in text.split():
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        sql += (" AND (coalesce(first_name, '') || ' ' || coalesce(last_name, '') || ' ' || "
                "coalesce(alias, '') || ' ' || coalesce(description, '')) LIKE ? ESCAPE '\\'")
        params.append(f"%{escaped}%")
    sql += " ORDER BY last_name, first_name, alias, description LIMIT ?"
    rows = session.db.query(sql, [*params, limit])
    return [stored_to_python(record_type("person"), r) for r in rows]


def _check_identity(values: dict) -> None:
    kind = values.get("kind")
    if kind == "named" and not (values.get("first_name") or values.get("last_name")):
        raise ValidationError("person", {"first_name": "a named person needs a first or last name"})
    if kind == "alias" and not values.get("alias"):
        raise ValidationError("person", {"alias": "required for a person known by an alias"})
