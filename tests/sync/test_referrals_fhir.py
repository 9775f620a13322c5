"""Referrals through the real server: made on a laptop, moved on by a sergeant, refused when
made on nothing; and `tandem-server export-fhir` writing them as FHIR R4 ServiceRequest + Task
(Gravity SDOHCC pattern), validated by a maintained FHIR R4 library (fhirclient 4.x)."""

import json
from pathlib import Path

import pytest
import requests
from fhirclient.models.bundle import Bundle
from fhirclient.models.fhirabstractbase import FHIRValidationError

import seeds
from fieldapp import directory as laptop_directory
from fieldapp import encounters, outreach, persons, referrals
from fieldapp.ids import new_id
from sync import credentials, engine
from sync.server import cli, directory, fhir

SAMPLE = Path(__file__).parents[2] / "docs" / "samples" / "fhir-referrals.json"
# FHIR R4 (4.0.1) value sets the library does not enforce: request-status, task-status.
REQUEST_STATUSES = {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error",
                    "unknown"}
TASK_STATUSES = {"draft", "requested", "received", "accepted", "rejected", "ready", "cancelled",
                 "in-progress", "on-hold", "failed", "completed", "entered-in-error"}
SDOH_CATEGORIES = {"sdoh-category-unspecified", "food-insecurity", "housing-instability",
                   "homelessness", "inadequate-housing", "transportation-insecurity",
                   "financial-insecurity", "material-hardship", "educational-attainment",
                   "employment-status", "veteran-status", "stress", "social-connection",
                   "intimate-partner-violence", "elder-abuse", "personal-health-literacy",
                   "health-insurance-coverage-status", "medical-cost-burden", "digital-literacy",
                   "digital-access", "utility-insecurity", "incarceration-status",
                   "language-access", "protective-factor"}


def validated(bundle: dict) -> dict[str, dict]:
    """Parse the Bundle with fhirclient (strict: types, cardinality, unknown elements), check
    what the SDOHCC profiles and R4 value sets ask that it does not, and return the entries by
    full URL."""
    Bundle(bundle, strict=True)
    entries = {e["fullUrl"]: e["resource"] for e in bundle["entry"]}
    assert bundle["type"] == "collection" and len(entries) == len(bundle["entry"])
    for url, resource in entries.items():
        assert url == f"urn:uuid:{resource['id']}"
    for resource in entries.values():
        for reference in _references(resource):
            assert reference in entries, f"{resource['resourceType']} refers to {reference}"
        if resource["resourceType"] == "ServiceRequest":
            assert resource["status"] in REQUEST_STATUSES and resource["intent"] == "order"
            assert resource["meta"]["profile"] == [fhir.PROFILES["ServiceRequest"]]
            assert entries[resource["subject"]["reference"]]["resourceType"] == "Patient"
            assert entries[resource["requester"]["reference"]]["resourceType"] == "Organization"
            assert resource["code"]["coding"][0]["code"] == "306206005"
            for category in resource["category"]:
                coding = category["coding"][0]
                if coding["system"] == fhir.SDOH_CODES:
                    assert coding["code"] in SDOH_CATEGORIES
        if resource["resourceType"] == "Task":  # SDOHCC TaskForReferralManagement
            assert resource["status"] in TASK_STATUSES - {"ready", "received"}
            assert resource["intent"] == "order"
            assert resource["code"]["coding"] == [fhir.FULFILL]
            assert entries[resource["focus"]["reference"]]["resourceType"] == "ServiceRequest"
            assert entries[resource["for"]["reference"]]["resourceType"] == "Patient"
            assert resource["authoredOn"] and resource["requester"]["reference"]
            if resource["status"] == "rejected":
                assert resource["statusReason"]["text"]
    return entries


def _references(value):
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "reference":
                yield inner
            else:
                yield from _references(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _references(inner)


def test_the_sample_validates():
    entries = validated(json.loads(SAMPLE.read_text()))
    kinds = sorted(r["resourceType"] for r in entries.values())
    assert kinds.count("ServiceRequest") == kinds.count("Task") == 3


def test_the_validation_can_fail():
    bundle = json.loads(SAMPLE.read_text())
    task = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Task")
    del task["intent"]
    with pytest.raises(FHIRValidationError, match="intent"):
        Bundle(bundle, strict=True)


@pytest.fixture
def team(agency, laptop):
    directory.import_directory(agency.engine, seeds.DIRECTORY_DIR)
    officer = laptop("ofc.ramirez")
    sergeant = laptop("sgt.diaz", "supervisor")
    engine.run_sync(officer)
    return officer, sergeant


def test_a_referral_is_moved_on_by_the_sergeant_and_exported(agency, team, tmp_path, capsys):
    officer, sergeant = team
    ray = persons.add_person(officer, {"kind": "named", "first_name": "Ray",
                                       "last_name": "Ortiz", "date_of_birth": "1966-02-03"})
    encounter = encounters.save_encounter(officer, {
        "presenting_situation": "mental_health_crisis", "person_ids": [ray],
        "started_at": "2026-11-14T09:00:00Z"})
    crisis = referrals.refer(officer, service_id=_service(officer, "walk-in crisis"),
                             category="crisis_care", encounter_id=encounter, person_id=ray,
                             at="2026-11-14T09:30:00Z")
    contact = outreach.log_contact(officer, at="2026-11-20T17:00:00Z")
    meals = referrals.refer(officer, service_id=_service(officer, "community meals"),
                            category="food", outreach_contact_id=contact,
                            at="2026-11-20T17:05:00Z")
    engine.run_sync(officer)
    engine.run_sync(sergeant)
    referrals.set_status(sergeant, crisis, "accepted", at="2026-11-15T10:00:00Z")
    engine.run_sync(sergeant)
    engine.run_sync(officer)
    referrals.set_status(officer, crisis, "completed", at="2026-11-18T10:00:00Z")
    engine.run_sync(officer)
    stored = {r["id"]: json.loads(r["data"])["status"] for r in agency.rows(
        "SELECT id, data FROM record WHERE table_name = 'referral'")}
    assert stored == {crisis: "completed", meals: "sent"}
    assert agency.scalar("SELECT count(*) FROM conflict") == 0

    out = tmp_path / "referrals.json"
    code = cli.main(["--db", agency.db_url, "export-fhir", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    assert "2 referrals as" in capsys.readouterr().out
    entries = validated(json.loads(out.read_text()))
    requests_made = {r["identifier"][0]["value"]: r for r in entries.values()
                     if r["resourceType"] == "ServiceRequest"}
    assert set(requests_made) == {crisis, meals}
    done = requests_made[crisis]
    assert done["status"] == "completed"
    patient = entries[done["subject"]["reference"]]
    assert patient["name"] == [{"use": "official", "family": "Ortiz", "given": ["Ray"]}]
    assert patient["birthDate"] == "1966-02-03"
    [task] = [r for r in entries.values() if r["resourceType"] == "Task"
              and r["focus"]["reference"] == f"urn:uuid:{done['id']}"]
    assert (task["status"], task["lastModified"]) == ("completed", "2026-11-18T10:00:00.000Z")
    food = requests_made[meals]
    assert {"code": "food-insecurity", "display": "Food Insecurity",
            "system": fhir.SDOH_CODES} in [c["coding"][0] for c in food["category"]]
    assert "name" not in entries[food["subject"]["reference"]]  # nobody identified
    events = agency.rows("SELECT detail FROM admin_audit WHERE action = 'export.fhir'")
    assert any("2 referrals" in json.loads(e["detail"])["summary"] for e in events)

    again = tmp_path / "again.json"
    assert cli.main(["--db", agency.db_url, "export-fhir", "--from", "2026-11-20", "--to",
                     "2026-11-30", "--out", str(again)]) == 0
    later = validated(json.loads(again.read_text()))
    assert [r["id"] for r in later.values() if r["resourceType"] == "ServiceRequest"] == [
        food["id"]]  # the same referral, the same resource id
    assert cli.main(["--db", agency.db_url, "export-fhir", "--team", "mhst-2", "--out",
                     str(again)]) == 0
    assert [r for r in json.loads(again.read_text())["entry"]
            if r["resource"]["resourceType"] == "ServiceRequest"] == []
    assert cli.main(["--db", agency.db_url, "export-fhir", "--from", "2026-11-30", "--to",
                     "2026-11-01", "--out", str(again)]) == 2
    assert "before --from" in capsys.readouterr().err


def test_the_server_refuses_a_referral_made_on_nothing(agency, team):
    """A stranger's raw push (not the laptop's code): exactly one encounter or contact."""
    officer, _ = team
    link = credentials.transport_for(officer, agency.url)
    link._refresh()
    fields = {"team": "mhst-1", "service_id": "svc", "service_name": "A service",
              "category": "food", "status": "sent", "sent_at": "2026-11-20T17:05:00.000Z"}
    ops = [{"op_id": new_id(), "table": "referral", "record_id": new_id(), "kind": "create",
            "fields": body, "base": {}, "base_version": 0,
            "hlc": "1790000000000-00000-stranger"}
           for body in (fields, {**fields, "status": "lost"},
                        {**fields, "encounter_id": new_id(), "outreach_contact_id": new_id()})]
    answer = requests.post(f"{agency.url}/v1/push", json={"ops": ops}, timeout=30,
                           headers={"Authorization": f"Bearer {link.access_token}"})
    assert answer.status_code == 200
    results = answer.json()["results"]
    assert [r["status"] for r in results] == ["rejected"] * 3
    assert "exactly one encounter or outreach contact" in results[0]["reason"]
    assert "status" in results[1]["reason"]
    assert "exactly one" in results[2]["reason"]
    assert agency.scalar("SELECT count(*) FROM record WHERE table_name = 'referral'") == 0


def _service(session, text: str) -> str:
    return laptop_directory.search(session.db, text)[0]["id"]


def test_exports_are_readable_by_their_owner_only(agency, team, tmp_path, capsys):
    assert cli.main(["--db", agency.db_url, "export-fhir", "--out",
                     str(tmp_path / "r.json")]) == 0
    assert (tmp_path / "r.json").stat().st_mode & 0o077 == 0
