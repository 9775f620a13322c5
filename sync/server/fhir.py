"""`tandem-server export-fhir`: referrals as FHIR R4 (4.0.1) resources, in the pattern of the
Gravity Project's SDOH Clinical Care guide (HL7 SDOHCC, STU 2): for each referral a
ServiceRequest (what was asked for, of whom, for whom) and a Task (the request to fulfil it,
whose status follows what came back), with the Patient, the service asked (HealthcareService),
its Organization and the agency (the requester), all in one `collection` Bundle.

References between entries are `urn:uuid:` full URLs, so the file stands alone; every id is a
UUID derived from Tandem's ids, so exporting the same referral again gives the same resources.
docs/fhir.md says what is written and what is left out.
"""

import json
import uuid
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from fieldapp import files
from fieldapp.timeutil import parse_iso, to_iso

from . import agency_settings
from .tables import record

SDOHCC = "http://hl7.org/fhir/us/sdoh-clinicalcare"
SDOH_CODES = f"{SDOHCC}/CodeSystem/SDOHCC-CodeSystemTemporaryCodes"
SNOMED = "http://snomed.info/sct"
PROFILES = {"ServiceRequest": f"{SDOHCC}/StructureDefinition/SDOHCC-ServiceRequest",
            "Task": f"{SDOHCC}/StructureDefinition/SDOHCC-TaskForReferralManagement"}
SOCIAL_SERVICE = {"system": SNOMED, "code": "410606002", "display": "Social service procedure"}
REFERRAL_TO_SERVICE = {"system": SNOMED, "code": "306206005",
                       "display": "Referral to service (procedure)"}
FULFILL = {"system": "http://hl7.org/fhir/CodeSystem/task-code", "code": "fulfill",
           "display": "Fulfill the focal request"}
# Referral categories (records.REFERRAL_CATEGORIES) that are SDOH domains (SDOHCC ValueSet
# SDOH Category); the clinical ones (mental health, crisis care, substance use, medical) and
# legal help are not, and carry only the social service category.
SDOH_CATEGORIES = {
    "shelter": ("homelessness", "Homelessness"), "housing": ("homelessness", "Homelessness"),
    "food": ("food-insecurity", "Food Insecurity"),
    "benefits": ("financial-insecurity", "Financial Insecurity"),
    "health_insurance": ("health-insurance-coverage-status",
                         "Health Insurance Coverage Status"),
    "employment": ("employment-status", "Employment Status"),
    "education": ("educational-attainment", "Educational Attainment"),
    "transportation": ("transportation-insecurity", "Transportation Insecurity"),
    "id_documents": ("material-hardship", "Material Hardship"),
}
# Tandem's referral status -> (Task.status, ServiceRequest.status)
STATUSES = {"sent": ("requested", "active"), "accepted": ("accepted", "active"),
            "declined": ("rejected", "revoked"), "completed": ("completed", "completed")}
_IDS = uuid.UUID("0b7f3d2e-8a4c-4e61-9c1d-5f2a7e9b3c40")  # namespace of derived resource ids


class ExportError(Exception):
    """The export cannot be made as asked."""


def export(engine, out: str | Path, *, start: date | None = None, end: date | None = None,
           team: str | None = None) -> dict:
    """Write the referrals sent in [start, end] (agency-local days; open-ended if None), of
    one team or all, as a Bundle to `out`; returns {file, referrals, resources}."""
    if start and end and end < start:
        raise ExportError(f"--to {end} is before --from {start}")
    with engine.connect() as conn:
        settings = agency_settings.read(conn)
        zone = ZoneInfo(settings["time_zone"])
        query = select(record).where(record.c.table_name.in_(("referral", "person")),
                                     record.c.deleted.is_(False))
        if team:
            query = query.where(record.c.team == team)
        found = {"referral": [], "person": {}}
        for r in conn.execute(query).mappings():
            data = {**json.loads(r["data"]), "id": r["id"]}
            if r["table_name"] == "person":
                found["person"][r["id"]] = data
            elif _inside(data["sent_at"], start, end, zone):
                found["referral"].append(data)
    referrals = sorted(found["referral"], key=lambda r: (r["sent_at"], r["id"]))
    bundle = bundle_for(referrals, found["person"], settings["agency_name"])
    out = Path(out)
    _write(out, bundle)
    return {"file": str(out), "referrals": len(referrals), "resources": len(bundle["entry"])}


def _inside(sent_at: str, start: date | None, end: date | None, zone: ZoneInfo) -> bool:
    moment = parse_iso(sent_at)
    if start and moment < datetime.combine(start, time(0), zone):
        return False
    return not (end and moment >= datetime.combine(end + timedelta(days=1), time(0), zone))


def bundle_for(referrals: list[dict], persons: dict[str, dict], agency_name: str) -> dict:
    """The Bundle for these referrals: each resource once, referrals in the order given."""
    entries: dict[str, dict] = {}

    def add(resource: dict) -> str:
        url = f"urn:uuid:{resource['id']}"
        entries.setdefault(url, {"fullUrl": url, "resource": resource})
        return url

    agency = add({"resourceType": "Organization", "id": _uuid("agency", agency_name),
                  "active": True, "name": agency_name})
    for r in referrals:
        patient = add(_patient(r, persons.get(r.get("person_id") or "")))
        provider = None
        if r.get("organization_name"):
            provider = add({"resourceType": "Organization",
                            "id": _uuid("organization", r["organization_name"]),
                            "active": True, "name": r["organization_name"]})
        service = add({"resourceType": "HealthcareService", "id": _uuid("service", r["service_id"]),
                       "active": True, "name": r["service_name"],
                       "identifier": [{"system": "urn:tandem:directory:service",
                                       "value": r["service_id"]}],
                       **({"providedBy": {"reference": provider}} if provider else {})})
        task_status, request_status = STATUSES[r["status"]]
        category = [{"coding": [SOCIAL_SERVICE]}]
        if r["category"] in SDOH_CATEGORIES:
            code, display = SDOH_CATEGORIES[r["category"]]
            category.append({"coding": [{"system": SDOH_CODES, "code": code,
                                         "display": display}]})
        request_id = str(uuid.UUID(r["id"])) if _is_uuid(r["id"]) else _uuid("referral", r["id"])
        request = add({
            "resourceType": "ServiceRequest", "id": request_id,
            "meta": {"profile": [PROFILES["ServiceRequest"]]},
            "identifier": [{"system": "urn:tandem:referral", "value": r["id"]}],
            "status": request_status, "intent": "order", "category": category,
            "code": {"coding": [REFERRAL_TO_SERVICE],
                     "text": f"Referral to {r['service_name']}"},
            "subject": {"reference": patient}, "authoredOn": _instant(r["sent_at"]),
            "requester": {"reference": agency, "display": agency_name},
            "performer": [{"reference": service, "display": r["service_name"]}],
            **({"note": [{"text": r["note"]}]} if r.get("note") else {})})
        task = {
            "resourceType": "Task", "id": _uuid("task", r["id"]),
            "meta": {"profile": [PROFILES["Task"]]}, "status": task_status,
            "intent": "order", "code": {"coding": [FULFILL]},
            "focus": {"reference": request}, "for": {"reference": patient},
            "authoredOn": _instant(r["sent_at"]),
            "lastModified": _instant(r.get("status_changed_at") or r["sent_at"]),
            "requester": {"reference": agency, "display": agency_name}}
        if provider:
            task["owner"] = {"reference": provider, "display": r["organization_name"]}
        if task_status == "rejected":
            task["statusReason"] = {"text": "Declined: the service or the person said no"}
        add(task)
    return {"resourceType": "Bundle", "id": str(uuid.uuid4()), "type": "collection",
            "timestamp": _instant(to_iso(datetime.now().astimezone())),
            "entry": list(entries.values())}


def _patient(referral: dict, person: dict | None) -> dict:
    """The person referred; someone not identified is a Patient with no name or details."""
    if person is None:
        return {"resourceType": "Patient", "id": _uuid("unidentified", referral["id"])}
    patient = {"resourceType": "Patient", "id": _uuid("person", person["id"]),
               "identifier": [{"system": "urn:tandem:person", "value": person["id"]}]}
    if person.get("kind") == "named" and (person.get("first_name") or person.get("last_name")):
        name = {"use": "official"}
        if person.get("last_name"):
            name["family"] = person["last_name"]
        if person.get("first_name"):
            name["given"] = [person["first_name"]]
        patient["name"] = [name]
    elif person.get("kind") == "alias" and person.get("alias"):
        patient["name"] = [{"use": "nickname", "text": person["alias"]}]
    if person.get("date_of_birth"):
        patient["birthDate"] = person["date_of_birth"]
    elif person.get("birth_year"):
        patient["birthDate"] = f"{person['birth_year']:04d}"  # FHIR date: a year alone is allowed
    return patient


def _instant(iso: str) -> str:
    return to_iso(parse_iso(iso))


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
        return True
    except ValueError:
        return False


def _uuid(kind: str, key: str) -> str:
    return str(uuid.uuid5(_IDS, f"{kind}:{key}"))


def _write(out: Path, bundle: dict) -> None:
    """The file appears whole or not at all."""
    if out.is_dir():
        raise ExportError(f"{out} is a folder; give the JSON file to write")
    files.write_whole(out, json.dumps(bundle, indent=1, ensure_ascii=False).encode("utf-8"))
