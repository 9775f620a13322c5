"""CAD integration: a key made once by `tandem-server add-integration`, assignments posted to
the real HTTP API, and their arrival on the unit's laptop at its next sync."""

import hashlib

import pytest
import requests

from fieldapp import assignments
from sync import engine
from sync.server import cli

TEAM = "mhst-1"


@pytest.fixture
def cad(agency, capsys):
    assert cli.main(["--db", agency.db_url, "add-integration", "pima-cad", "--team", TEAM]) == 0
    key = capsys.readouterr().out.strip().splitlines()[-1]
    return key


def post(agency, key, body, **headers):
    return requests.post(f"{agency.url}/api/v1/cad/assignments", json=body,
                         headers={"X-Integration-Key": key, **headers} if key else headers,
                         timeout=30)


CALL = {"incident": "TPD-260514-0042", "priority": 1, "unit": "MHST-12",
        "summary": "Caller reports neighbor threatening self", "place": "1200 E Speedway"}


def test_cad_assignment_reaches_the_unit_laptop(agency, laptop, cad):
    officer = laptop("ofc.ramirez")
    answer = post(agency, cad, CALL)
    assert answer.status_code == 201, answer.text
    again = post(agency, cad, CALL)  # a retry after a lost answer: no second assignment
    assert again.status_code == 200 and again.json() == {"id": answer.json()["id"],
                                                         "status": "duplicate"}
    engine.run_sync(officer)
    [item] = assignments.open_assignments(officer, unit="MHST-12")
    assert (item["source"], item["cad_incident"], item["priority"], item["status"]) == (
        "cad", "TPD-260514-0042", 1, "open")
    assert item["id"] == answer.json()["id"]


def test_key_is_stored_only_as_its_hash(agency, cad):
    assert agency.scalar("SELECT key_hash FROM integration WHERE name = 'pima-cad'") == \
        hashlib.sha256(cad.encode()).hexdigest()
    assert cad not in str(agency.rows("SELECT * FROM integration"))


def test_bad_key_is_401(agency, cad):
    assert post(agency, "not-the-key", CALL).status_code == 401
    missing = post(agency, None, CALL)
    assert missing.status_code == 401 and "X-Integration-Key" in missing.json()["detail"]


@pytest.mark.parametrize("body, word", [
    ({**CALL, "priority": 7}, "priority"),
    ({k: v for k, v in CALL.items() if k != "summary"}, "summary"),
    ({**CALL, "colour": "red"}, "colour"),
    ({**CALL, "lat": 123.0}, "lat"),
])
def test_bad_bodies_are_4xx_with_the_field(agency, cad, body, word):
    answer = post(agency, cad, body)
    assert answer.status_code == 422
    assert word in answer.text
    assert agency.scalar("SELECT count(*) FROM record WHERE table_name = 'assignment'") == 0


def test_not_json_is_4xx(agency, cad):
    answer = requests.post(f"{agency.url}/api/v1/cad/assignments", data=b"{nope",
                           headers={"X-Integration-Key": cad,
                                    "Content-Type": "application/json"}, timeout=30)
    assert 400 <= answer.status_code < 500


def test_duplicate_integration_name_is_refused(agency, cad, capsys):
    assert cli.main(["--db", agency.db_url, "add-integration", "pima-cad", "--team", TEAM]) == 2
    assert "already exists" in capsys.readouterr().err
