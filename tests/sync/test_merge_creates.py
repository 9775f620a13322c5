"""A second create of an encounter's id merges instead of being refused (two laptops on one
call), and a stranger in raw HTTP cannot use that to reach across teams, move a record to
another team, or sign a police note with someone else's name. Real server, SQLite and
PostgreSQL."""

import json
import uuid

from tests.sync.test_consent_gate import Stranger

LATER = "9999999999999-00001-stranger"

CREATED = {"team": "mhst-1", "started_at": "2026-11-21T14:05:00.000Z",
           "presenting_situation": "welfare_check"}


def _record(agency, record_id):
    [row] = agency.rows("SELECT team, version, data, deleted FROM record WHERE id = :i",
                        i=record_id)
    return {**dict(row), "data": json.loads(row["data"])}


def test_creates_of_one_id_merge_field_by_field(agency):
    agency.add_user("ofc.ramirez", "officer")
    agency.add_user("clin.okafor", "clinician")
    officer, clinician = Stranger(agency, "ofc.ramirez"), Stranger(agency, "clin.okafor")
    eid = str(uuid.uuid4())
    first = officer.push("encounter", eid, "create", {
        **CREATED, "use_of_force": 1, "stabilized_on_scene": 0, "place": "Reid Park",
        "police_note": "Calm.", "police_note_by": "ofc.ramirez",
        "person_ids": json.dumps(["p1"])})
    second = clinician.push("encounter", eid, "create", {
        **CREATED, "use_of_force": 0, "stabilized_on_scene": 1, "place": "Reid Park",
        "disposition": "referred", "person_ids": json.dumps(["p2", "p1"]),
        "presenting_situation": "mental_health_crisis"}, hlc=LATER)
    assert (first["status"], second["status"]) == ("applied", "conflict")
    assert [c["field"] for c in second["conflicts"]] == ["presenting_situation"]
    merged = _record(agency, eid)
    assert merged["version"] == 2
    data = merged["data"]
    assert (data["use_of_force"], data["stabilized_on_scene"], data["police_note"],
            data["disposition"], json.loads(data["person_ids"])) == (
        1, 1, "Calm.", "referred", ["p1", "p2"])
    assert data["presenting_situation"] == "mental_health_crisis"  # the later stamp
    assert agency.rows("SELECT field, kept_value, other_value FROM conflict") == [
        {"field": "presenting_situation", "kept_value": '"mental_health_crisis"',
         "other_value": '"welfare_check"'}]


def test_a_merged_create_stays_inside_the_callers_teams(agency):
    agency.add_user("ofc.ramirez", "officer")
    agency.add_user("ofc.diaz", "officer", teams=("mhst-2",))
    agency.add_user("ofc.both", "officer", teams=("mhst-1", "mhst-2"))
    eid = str(uuid.uuid4())
    Stranger(agency, "ofc.ramirez").push("encounter", eid, "create", {**CREATED,
                                                                      "place": "Reid Park"})
    before = _record(agency, eid)
    outsider = Stranger(agency, "ofc.diaz").push("encounter", eid, "create", {
        **CREATED, "team": "mhst-2", "police_note": "mine now"})
    assert outsider["status"] == "rejected" and "already exists" in outsider["reason"]
    mover = Stranger(agency, "ofc.both").push("encounter", eid, "create", {
        **CREATED, "team": "mhst-2"})
    assert mover["status"] == "rejected" and "belongs to team 'mhst-1'" in mover["reason"]
    person = str(uuid.uuid4())  # other records still refuse a second create
    officer = Stranger(agency, "ofc.ramirez")
    officer.push("person", person, "create", {"team": "mhst-1", "kind": "alias", "alias": "A"})
    again = officer.push("person", person, "create", {"team": "mhst-1", "kind": "alias",
                                                      "alias": "B"})
    assert again["status"] == "rejected" and "already exists" in again["reason"]
    assert _record(agency, eid) == before


def test_a_police_note_is_signed_only_by_its_writer(agency):
    agency.add_user("ofc.mallory", "officer")
    mallory = Stranger(agency, "ofc.mallory")
    eid = str(uuid.uuid4())
    forged = mallory.push("encounter", eid, "create", {
        **CREATED, "police_note": "He did it.", "police_note_by": "ofc.ramirez"})
    assert forged["status"] == "rejected" and "police_note_by" in forged["reason"]
    own = mallory.push("encounter", eid, "create", {
        **CREATED, "police_note": "I did it.", "police_note_by": "ofc.mallory"})
    assert own["status"] == "applied"
    patched = mallory.push("encounter", eid, "patch", {"police_note_by": "ofc.ramirez"},
                           {"police_note_by": "ofc.mallory"}, 1)
    assert patched["status"] == "rejected"
    assert _record(agency, eid)["data"]["police_note_by"] == "ofc.mallory"


def test_a_create_over_a_deleted_encounter_keeps_it_flagged(agency):
    agency.add_user("ofc.ramirez", "officer")
    officer = Stranger(agency, "ofc.ramirez")
    eid = str(uuid.uuid4())
    officer.push("encounter", eid, "create", CREATED)
    officer.push("encounter", eid, "delete", {}, {}, 1)
    again = officer.push("encounter", eid, "create", {**CREATED, "disposition": "declined"})
    assert again["status"] == "conflict" and again["conflicts"][0]["field"] == "_deleted"
    record = _record(agency, eid)
    assert (bool(record["deleted"]), record["data"]["disposition"]) == (False, "declined")
