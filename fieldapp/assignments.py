"""Assignments: calls for service and scheduled tasks for a unit; acknowledge, take, clear."""

from collections import Counter
from datetime import datetime

from . import agency, apco, changes, shifts
from .errors import TandemError, ValidationError
from .records import record_type
from .session import Session
from .timeutil import parse_iso, utc_now, when
from .validation import stored_to_python


def create_assignment(session: Session, values: dict) -> str:
    """A new assignment (from a supervisor, or CAD through the server); starts open. Its
    incident type (a scheduled task's is "scheduled_task") is coded through the agency's APCO
    mapping unless a code is given."""
    values = {"team": session.profile.team, "status": "open",
              "received_at": when(values.get("received_at"), "assignment", "received_at"),
              **{k: v for k, v in values.items() if k != "received_at"}}
    if not values.get("incident_type") and values.get("type") == "scheduled_task":
        values["incident_type"] = "scheduled_task"
    if not values.get("apco_incident_type"):
        values["apco_incident_type"] = apco.incident_type_for(
            agency.get(session.db, "apco_incident_types"), values.get("incident_type"))
    return changes.create(session, "assignment", values)


def acknowledge(session: Session, assignment_id: str, at: datetime | str | None = None) -> None:
    current = changes.get(session, "assignment", assignment_id)
    if current["status"] != "open":
        raise TandemError(f"this assignment is already {current['status']}")
    changes.patch(session, "assignment", assignment_id, {
        "status": "acknowledged", "acknowledged_at": when(at, "assignment", "acknowledged_at")})


def take(session: Session, assignment_id: str, unit: str, shift_id: str | None = None,
         at: datetime | str | None = None) -> None:
    """Take the call for the unit; on a shift, the car goes en route in the same transaction."""
    current = changes.get(session, "assignment", assignment_id)
    if current["status"] not in ("open", "acknowledged"):
        raise TandemError(f"this assignment is already {current['status']}")
    taken = when(at, "assignment", "taken_at")
    with session.db.atomic():
        changes.patch(session, "assignment", assignment_id, {
            "status": "taken", "unit": unit, "shift_id": shift_id, "taken_at": taken})
        if shift_id and shifts.current_status(session, shift_id) != "en_route":
            shifts.set_status(session, shift_id, "en_route", at=taken,
                              note=_call_name(current))


def clear(session: Session, assignment_id: str, disposition: str,
          at: datetime | str | None = None) -> None:
    current = changes.get(session, "assignment", assignment_id)
    if current["status"] == "cleared":
        raise TandemError("this assignment is already cleared")
    if not disposition:
        raise ValidationError("assignment", {"disposition": "required to clear an assignment"})
    changes.patch(session, "assignment", assignment_id, {
        "status": "cleared", "disposition": disposition,
        "apco_disposition": apco.disposition_for(
            agency.get(session.db, "apco_dispositions"), disposition),
        "cleared_at": when(at, "assignment", "cleared_at")})


def open_assignments(session: Session, unit: str | None = None) -> list[dict]:
    """Not yet cleared, most urgent first; each with its age in minutes."""
    sql = "SELECT * FROM assignment WHERE deleted = 0 AND status != 'cleared'"
    params: list = []
    if unit:
        sql += " AND (unit IS NULL OR unit = ?)"
        params.append(unit)
    sql += " ORDER BY priority, received_at"
    now = utc_now()
    rows = []
    for row in session.db.query(sql, params):
        item = stored_to_python(record_type("assignment"), row)
        item["age_minutes"] = (now - parse_iso(item["received_at"])).total_seconds() / 60
        rows.append(item)
    return rows


def by_incident_type(rows: list[dict]) -> list[tuple[str, list[dict]]]:
    """Assignments grouped by APCO common incident type (label, rows), the largest group
    first; those with no code come last, as "unmapped"."""
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(row.get("apco_incident_type") or "", []).append(row)
    sizes = Counter({code: len(found) for code, found in groups.items()})
    ordered = sorted(groups, key=lambda code: (code == "", -sizes[code], code))
    return [(apco.label(code, apco.INCIDENT_TYPES), groups[code]) for code in ordered]


def _call_name(assignment: dict) -> str:
    """How a status event names the call it is for."""
    incident = f"{assignment['cad_incident']} " if assignment.get("cad_incident") else ""
    return f"{incident}{assignment['summary']}"[:200]
