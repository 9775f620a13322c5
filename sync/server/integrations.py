"""Integrations: outside systems (the CAD) that post work for a team with a key of their own.

`tandem-server add-integration NAME --team T` prints a key once; the database keeps only its
SHA-256, like the sign-in tokens. A CAD assignment becomes an ordinary assignment record
through exchange.push (see imports.system_caller), so it reaches the unit's laptop on its next
sync. Its record id and op id are derived from the team and the CAD incident number (or an
EIDO's incident tracking identifier), so a CAD that posts the same incident again (a retry after
a lost answer) gets the first result back instead of a second assignment.

A CAD posts either Tandem's own shape (CadAssignment) or a NENA EIDO (eido.py). Either way the
call carries an APCO common incident type: the one the CAD sends, else its own call type mapped
through the agency's `apco_incident_types` setting (fieldapp/apco.py).
"""

import hashlib
import secrets
import uuid
from datetime import datetime
from typing import Annotated, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator
from sqlalchemy import Column, String, Table, insert, select

from fieldapp import apco
from fieldapp.errors import ValidationError
from fieldapp.timeutil import now_iso, to_iso

from .. import protocol as P
from . import agency_settings, eido, exchange
from .imports import create_ops, system_caller
from .tables import metadata

NAME_MAX = 64
_IDS = uuid.UUID("6f1d0c56-5d1b-4c4e-9d6f-7a7e3e0c1a27")  # namespace of CAD-derived ids

integration = Table(
    "integration", metadata,
    Column("name", String(NAME_MAX), primary_key=True),
    Column("team", String(64), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("created_at", String(40), nullable=False),
    Column("revoked_at", String(40)),
)


class IntegrationError(Exception):
    """A bad integration name or key; the message says which."""


class CadAssignment(BaseModel):
    """What a CAD posts: one call for service (or scheduled task) for the team's units."""

    model_config = ConfigDict(extra="forbid")
    incident: str = Field(min_length=1, max_length=32, description="CAD incident number")
    priority: int = Field(ge=1, le=3)
    summary: str = Field(min_length=1, max_length=2000)
    type: str = Field("call_for_service", pattern="^(call_for_service|scheduled_task)$")
    place: str | None = Field(None, max_length=500)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    unit: str | None = Field(None, max_length=32, description="the unit dispatched, if any")
    received_at: datetime | None = None
    incident_type: str | None = Field(None, max_length=64,
                                      description="the CAD's own call type, mapped to an APCO "
                                                  "code through the agency's table")
    apco_incident_type: str | None = Field(None, description="an APCO ANS 2.103.2 common "
                                                             "incident type, if the CAD has one")

    @field_validator("received_at")
    @classmethod
    def _in_range(cls, value: datetime | None) -> datetime | None:
        if value is not None:
            try:
                to_iso(value)
            except OverflowError:
                raise ValueError("out of range once in UTC") from None
        return value

    @field_validator("apco_incident_type")
    @classmethod
    def _known_type(cls, value: str | None) -> str | None:
        if value is not None and value not in apco.INCIDENT_TYPES:
            raise ValueError(f"{value!r} is not an APCO common incident type")
        return value


def _shape(body) -> str:
    """Which of the two shapes a posted body is: an EIDO names its version."""
    return "eido" if isinstance(body, dict) and "eidoVersion" in body else "tandem"


CadCall = Annotated[Union[Annotated[CadAssignment, Tag("tandem")],
                          Annotated[eido.Eido, Tag("eido")]], Discriminator(_shape)]


def add_integration(conn, name: str, team: str) -> str:
    """Register an integration; returns its key (shown once, stored only as a hash)."""
    if not name or len(name) > NAME_MAX or not name.replace("-", "").replace("_", "").isalnum():
        raise IntegrationError(f"integration name {name!r} must be 1–{NAME_MAX} letters, "
                               "digits, '-' or '_'")
    if not team or len(team) > 64:
        raise IntegrationError("--team must be a team name of 1–64 characters")
    if conn.scalar(select(integration.c.name).where(integration.c.name == name)) is not None:
        raise IntegrationError(f"integration {name!r} already exists")
    key = secrets.token_urlsafe(32)
    conn.execute(insert(integration).values(name=name, team=team, key_hash=_digest(key),
                                            created_at=now_iso()))
    return key


def authenticate(conn, key: str | None):
    """The integration row for this key, else IntegrationError."""
    if not key:
        raise IntegrationError("missing X-Integration-Key header")
    row = conn.execute(select(integration).where(integration.c.key_hash == _digest(key))
                       ).mappings().first()
    if row is None or row["revoked_at"]:
        raise IntegrationError("unknown or revoked integration key")
    return row


def post_assignment(conn, source, body: CadAssignment | eido.Eido) -> dict:
    """Create the assignment for the integration's team; returns {id, status}.
    ValidationError if the EIDO or the record rules refuse it."""
    team = source["team"]
    if isinstance(body, eido.Eido):
        key, values = f"eido:{body.id}", eido.assignment_values(body)
    else:
        key = body.incident
        values = {"source": "cad", "cad_incident": body.incident, "type": body.type,
                  "priority": body.priority, "place": body.place, "lat": body.lat,
                  "lon": body.lon, "summary": body.summary, "unit": body.unit,
                  "received_at": to_iso(body.received_at) if body.received_at else now_iso(),
                  "incident_type": body.incident_type,
                  "apco_incident_type": body.apco_incident_type or apco.incident_type_for(
                      agency_settings.read(conn)["apco_incident_types"], body.incident_type)}
    values = {**values, "team": team, "status": "open"}
    record_id = str(uuid.uuid5(_IDS, f"assignment:{team}:{key}"))
    caller = system_caller(f"cad:{source['name']}", team)
    [op] = create_ops(caller, [("assignment", record_id, values)])
    op["op_id"] = str(uuid.uuid5(_IDS, f"op:{team}:{key}"))
    [result] = exchange.push(conn, caller, [op])
    if result["status"] == P.REJECTED:
        if "already exists" in result["reason"]:
            return {"id": record_id, "status": P.DUPLICATE}
        raise ValidationError("assignment", {"body": result["reason"]})
    status = P.DUPLICATE if result["status"] == P.DUPLICATE else P.APPLIED
    return {"id": record_id, "status": status}


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()

