"""The pair's workflows in the core: the car's roster and shift, the assignment → encounter →
CRC chain, encounters to come back to (listing, reading, adding, joining), and releases."""

import json
from datetime import date, timedelta

import pytest

from fieldapp import (assignments, changes, crc, encounters, persons, releases, roster,
                      shifts)
from fieldapp.errors import TandemError, ValidationError
from tests.conftest import make_session

ROSTER = [
    {"username": "ofc.ramirez", "display_name": "Ofc. Jordan Ramirez", "role": "officer",
     "teams": ["mhst-1"], "unit": "MHST-11", "vehicle": "V-2214"},
    {"username": "clin.okafor", "display_name": "Adaeze Okafor, LPC", "role": "clinician",
     "teams": ["mhst-1"], "unit": None, "vehicle": None},
    {"username": "ofc.whitfield", "display_name": "Ofc. Casey Whitfield", "role": "officer",
     "teams": ["mhst-1"], "unit": "MHST-12", "vehicle": "V-2217"},
    {"username": "admin.lee", "display_name": "Lee", "role": "admin", "teams": ["mhst-1"]},
]


def _call(session, **values):
    return assignments.create_assignment(session, {
        "source": "cad", "cad_incident": "T2611210042", "type": "call_for_service",
        "priority": 1, "place": "2300 block N Desert Lily Pl", "summary": "Son threatening "
        "suicide, locked in bedroom", "unit": "MHST-11", **values})


def test_partners_come_from_the_roster_with_the_car_they_ride_in(clinician):
    roster.replace(clinician, ROSTER)
    assert [m["username"] for m in roster.partners(clinician)] == ["ofc.whitfield",
                                                                   "ofc.ramirez"]
    assert roster.car(clinician) == {"unit": None, "vehicle": None}
    assert roster.car(clinician, "ofc.ramirez") == {"unit": "MHST-11", "vehicle": "V-2214"}
    with pytest.raises(ValidationError, match="not on your team's roster"):
        shifts.start_shift(clinician, "MHST-11", partners=[{"username": "ofc.typo"}])
    sid = shifts.start_shift(clinician, "MHST-11", "V-2214",
                             [{"username": "ofc.ramirez", "role": "peer"}])
    assert changes.get(clinician, "shift", sid)["members"] == [
        {"username": "clin.okafor", "role": "clinician"},
        {"username": "ofc.ramirez", "role": "officer"}]  # the roster's role, not the typed one


def test_taking_a_call_goes_en_route_and_its_encounter_starts_from_it(officer):
    sid = shifts.start_shift(officer, "MHST-11")
    aid = _call(officer)
    assignments.take(officer, aid, "MHST-11", sid)
    assert [(e["status"], e["note"]) for e in shifts.timeline(officer, sid)][-1] == (
        "en_route", "T2611210042 Son threatening suicide, locked in bedroom")

    form = encounters.form_for_assignment(officer, aid)
    assert form["id"] == encounters.id_for_assignment(aid) and form["base"] is None
    assert form["values"]["place"] == "2300 block N Desert Lily Pl"
    assert form["values"]["cad_incident"] == "T2611210042"
    assert form["values"]["call_summary"].startswith("Son threatening")
    values = {**form["values"], "shift_id": sid, "presenting_situation": "suicidal_ideation",
              "disposition": "transported_crc_voluntary", "police_note": "Door opened."}
    eid = encounters.save_documentation(officer, form["id"], values, [
        {"kind": "named", "first_name": "Dana", "last_name": "Whitfield"}])
    saved = changes.get(officer, "encounter", eid)
    assert (saved["police_note_by"], saved["police_note_at"] is not None) == ("ofc.ramirez", True)
    cleared = changes.get(officer, "assignment", aid)  # the disposition is entered once
    assert (cleared["status"], cleared["disposition"]) == ("cleared",
                                                           "transported_crc_voluntary")
    # the call's encounter opens again from its assignment, as it is
    assert encounters.form_for_assignment(officer, aid)["base"]["police_note"] == "Door opened."

    dropoff = crc.arrive(officer, crc.from_encounter(officer, eid)["transport"], eid, sid)
    opened = crc.open_dropoff(officer)
    assert opened["id"] == dropoff and opened["person_id"] == saved["person_ids"][0]
    assert opened["for"] == "Dana Whitfield"


def test_a_save_sends_only_what_this_reader_changed(officer):
    eid = encounters.save_encounter(officer, {"presenting_situation": "welfare_check"})
    form = encounters.form_for(officer, eid)
    # meanwhile the partner's disposition arrives by sync
    changes.patch(officer, "encounter", eid, {"disposition": "referred"})
    unchecked = {f.name: False for f in changes.record_type("encounter").fields
                 if f.type is bool}  # as a form shows flags nobody set
    encounters.save_documentation(officer, eid, {**form["values"], **unchecked,
                                                 "police_note": "Calm."}, [], base=form["base"])
    saved = changes.get(officer, "encounter", eid)
    assert (saved["disposition"], saved["police_note"]) == ("referred", "Calm.")
    last = officer.db.execute("SELECT fields FROM outbox WHERE record_id = ? ORDER BY seq DESC "
                              "LIMIT 1", [eid]).fetchone()[0]
    assert set(json.loads(last)) == {"police_note", "police_note_by",
                                                       "police_note_at"}


def test_a_clinical_note_names_the_people_it_was_written_about(data_dir, clinician):
    p1 = persons.add_person(clinician, {"kind": "alias", "alias": "Blue Jacket"})
    eid = encounters.save_documentation(clinician, "e-1", {
        "presenting_situation": "substance_use"}, [{"id": p1, "kind": "alias"}],
        note="Reports daily use.")
    later = persons.add_person(clinician, {"kind": "alias", "alias": "Red Cap"})
    changes.patch(clinician, "encounter", eid, {"person_ids": [later]})
    [note] = encounters.clinical_notes(clinician, eid)
    assert note["person_ids"] == [p1] and note["author"] == "clin.okafor"
    officer = make_session(data_dir, "ofc.x", "officer")
    with pytest.raises(TandemError, match="only clinicians"):
        encounters.save_documentation(officer, "e-2", {"presenting_situation": "other"}, [],
                                      note="not mine to write")
    assert officer.db["encounter"].count == 0  # all or nothing


def test_the_list_finds_encounters_by_person_place_and_cad_number(officer):
    sid = shifts.start_shift(officer, "MHST-11")
    aid = _call(officer, cad_incident="T2611210057")
    dana = persons.add_person(officer, {"kind": "named", "first_name": "Dana",
                                        "last_name": "Whitfield"})
    on_call = encounters.save_encounter(officer, {
        "presenting_situation": "mental_health_crisis", "assignment_id": aid, "shift_id": sid,
        "place": "Reid Park"})
    with_dana = encounters.save_encounter(officer, {
        "presenting_situation": "welfare_check", "person_ids": [dana], "place": "Ronstadt"})
    old = encounters.save_encounter(officer, {
        "presenting_situation": "dispute", "started_at": "2020-01-01T00:00:00Z"})

    def found(text="", **kw):
        return [e["id"] for e in encounters.listing(officer, text, **kw)]

    assert set(found()) == {on_call, with_dana} and old not in found()
    assert found(shift_id=sid) == [on_call]
    assert found("T2611210057") == [on_call]  # the assignment's CAD number
    assert found("reid") == [on_call]
    assert found("whitfield dana") == [with_dana]
    assert found("100%_") == []
    assert encounters.listing(officer, "dana")[0]["people"] == ["Dana Whitfield"]
    assert not officer.db.execute(  # a list of labels is not a view of records
        "SELECT 1 FROM audit_event WHERE action IN ('person.view', 'encounter.view')").fetchone()


def test_two_records_of_one_call_join_keeping_both_notes(clinician):
    dana = persons.add_person(clinician, {"kind": "alias", "alias": "Tex"})
    first = encounters.save_encounter(clinician, {
        "presenting_situation": "welfare_check", "started_at": "2026-11-21T10:00:00Z",
        "police_note": "Officer's narrative."})
    second = encounters.save_encounter(clinician, {
        "presenting_situation": "welfare_check", "started_at": "2026-11-21T10:04:00Z",
        "person_ids": [dana], "disposition": "referred", "connected_to_care": True,
        "place": "Santa Rita Park"})
    encounters.add_clinical_note(clinician, second, "Agrees to intake tomorrow.")

    assert encounters.join(clinician, second, first) == first
    kept = changes.get(clinician, "encounter", first)
    assert (kept["person_ids"], kept["disposition"], kept["connected_to_care"], kept["place"]) \
        == ([dana], "referred", True, "Santa Rita Park")
    assert changes.get(clinician, "encounter", second)["joined_to"] == first
    assert [e["id"] for e in encounters.listing(clinician)] == [first]
    call = encounters.record_of_call(clinician, first)
    assert [n["body"] for n in call["police_notes"]] == ["Officer's narrative."]
    assert [(n["by"], n["body"]) for n in call["clinical_notes"]] == [
        ("clin.okafor", "Agrees to intake tomorrow.")]
    with pytest.raises(TandemError, match="already part of another call"):
        encounters.join(clinician, first, second)


def test_different_assignments_are_different_calls(officer):
    a, b = _call(officer), _call(officer, cad_incident="T2611210099")
    one = encounters.save_encounter(officer, {"presenting_situation": "other",
                                              "assignment_id": a})
    two = encounters.save_encounter(officer, {"presenting_situation": "other",
                                              "assignment_id": b})
    with pytest.raises(ValidationError, match="different calls"):
        encounters.join(officer, one, two)


def test_releases_show_where_each_stands_and_expiry_ahead_of_time(clinician, officer):
    pid = persons.add_person(clinician, {"kind": "alias", "alias": "Blue Jacket"})
    today = releases.today()
    base = {"discloser": "Adaeze Okafor, LPC", "scope": "clinical_notes",
            "recipient": "role:officer", "purpose": "coordinated follow-up",
            "signed_on": today - timedelta(days=30)}
    soon = releases.add_release(clinician, pid, {**base, "expires_on": today + timedelta(days=5),
                                                 "expiry_event": "discharge from the program"})
    later = releases.add_release(clinician, pid, {**base, "expires_on": today + timedelta(days=90),
                                                  "signed_by": "guardian: M. Whitfield"})
    gone = releases.add_release(clinician, pid, {**base, "expires_on": today - timedelta(days=1)})
    assert [(r["id"], r["status"], r["days_left"]) for r in releases.for_person(clinician, pid)] \
        == [(soon, "expiring", 5), (later, "in force", 90), (gone, "expired", None)]
    assert changes.get(clinician, "release_of_information", soon)["signed_by"] == "the patient"
    assert [(r["id"], r["label"]) for r in releases.expiring(clinician)] == [(soon, "“Blue Jacket”")]
    releases.revoke_release(clinician, soon)
    assert [r["id"] for r in releases.active_releases(clinician, pid)] == [later]
    with pytest.raises(TandemError, match="already revoked"):
        releases.revoke_release(clinician, soon)
    assert releases.status({"revoked_at": None, "signed_on": "2099-01-01",
                            "expires_on": "2099-02-01"}, date(2026, 1, 1)) == ("not yet in force",
                                                                               None)


def test_a_note_on_an_encounter_naming_someone_since_deleted_still_names_them(clinician):
    gone = persons.add_person(clinician, {"kind": "alias", "alias": "Sparrow"})
    kept = persons.add_person(clinician, {"kind": "alias", "alias": "Tex"})
    eid = encounters.save_encounter(clinician, {"presenting_situation": "dispute",
                                                "person_ids": [gone, kept]})
    changes.delete(clinician, "person", gone)
    encounters.add_clinical_note(clinician, eid, "Both were there.")
    [note] = encounters.clinical_notes(clinician, eid)
    assert note["person_ids"] == [gone, kept]  # dropping one would widen what it discloses
    call = encounters.record_of_call(clinician, eid)  # opening it still shows both
    assert [persons.label(p) for p in call["people"]] == ["“Sparrow”", "“Tex”"]
    form = encounters.form_for(clinician, eid)
    assert [p["id"] for p in form["people"]] == [gone, kept]
