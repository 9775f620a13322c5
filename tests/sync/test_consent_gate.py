"""The consent gate against a hostile client: an officer who edits encounters in raw HTTP (built
from /openapi.json, not the laptop's code) never widens what a release discloses. A clinical
note is disclosed only about the people it was written about when it was written.
Real server, SQLite and PostgreSQL; the clinician is an honest laptop."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests

from fieldapp import encounters, persons, releases
from sync import engine
from tests.conftest import PASSWORD

PHI = "PHI: about P1 only — disclosed opioid use, on methadone"
LATE = "9999999999999-00000-stranger"  # a clock stamp later than any laptop's


class Stranger:
    """A client written from the API's description: login, pull, push. Nothing of Tandem's."""

    def __init__(self, agency, username: str):
        spec = requests.get(f"{agency.url}/openapi.json", timeout=30).json()
        self.paths = set(spec["paths"])
        assert {"/v1/login", "/v1/pull", "/v1/push"} <= self.paths
        self.url = agency.url
        answer = requests.post(f"{self.url}/v1/login", timeout=30, json={
            "username": username, "password": PASSWORD, "device_id": f"stranger-{uuid.uuid4()}"})
        assert answer.status_code == 200, answer.text
        self.headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        self.ops = 0

    def pull(self) -> dict:
        records, after = {}, 0
        while True:
            page = requests.get(f"{self.url}/v1/pull", params={"after": after},
                                headers=self.headers, timeout=30).json()
            records.update({r["id"]: r for r in page["records"]})
            after = page["cursor"]
            if not page["more"]:
                return records

    def push(self, table: str, record_id: str, kind: str, fields: dict, base: dict | None = None,
             base_version: int = 0, hlc: str = LATE) -> dict:
        self.ops += 1
        answer = requests.post(f"{self.url}/v1/push", headers=self.headers, timeout=30, json={
            "ops": [{"op_id": f"stranger-op-{uuid.uuid4()}", "table": table,
                     "record_id": record_id, "kind": kind, "fields": fields,
                     "base": base or {}, "base_version": base_version, "hlc": hlc}]})
        assert answer.status_code == 200, answer.text
        return answer.json()["results"][0]

    def patch_people(self, encounter_id: str, people: list[str]) -> dict:
        current = self.pull()[encounter_id]
        return self.push("encounter", encounter_id, "patch", {"person_ids": json.dumps(people)},
                         {"person_ids": current["fields"]["person_ids"]}, current["version"])


def _clinician_case(clinician, people: list[str]) -> tuple[str, str]:
    encounter = encounters.save_encounter(clinician, {
        "presenting_situation": "substance_use", "person_ids": people})
    note = encounters.add_clinical_note(clinician, encounter, PHI)
    assert engine.run_sync(clinician)["rejected"] == 0
    return encounter, note


def _release(clinician, person: str, recipient: str = "role:officer") -> str:
    today = datetime.now(UTC).date()
    rid = releases.add_release(clinician, person, {
        "discloser": "Adaeze Okafor, LPC", "scope": "clinical_notes", "recipient": recipient,
        "purpose": "coordinated follow-up", "signed_on": today - timedelta(days=1),
        "expires_on": today + timedelta(days=30)})
    assert engine.run_sync(clinician)["rejected"] == 0
    return rid


def _people(clinician, n: int) -> list[str]:
    return [persons.add_person(clinician, {"kind": "alias", "alias": f"P{i + 1}"})
            for i in range(n)]


def _disclosed(agency, stranger: Stranger) -> tuple[bool, int]:
    pulled = json.dumps(list(stranger.pull().values()), ensure_ascii=False)
    return PHI in pulled, agency.scalar("SELECT count(*) FROM disclosure")


@pytest.mark.parametrize("attack", ["replace", "add_to_no_one", "remove_one"])
def test_editing_an_encounters_people_never_widens_its_note(agency, laptop, attack):
    clinician = laptop("clin.okafor", "clinician")
    agency.add_user("ofc.mallory", "officer")
    p1, p2 = _people(clinician, 2)
    written_about = {"replace": [p1], "add_to_no_one": [], "remove_one": [p1, p2]}[attack]
    encounter, _note = _clinician_case(clinician, written_about)
    _release(clinician, p2)  # P2 consents; P1 never did
    stranger = Stranger(agency, "ofc.mallory")
    assert _disclosed(agency, stranger) == (False, 0)

    result = stranger.patch_people(encounter, [p2])
    assert result["status"] == "applied", result  # any team member may fix who was there
    assert _disclosed(agency, stranger) == (False, 0)
    # the clinician's laptop, and the note itself, still say whom it is about
    engine.run_sync(clinician)
    assert [n["person_ids"] for n in encounters.clinical_notes(clinician, encounter)] == [
        written_about]


def test_the_officers_own_encounter_re_pointed_after_the_clinician_noted_it(agency, laptop):
    clinician = laptop("clin.okafor", "clinician")
    agency.add_user("ofc.mallory", "officer")
    p1, p2 = _people(clinician, 2)
    engine.run_sync(clinician)
    stranger = Stranger(agency, "ofc.mallory")
    encounter = str(uuid.uuid4())
    created = stranger.push("encounter", encounter, "create", {
        "team": "mhst-1", "started_at": "2026-11-21T14:05:00.000Z",
        "presenting_situation": "welfare_check", "person_ids": json.dumps([p1])})
    assert created["status"] == "applied", created
    engine.run_sync(clinician)  # she opens his encounter and adds her note about P1
    encounters.add_clinical_note(clinician, encounter, PHI)
    engine.run_sync(clinician)
    _release(clinician, p2)

    assert stranger.patch_people(encounter, [p2])["status"] == "applied"
    assert _disclosed(agency, stranger) == (False, 0)


def test_another_record_of_the_call_never_carries_the_note_to_new_people(agency, laptop):
    """Records a stranger can point at the noted encounter: a second create under its id
    (merged, as two laptops documenting one call are) and a new encounter joined to it."""
    clinician = laptop("clin.okafor", "clinician")
    agency.add_user("ofc.mallory", "officer")
    p1, p2 = _people(clinician, 2)
    encounter, _note = _clinician_case(clinician, [])
    _release(clinician, p2)
    stranger = Stranger(agency, "ofc.mallory")
    base = {"team": "mhst-1", "started_at": "2026-11-21T14:05:00.000Z",
            "presenting_situation": "welfare_check", "person_ids": json.dumps([p2])}

    stranger.push("encounter", encounter, "create", base)
    joined = str(uuid.uuid4())
    stranger.push("encounter", joined, "create", {**base, "joined_to": encounter})
    assert _disclosed(agency, stranger) == (False, 0)


def test_a_release_for_the_person_written_about_still_discloses(agency, laptop):
    """The gate still opens for the right release, and an edit by the officer cannot close a
    door the release opened either: the note is about P1 whatever the encounter now says."""
    clinician = laptop("clin.okafor", "clinician")
    agency.add_user("ofc.mallory", "officer")
    p1, p2 = _people(clinician, 2)
    encounter, note = _clinician_case(clinician, [p1])
    rid = _release(clinician, p1, "user:ofc.mallory")
    stranger = Stranger(agency, "ofc.mallory")
    assert _disclosed(agency, stranger) == (True, 1)
    stranger.patch_people(encounter, [p2])
    assert _disclosed(agency, stranger)[0]
    logged = agency.rows("SELECT record_id, release_ids FROM disclosure ORDER BY id")
    assert {(r["record_id"], tuple(json.loads(r["release_ids"]))) for r in logged} == {
        (note, (rid,))}
