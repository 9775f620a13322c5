"""CAD standards through the real HTTP endpoint: a NENA EIDO posted as a call, malformed EIDOs
answered 422 naming the field, and APCO incident-type and disposition codes through the
agency's editable tables, delivered to laptops by sync."""

import copy
import json
from pathlib import Path

import pytest
import requests

from fieldapp import agency as laptop_agency
from fieldapp import assignments
from sync import engine
from sync.server import cli

TEAM = "mhst-1"
SAMPLE = json.loads((Path(__file__).parents[2] / "docs" / "samples" / "eido-incident.json")
                    .read_text())


@pytest.fixture
def cad(agency, capsys):
    assert cli.main(["--db", agency.db_url, "add-integration", "pima-cad", "--team", TEAM]) == 0
    return capsys.readouterr().out.strip().splitlines()[-1]


def post(agency, key, body):
    return requests.post(f"{agency.url}/api/v1/cad/assignments", json=body,
                         headers={"X-Integration-Key": key}, timeout=30)


def settings(agency, capsys, *args):
    code = cli.main(["--db", agency.db_url, "settings", *args])
    return code, capsys.readouterr()


def assignment_count(agency) -> int:
    return agency.scalar("SELECT count(*) FROM record WHERE table_name = 'assignment'")


def test_an_eido_becomes_a_call_on_the_unit_laptop(agency, laptop, cad):
    officer = laptop("ofc.ramirez")
    answer = post(agency, cad, SAMPLE)
    assert answer.status_code == 201, answer.text
    again = post(agency, cad, SAMPLE)  # the CAD retries after a lost answer
    assert again.status_code == 200 and again.json()["id"] == answer.json()["id"]
    assert assignment_count(agency) == 1
    engine.run_sync(officer)
    [call] = assignments.open_assignments(officer)
    assert call["id"] == answer.json()["id"]
    assert (call["source"], call["type"], call["status"]) == ("cad", "call_for_service", "open")
    assert call["cad_incident"] == "TPD-261114-0117"
    assert call["incident_tracking_id"] == SAMPLE["$id"]
    assert (call["incident_type"], call["apco_incident_type"]) == ("1096", "MNTL")
    assert call["priority"] == 2  # common priority 6 of 10
    assert call["place"] == "1200 E Speedway Blvd, Tucson, AZ 85719 (north entrance, by the " \
                            "bus shelter)"
    assert (call["lat"], call["lon"]) == (32.2363, -110.9534)
    assert call["received_at"] == "2026-11-14T09:38:27.000Z"  # when the 911 call started
    assert "no weapon seen." in call["summary"] and "prefers to be called Ray" in call["summary"]
    assert "<b>" not in call["summary"]


def _broken(change) -> dict:
    body = copy.deepcopy(SAMPLE)
    body["$id"] = "urn:emergency:uid:incidentid:broken:psap.pima-911.example"
    change(body)
    return body


def _set(path, value):
    def change(body):
        *parents, last = path
        target = body
        for key in parents:
            target = target[key]
        if value is _DELETE:
            del target[last]
        else:
            target[last] = value
    return change


_DELETE = object()
DOCTYPE = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 '
           '"&lol;&lol;&lol;&lol;">]><presence>&lol2;</presence>')


@pytest.mark.parametrize("change, field", [
    (_set(["$id"], _DELETE), "$id"),
    (_set(["eidoVersion"], "2.0"), "eidoVersion"),
    (_set(["agencyComponent"], []), "agencyComponent"),
    (_set(["lastUpdateTimeStamp"], "yesterday"), "lastUpdateTimeStamp"),
    (_set(["incidentComponent"], _DELETE), "incidentComponent"),
    (_set(["incidentComponent", "incidentTypeCommonRegistryText"], "PIZZA"),
     "incidentTypeCommonRegistryText"),
    (_set(["incidentComponent", "incidentCommonPriorityNumber"], 11),
     "incidentCommonPriorityNumber"),
    (_set(["incidentComponent", "incidentCommonPriorityNumber"], _DELETE),
     "incidentComponent.incidentCommonPriorityNumber"),
    (_set(["incidentComponent", "locationReference"], [{"$ref": "location-9"}]),
     "incidentComponent.locationReference[0]"),
    (_set(["incidentComponent", "locationReference"], []),
     "incidentComponent.locationReference"),
    (_set(["incidentComponent", "notesReference"], [{"$ref": "note-1"}, {"$ref": "gone"}]),
     "incidentComponent.notesReference[1]"),
    (_set(["locationComponent", 0, "locationByValue"], "<presence><unclosed></presence>"),
     "locationComponent[0].locationByValue"),
    (_set(["locationComponent", 0, "locationByValue"], DOCTYPE),
     "locationComponent[0].locationByValue"),
    (_set(["notesComponent", 0, "notesActionComments"], 42), "notesActionComments"),
])
def test_a_malformed_eido_is_422_naming_the_field(agency, cad, change, field):
    answer = post(agency, cad, _broken(change))
    assert answer.status_code == 422, answer.text
    assert field in answer.text
    assert assignment_count(agency) == 0


def test_an_eido_with_no_location_text_or_point_names_the_component(agency, cad):
    def bare(body):
        location = body["locationComponent"][0]
        del location["locationByValue"], location["locationDescriptionText"]
    answer = post(agency, cad, _broken(bare))
    assert answer.status_code == 422 and "locationComponent[0]" in answer.text


def test_an_eido_with_an_internal_priority_only(agency, laptop, cad):
    officer = laptop("ofc.ramirez")

    def internal(body):
        del body["incidentComponent"]["incidentCommonPriorityNumber"]
        body["incidentComponent"]["incidentPriorityInternalText"] = "P1"
    assert post(agency, cad, _broken(internal)).status_code == 201
    engine.run_sync(officer)
    [call] = assignments.open_assignments(officer)
    assert call["priority"] == 1


def test_the_cad_call_type_is_coded_through_the_agency_table(agency, laptop, cad, capsys):
    officer = laptop("ofc.ramirez")
    table = {**laptop_agency.SETTINGS["apco_incident_types"].default, "1096": "MNTL",
             "10-56A": "SUICTHRT"}
    code, _ = settings(agency, capsys, "set", "apco_incident_types", json.dumps(table))
    assert code == 0
    base = {"priority": 1, "summary": "Man on the overpass rail"}
    assert post(agency, cad, {**base, "incident": "A-1", "incident_type": "10-56a"}
                ).status_code == 201  # matched without regard to case
    assert post(agency, cad, {**base, "incident": "A-2", "incident_type": "1096",
                              "apco_incident_type": "EDP"}).status_code == 201  # CAD's own code
    unknown = post(agency, cad, {**base, "incident": "A-3", "incident_type": "BIKE-THEFT"})
    assert unknown.status_code == 201  # an unmapped type never turns a 911 call away
    bad = post(agency, cad, {**base, "incident": "A-4", "apco_incident_type": "SUICIDAL"})
    assert bad.status_code == 422 and "apco_incident_type" in bad.text
    engine.run_sync(officer)
    codes = {a["cad_incident"]: a["apco_incident_type"]
             for a in assignments.open_assignments(officer)}
    assert codes == {"A-1": "SUICTHRT", "A-2": "EDP", "A-3": None}


def test_a_cleared_call_carries_the_agency_disposition_code(agency, laptop, cad, capsys):
    officer = laptop("ofc.ramirez")
    for n in (1, 2):
        assert post(agency, cad, {"incident": f"D-{n}", "priority": 2, "summary": "welfare",
                                  "incident_type": "welfare_check"}).status_code == 201
    engine.run_sync(officer)
    first, second = sorted(assignments.open_assignments(officer), key=lambda a: a["cad_incident"])
    assert first["apco_incident_type"] == "WELFARE"  # the default table
    assignments.clear(officer, first["id"], "transported_crc_voluntary")
    table = {**laptop_agency.SETTINGS["apco_dispositions"].default,
             "transported_crc_voluntary": "33"}  # this agency: transported by law enforcement
    assert settings(agency, capsys, "set", "apco_dispositions", json.dumps(table))[0] == 0
    engine.run_sync(officer)  # pushes the first clear, pulls the new table
    assignments.clear(officer, second["id"], "transported_crc_voluntary")
    engine.run_sync(officer)
    stored = {json.loads(r["data"])["cad_incident"]: json.loads(r["data"])["apco_disposition"]
              for r in agency.rows("SELECT data FROM record WHERE table_name = 'assignment'")}
    assert stored == {"D-1": "16", "D-2": "33"}  # each cleared under the table of its day


@pytest.mark.parametrize("key, value, words", [
    ("apco_dispositions", {"completed": "99"}, "'99' is not an APCO code"),
    ("apco_dispositions", {"finished": "18"}, "'finished' is not a disposition"),
    ("apco_incident_types", {"1096": "mntl"}, "'mntl' is not an APCO code"),
    ("apco_incident_types", ["MNTL"], "must be a JSON object"),
])
def test_a_bad_table_is_refused_naming_the_entry(agency, capsys, key, value, words):
    code, out = settings(agency, capsys, "set", key, json.dumps(value))
    assert code == 2 and words in out.err
    code, out = settings(agency, capsys, "list", "--json")
    assert json.loads(out.out)[key] == laptop_agency.SETTINGS[key].default
