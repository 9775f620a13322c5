"""The pair in one car, end to end: a real agency server (SQLite and PostgreSQL), an officer's
and a clinician's laptop caches. One shift for the car; one CAD call documented on both
laptops offline becomes one encounter with both notes; the officer's cache holds the clinical
note only while a release for that person is in force."""

import json
from datetime import timedelta

import pytest
import requests

from fieldapp import assignments, changes, crc, encounters, persons, releases, roster, shifts
from sync import engine
from sync.server import cli, disclosures

TEAM = "mhst-1"
CALL = {"incident": "T2611210042", "priority": 1, "unit": "MHST-11",
        "summary": "Caller reports adult son threatening suicide, locked in bedroom",
        "place": "2300 block N Desert Lily Pl"}
PHI = "Passive SI, no plan; reports daily opioid use. Agrees to voluntary CRC evaluation."


@pytest.fixture
def car(agency, laptop, capsys):
    """The officer and the clinician of MHST-11, each on their own laptop, roster synced."""
    officer = laptop("ofc.ramirez", "officer")
    clinician = laptop("clin.okafor", "clinician")
    assert cli.main(["--db", agency.db_url, "set-car", "ofc.ramirez", "--unit", "MHST-11",
                     "--vehicle", "V-2214"]) == 0
    assert cli.main(["--db", agency.db_url, "add-integration", "pima-cad", "--team", TEAM]) == 0
    key = capsys.readouterr().out.strip().splitlines()[-1]
    answer = requests.post(f"{agency.url}/api/v1/cad/assignments", json=CALL, timeout=30,
                           headers={"X-Integration-Key": key})
    assert answer.status_code == 201, answer.text
    for s in (officer, clinician):
        assert engine.run_sync(s)["roster"] == 2
    return officer, clinician, answer.json()["id"]


def _synced(*sessions):
    for _ in range(2):  # the second round brings each the other's merged result
        for s in sessions:
            summary = engine.run_sync(s)
            assert (summary["rejected"], summary["check"]) == (0, "ok"), summary


def _clinical(session):
    return [r[0] for r in session.db.execute("SELECT body FROM clinical_note")]


def test_the_car_shares_one_shift_and_one_log(car):
    officer, clinician, _call = car
    [partner] = roster.partners(officer)
    assert (partner["username"], partner["role"]) == ("clin.okafor", "clinician")
    assert roster.car(clinician, "ofc.ramirez") == {"unit": "MHST-11", "vehicle": "V-2214"}
    sid = shifts.start_shift(officer, **roster.car(officer), partners=[partner])
    _synced(officer, clinician)
    assert shifts.active_shift(clinician)["id"] == sid  # not "Start a shift"
    shifts.set_status(clinician, sid, "on_scene")
    shifts.set_status(officer, sid, "transporting")
    _synced(officer, clinician)
    for s in (officer, clinician):
        assert [e["status"] for e in shifts.timeline(s, sid)] == [
            "in_service", "on_scene", "transporting"]


def test_both_document_one_call_offline_and_get_one_encounter(agency, car):
    officer, clinician, call = car
    sid = shifts.start_shift(officer, "MHST-11", "V-2214",
                             [{"username": "clin.okafor", "role": "clinician"}])
    _synced(officer, clinician)
    # both lose the signal at the door; each documents the call on their own laptop
    assignments.take(officer, call, "MHST-11", sid)
    form = encounters.form_for_assignment(officer, call)
    encounters.save_documentation(officer, form["id"], {
        **form["values"], "shift_id": sid, "presenting_situation": "suicidal_ideation",
        "use_of_force": True, "use_of_force_type": "physical_control",
        "police_note": "Forced entry to bedroom; subject calm once inside."}, [])
    hers = encounters.form_for_assignment(clinician, call)
    assert hers["id"] == form["id"] and hers["base"] is None  # not synced: a create of hers
    dana = persons.add_person(clinician, {"kind": "named", "first_name": "Dana",
                                          "last_name": "Whitfield"})
    encounters.save_documentation(clinician, hers["id"], {
        **hers["values"], "shift_id": sid, "presenting_situation": "suicidal_ideation",
        "disposition": "transported_crc_voluntary", "connected_to_care": True},
        [{"id": dana, "kind": "named"}], note=PHI)

    _synced(officer, clinician)
    rows = agency.rows("SELECT id, data FROM record WHERE table_name = 'encounter'")
    assert [r["id"] for r in rows] == [form["id"]]  # one call, one record
    merged = json.loads(rows[0]["data"])
    assert (merged["police_note"], merged["use_of_force"], merged["use_of_force_type"]) == (
        "Forced entry to bedroom; subject calm once inside.", 1, "physical_control")
    assert (merged["disposition"], merged["connected_to_care"], json.loads(
        merged["person_ids"])) == ("transported_crc_voluntary", 1, [dana])
    assert merged["cad_incident"] == "T2611210042"
    for s in (officer, clinician):  # both laptops hold the same merged record
        e = changes.get(s, "encounter", form["id"])
        assert (e["police_note_by"], e["disposition"], e["person_ids"]) == (
            "ofc.ramirez", "transported_crc_voluntary", [dana])
        assert changes.get(s, "assignment", call)["status"] == "cleared"
    assert [n["body"] for n in encounters.clinical_notes(clinician, form["id"])] == [PHI]
    assert _clinical(officer) == []  # the officer's cache never holds it
    # where both wrote one field differently, the existing rules hold: a winner, and the
    # other value kept for review (each laptop began the encounter at its own time; he took
    # the call while she cleared it)
    assert sorted((r["table_name"], r["field"]) for r in agency.rows(
        "SELECT table_name, field FROM conflict")) == [("assignment", "status"),
                                                       ("encounter", "started_at")]

    # she signs a release for Dana to the officers: it reaches his laptop on the next pull
    today = releases.today()
    rid = releases.add_release(clinician, dana, {
        "discloser": "Adaeze Okafor, LPC", "scope": "clinical_notes",
        "recipient": "role:officer", "purpose": "coordinated follow-up",
        "signed_on": today, "expires_on": today + timedelta(days=30)})
    _synced(clinician, officer)
    assert _clinical(officer) == [PHI]
    call_record = encounters.record_of_call(officer, form["id"])
    assert [(n["by"], n["body"]) for n in call_record["clinical_notes"]] == [
        ("clin.okafor", PHI)]
    releases.revoke_release(clinician, rid)
    _synced(clinician, officer)
    assert _clinical(officer) == []


def test_an_expired_release_withdraws_the_note(car, monkeypatch):
    officer, clinician, call = car
    form = encounters.form_for_assignment(clinician, call)
    dana = persons.add_person(clinician, {"kind": "alias", "alias": "Tex"})
    encounters.save_documentation(clinician, form["id"], {
        **form["values"], "presenting_situation": "substance_use"},
        [{"id": dana, "kind": "alias"}], note=PHI)
    today = releases.today()
    releases.add_release(clinician, dana, {
        "discloser": "Adaeze Okafor, LPC", "scope": "clinical_notes",
        "recipient": "user:ofc.ramirez", "purpose": "coordinated follow-up",
        "signed_on": today, "expires_on": today, "expiry_event": "discharge"})
    _synced(clinician, officer)
    assert _clinical(officer) == [PHI]
    monkeypatch.setattr(disclosures, "today", lambda *_: today + timedelta(days=1))
    assert engine.run_sync(officer)["withdrawn"] == 1
    assert _clinical(officer) == []


def test_the_officer_adds_his_note_to_the_clinicians_encounter_and_both_stay(car):
    officer, clinician, _call = car
    eid = encounters.save_documentation(clinician, "5b1f0a4e-0000-4000-8000-000000000001", {
        "presenting_situation": "welfare_check", "place": "Santa Rita Park"}, [],
        note="Engaged; accepted shelter list.")
    _synced(clinician, officer)
    [listed] = encounters.listing(officer, "santa rita")
    assert listed["id"] == eid
    form = encounters.form_for(officer, eid)
    encounters.save_documentation(officer, eid, {**form["values"],
                                                 "police_note": "Welfare check, no crime."},
                                  form["people"], base=form["base"])
    _synced(officer, clinician)
    call_record = encounters.record_of_call(clinician, eid)
    assert [(n["by"], n["body"]) for n in call_record["police_notes"]] == [
        ("ofc.ramirez", "Welfare check, no crime.")]
    assert [(n["by"], n["body"]) for n in call_record["clinical_notes"]] == [
        ("clin.okafor", "Engaged; accepted shelter list.")]


def test_two_records_of_one_call_joined_later_on_either_laptop(car):
    officer, clinician, _call = car
    his = encounters.save_encounter(officer, {"presenting_situation": "dispute",
                                              "police_note": "Neighbours arguing."})
    hers = encounters.save_documentation(clinician, "5b1f0a4e-0000-4000-8000-000000000002", {
        "presenting_situation": "dispute", "disposition": "resolved_on_scene"}, [],
        note="De-escalated.")
    _synced(officer, clinician)
    kept = encounters.join(officer, his, hers)
    dropoff = crc.arrive(officer, "voluntary", kept)
    _synced(officer, clinician)
    assert [e["id"] for e in encounters.listing(clinician)] == [kept]
    call_record = encounters.record_of_call(clinician, kept)
    assert call_record["encounter"]["disposition"] == "resolved_on_scene"
    assert [n["body"] for n in call_record["police_notes"]] == ["Neighbours arguing."]
    assert [n["body"] for n in call_record["clinical_notes"]] == ["De-escalated."]
    assert changes.get(clinician, "crc_dropoff", dropoff)["encounter_id"] == kept
