"""A NENA Emergency Incident Data Object (EIDO, NENA-STA-021.1b-2022, JSON), read as a call
for service: what `POST /api/v1/cad/assignments` accepts besides Tandem's own shape.

Tandem reads the parts a crew needs and ignores the other components: the incident tracking
identifier (the EIDO's `$id`), the incident component's common incident type (an APCO code),
its internal type and id, its priority, the location and notes it references, and the time the
call started. Whatever is malformed or missing among those is answered with 422 naming the field
by its path in the EIDO (docs/cad-standards.md).
"""

import html
import re
import xml.etree.ElementTree as ElementTree
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from fieldapp import apco
from fieldapp.errors import ValidationError
from fieldapp.timeutil import to_iso

CIVIC = "{urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr}"
GML_POS = "{http://www.opengis.net/gml}pos"
PIDF_MAX = 65_536
SUMMARY_MAX = 2000
# Location types, most wanted first (EIDO-LocationType registry).
LOCATION_PREFERENCE = ("CurrentIncident", "InitialIncident", "Caller")


class Reference(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ref: str = Field(alias="$ref", min_length=1, max_length=255)


class _Component(BaseModel):
    """The prologue every EIDO data component carries; components may hold more than Tandem
    reads."""
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    id: str = Field(alias="$id", min_length=1, max_length=255)
    lastUpdateTimeStamp: datetime
    updatedByAgencyReference: Reference


class Location(_Component):
    locationTypeDescriptionRegistryText: str = Field(min_length=1, max_length=64)
    locationByValue: str | None = Field(None, max_length=PIDF_MAX,
                                        description="a PIDF-LO document")
    locationDescriptionText: str | None = Field(None, max_length=500)


class Note(_Component):
    notesActionComments: str = Field(min_length=1, max_length=20_000,
                                     description="the note, in HTML5")


class Call(_Component):
    callStartTimestamp: datetime | None = None


class Incident(_Component):
    incidentTypeCommonRegistryText: str = Field(
        min_length=1, max_length=16,
        description="an APCO ANS 2.103.2-2019 common incident type (EIDO-IncidentType-Common)")
    incidentTypeInternalCode: str | None = Field(None, max_length=64)
    incidentTypeInternalText: str | None = Field(None, max_length=500)
    internalIncidentId: str | None = Field(None, max_length=255)
    incidentCommonPriorityNumber: int | None = Field(None, ge=0, le=10,
                                                     description="0 lowest .. 10 highest")
    incidentPriorityInternalText: str | None = Field(None, max_length=64)
    locationReference: list[Reference] = Field(default_factory=list, max_length=50)
    notesReference: list[Reference] = Field(default_factory=list, max_length=500)

    @field_validator("incidentTypeCommonRegistryText")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in apco.INCIDENT_TYPES:
            raise ValueError(f"{value!r} is not in the EIDO-IncidentType-Common registry "
                             "(APCO ANS 2.103.2-2019)")
        return value


class Eido(_Component):
    """An EIDO carrying one incident (NENA-STA-021.1b, JSON; extra components are allowed)."""
    eidoVersion: Literal["1.0"]
    issuingElementIdentification: str = Field(min_length=1, max_length=255)
    agencyComponent: list[dict] = Field(min_length=1, max_length=100)
    incidentComponent: Incident
    locationComponent: list[Location] = Field(default_factory=list, max_length=50)
    notesComponent: list[Note] = Field(default_factory=list, max_length=500)
    callComponent: list[Call] = Field(default_factory=list, max_length=50)


def assignment_values(eido: Eido) -> dict:
    """The assignment an EIDO asks for (its fields, `team` and `status` aside), or
    ValidationError naming each EIDO field that stands in the way."""
    incident, problems = eido.incidentComponent, {}
    location = _location(eido, problems)
    notes = _notes(eido, problems)
    priority = _priority(incident, problems)
    if problems:
        raise ValidationError("eido", problems)
    starts = [c.callStartTimestamp for c in eido.callComponent if c.callStartTimestamp]
    received = min(starts) if starts else incident.lastUpdateTimeStamp
    local_type = incident.incidentTypeInternalCode or incident.incidentTypeInternalText
    heading = incident.incidentTypeInternalText or apco.label(
        incident.incidentTypeCommonRegistryText, apco.INCIDENT_TYPES)
    summary = " — ".join([heading, *notes]) if notes else heading
    if len(summary) > SUMMARY_MAX:
        summary = summary[:SUMMARY_MAX - 40] + " … (notes cut; the CAD has them whole)"
    internal_id = incident.internalIncidentId
    return {
        "source": "cad", "type": "call_for_service", "priority": priority,
        "cad_incident": internal_id if internal_id and len(internal_id) <= 32 else None,
        "incident_tracking_id": eido.id, "incident_type": (local_type or "")[:64] or None,
        "apco_incident_type": incident.incidentTypeCommonRegistryText,
        "summary": summary, "received_at": to_iso(received), **location,
    }


def _priority(incident: Incident, problems: dict) -> int | None:
    """Tandem's 1 (most urgent) to 3 from EIDO's common priority (10 highest .. 0), else
    from an internal priority written 1, 2, 3 or P1, P2, P3."""
    common = incident.incidentCommonPriorityNumber
    if common is not None:
        return 1 if common >= 8 else 2 if common >= 4 else 3
    internal = re.fullmatch(r"[Pp]?([123])", (incident.incidentPriorityInternalText or "").strip())
    if internal:
        return int(internal.group(1))
    problems["incidentComponent.incidentCommonPriorityNumber"] = (
        "required: Tandem needs the incident's priority (0–10), or "
        "incidentPriorityInternalText of 1, 2 or 3")
    return None


def _location(eido: Eido, problems: dict) -> dict:
    by_id = {c.id: (n, c) for n, c in enumerate(eido.locationComponent)}
    referenced = []
    for n, ref in enumerate(eido.incidentComponent.locationReference):
        if ref.ref not in by_id:
            problems[f"incidentComponent.locationReference[{n}]"] = (
                f"no locationComponent has $id {ref.ref!r}")
        else:
            referenced.append(by_id[ref.ref])
    if not referenced:
        if not eido.incidentComponent.locationReference:
            problems["incidentComponent.locationReference"] = (
                "required: Tandem needs the incident's location (a locationComponent it "
                "references)")
        return {}
    rank = {t: i for i, t in enumerate(LOCATION_PREFERENCE)}
    n, chosen = min(referenced, key=lambda item: rank.get(
        item[1].locationTypeDescriptionRegistryText, len(rank)))
    place, point = None, None
    if chosen.locationByValue:
        try:
            place, point = _pidf(chosen.locationByValue)
        except ValueError as e:
            problems[f"locationComponent[{n}].locationByValue"] = str(e)
            return {}
    description = (chosen.locationDescriptionText or "").strip() or None
    if place and description:
        place = f"{place} ({description})"
    place = place or description
    if not place and not point:
        problems[f"locationComponent[{n}]"] = (
            "has no civic address, point or locationDescriptionText Tandem can show")
        return {}
    values = {"place": place[:500] if place else None}
    if point:
        values["lat"], values["lon"] = point
    return values


def _pidf(document: str) -> tuple[str | None, tuple[float, float] | None]:
    """A PIDF-LO document's civic address as one line, and its first point (lat, lon)."""
    if "<!DOCTYPE" in document or "<!ENTITY" in document:
        raise ValueError("a PIDF-LO document may not declare a DOCTYPE or entities")
    try:
        root = ElementTree.fromstring(document)
    except ElementTree.ParseError as e:
        raise ValueError(f"not well-formed XML ({e})") from None
    civic = root.find(f".//{CIVIC}civicAddress")
    place = None
    if civic is not None:
        part = {child.tag.removeprefix(CIVIC): (child.text or "").strip() for child in civic}
        street = " ".join(x for x in (part.get("HNO"), part.get("HNS"), part.get("PRD"),
                                      part.get("RD"), part.get("STS"), part.get("POD")) if x)
        place = ", ".join(x for x in (part.get("NAM"), street, part.get("LOC"), part.get("A3"),
                                      " ".join(y for y in (part.get("A1"), part.get("PC")) if y))
                          if x) or None
    point = None
    pos = root.find(f".//{GML_POS}")
    if pos is not None:
        try:
            lat, lon = (float(x) for x in (pos.text or "").split()[:2])
        except ValueError:
            raise ValueError(f"gml:pos {pos.text!r} is not 'latitude longitude'") from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ValueError(f"gml:pos {pos.text!r} is outside latitude/longitude ranges")
        point = (lat, lon)
    return place, point


def _notes(eido: Eido, problems: dict) -> list[str]:
    by_id = {c.id: c for c in eido.notesComponent}
    notes = []
    for n, ref in enumerate(eido.incidentComponent.notesReference):
        note = by_id.get(ref.ref)
        if note is None:
            problems[f"incidentComponent.notesReference[{n}]"] = (
                f"no notesComponent has $id {ref.ref!r}")
            continue
        text = html.unescape(re.sub(r"<[^>]*>", " ", note.notesActionComments))
        text = re.sub(r"\s+([.,;:!?])", r"\1", " ".join(text.split()))
        if text:
            notes.append(text)
    return notes
