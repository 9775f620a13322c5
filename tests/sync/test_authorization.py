"""Who may call what: every endpoint, every role, the team boundary; refused tokens; audit
events kept append-only; hostile bodies get a clear 4xx. Real server, SQLite and PostgreSQL."""

import json

import pytest
import requests

from fieldapp import encounters, persons
from fieldapp.records import LAPTOP_ROLES, RECORD_TYPES

# Roles that sign in on a laptop; CRC intake accounts get no token at all
# (tests/sync/test_intake_security.py).
from sync import credentials, engine
from sync.server import cli

from sync_helpers import outreach

SECRET = "MHST-1-ONLY-c41d"
STAMP = "1764547200000-00000-hostile"  # a well-formed clock stamp (2025-12-01)
READS = [("GET", "/pull", None), ("GET", "/summary", None), ("GET", "/manifest", None),
         ("GET", "/conflicts", None), ("GET", "/directory", None)]


def _token(agency, session):
    link = credentials.transport_for(session)
    link._refresh()
    return link.access_token


def _call(agency, method, path, token=None, **kw):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.request(method, f"{agency.url}/v1{path}", headers=headers, timeout=30, **kw)


@pytest.fixture
def team_one(agency, laptop):
    """Records of team mhst-1, every kind a laptop writes, each carrying SECRET."""
    clinician = laptop("clin.okafor", "clinician")
    outreach(clinician, 1, note=SECRET)
    person = persons.add_person(clinician, {"kind": "alias", "alias": SECRET})
    encounter = encounters.save_encounter(clinician, {
        "presenting_situation": "welfare_check", "police_note": SECRET, "person_ids": [person]})
    encounters.add_clinical_note(clinician, encounter, SECRET)
    engine.run_sync(clinician)
    return [r["id"] for r in agency.rows("SELECT id FROM record")]


def test_every_role_of_another_team_sees_nothing_of_team_one(agency, laptop, team_one):
    for i, role in enumerate(LAPTOP_ROLES):
        other = laptop(f"user{i}.{role.replace('_', '')}", role, teams=("mhst-2",))
        token = _token(agency, other)
        for method, path, _ in READS:
            answer = _call(agency, method, path, token)
            assert answer.status_code == 200, (role, path, answer.text)
            assert SECRET not in answer.text, (role, path)
        answer = _call(agency, "POST", "/records", token, json={"ids": team_one})
        assert answer.status_code == 200 and answer.json()["records"] == [], role
        # and it cannot write into team one either
        victim = team_one[0]
        answer = _call(agency, "POST", "/push", token, json={"ops": [{
            "op_id": f"x{i}", "table": "person", "record_id": victim, "kind": "patch",
            "fields": {"alias": "pwned"}, "base": {}, "base_version": 1, "hlc": STAMP}]})
        assert answer.json()["results"][0]["status"] == "rejected", (role, answer.text)
    assert "pwned" not in json.dumps([dict(r) for r in agency.rows("SELECT data FROM record")])


def test_roles_of_the_same_team_see_what_their_role_reads(agency, laptop, team_one):
    for i, role in enumerate(LAPTOP_ROLES):
        reader = laptop(f"same{i}.{role.replace('_', '')}", role)
        tables = {r["table"] for r in _call(agency, "GET", "/pull", _token(agency, reader)).json()[
            "records"]}
        if role == "admin":
            assert tables == set(), tables
        elif role in ("clinician", "clinical_supervisor"):
            assert "clinical_note" in tables
        else:
            assert "clinical_note" not in tables and "encounter" in tables, (role, tables)


def test_every_endpoint_refuses_missing_bad_revoked_and_expired_tokens(agency, laptop):
    officer = laptop("ofc.ramirez")
    refresh = credentials.load_refresh_token(officer)
    token = _token(agency, officer)
    every = [*READS, ("POST", "/push", {"ops": []}), ("POST", "/records", {"ids": []})]
    for method, path, body in every:
        assert _call(agency, method, path, json=body).status_code == 401, path
        assert _call(agency, method, path, "not-a-token", json=body).status_code == 401, path
        assert _call(agency, method, path, token, json=body).status_code == 200, path
    # an expired refresh token
    with agency.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE token SET expires_at = '2000-01-01T00:00:00.000Z' "
                             "WHERE kind = 'refresh'")
    answer = _call(agency, "POST", "/refresh", json={"refresh_token": refresh})
    assert answer.status_code == 401 and "expired" in answer.json()["detail"]
    # a revoked device: its still-unexpired access token and its refresh token are refused
    assert cli.main(["--db", agency.db_url, "revoke-device", officer.device_id]) == 0
    for method, path, body in every:
        answer = _call(agency, method, path, token, json=body)
        assert answer.status_code == 403 and answer.json()["code"] == "device_revoked", path
    assert _call(agency, "POST", "/refresh", json={"refresh_token": refresh}).status_code == 403


def test_audit_events_reach_the_server_and_stay_append_only(agency, laptop):
    officer = laptop("ofc.ramirez")
    person = persons.add_person(officer, {"kind": "alias", "alias": "Blue Jacket"})
    persons.view_person(officer, person)
    engine.run_sync(officer)
    events = agency.rows("SELECT id, data, version FROM record WHERE table_name = 'audit_event'")
    actions = {json.loads(r["data"])["action"] for r in events}
    assert {"person.create", "person.view"} <= actions
    event = events[0]
    token = _token(agency, officer)
    ops = [{"op_id": "tamper-1", "table": "audit_event", "record_id": event["id"],
            "kind": "patch", "fields": {"outcome": "failure"}, "base": {}, "base_version": 1,
            "hlc": STAMP},
           {"op_id": "tamper-2", "table": "audit_event", "record_id": event["id"],
            "kind": "delete", "fields": {}, "base": {}, "base_version": 1, "hlc": STAMP},
           {"op_id": "tamper-3", "table": "audit_event", "record_id": event["id"],
            "kind": "append", "fields": json.loads(event["data"]) | {"outcome": "failure"},
            "base": {}, "base_version": 0, "hlc": STAMP}]
    results = _call(agency, "POST", "/push", token, json={"ops": ops}).json()["results"]
    assert [r["status"] for r in results] == ["rejected", "deferred", "deferred"]
    results = _call(agency, "POST", "/push", token, json={"ops": ops[1:]}).json()["results"]
    assert [r["status"] for r in results] == ["rejected", "deferred"]
    results = _call(agency, "POST", "/push", token, json={"ops": ops[2:]}).json()["results"]
    assert results[0]["status"] == "rejected" and "already exists" in results[0]["reason"]
    after = agency.rows("SELECT data, version, deleted FROM record WHERE id = :i", i=event["id"])
    assert [(r["data"], r["version"], bool(r["deleted"])) for r in after] == [
        (event["data"], 1, False)]
    # and they never come back down to a laptop
    pulled = _call(agency, "GET", "/pull", token).json()["records"]
    assert not [r for r in pulled if r["table"] == "audit_event"]


HOSTILE = "Robert'); DROP TABLE record; -- \" OR 1=1 /* %_ \\ ` ; SELECT * FROM token"


def test_sql_metacharacters_in_every_text_field_are_stored_verbatim(agency, laptop):
    officer = laptop("ofc.ramirez")
    token = _token(agency, officer)
    fields = {name: HOSTILE[:f.max_len or 500]
              for name, f in (("note", RECORD_TYPES["outreach_contact"].field("note")),
                              ("place", RECORD_TYPES["outreach_contact"].field("place")),
                              ("referral", RECORD_TYPES["outreach_contact"].field("referral")),
                              ("outcome", RECORD_TYPES["outreach_contact"].field("outcome")))}
    op = {"op_id": "sql-1", "table": "outreach_contact", "record_id": "sql-rec-1",
          "kind": "append", "base": {}, "base_version": 0, "hlc": STAMP,
          "fields": {"team": "mhst-1", "contacted_at": "2026-05-01T10:00:00.000Z",
                     **fields}}
    assert _call(agency, "POST", "/push", token, json={"ops": [op]}).json()[
        "results"][0]["status"] == "applied"
    stored = json.loads(agency.scalar("SELECT data FROM record WHERE id = 'sql-rec-1'"))
    assert all(stored[k] == v for k, v in fields.items())
    # and in the sign-in fields, the ids and the tokens
    assert _call(agency, "POST", "/login", json={"username": HOSTILE[:64],
                                                 "password": HOSTILE}).status_code == 422
    assert _call(agency, "POST", "/login", json={"username": "x';--",
                                                 "password": HOSTILE}).status_code == 401
    assert _call(agency, "POST", "/refresh", json={"refresh_token": HOSTILE}).status_code == 422
    assert _call(agency, "POST", "/refresh", json={"refresh_token": "x';--"}).status_code == 401
    assert _call(agency, "GET", "/summary", HOSTILE).status_code == 401
    assert _call(agency, "POST", "/records", token, json={"ids": [HOSTILE[:36]]}
                 ).status_code == 422  # ids are printable ASCII
    assert _call(agency, "POST", "/records", token, json={"ids": ["x';--"]}).json() == {
        "records": []}
    assert agency.scalar("SELECT count(*) FROM record") == 1


def test_hostile_bodies_get_a_clear_4xx(agency, laptop):
    officer = laptop("ofc.ramirez")
    token = _token(agency, officer)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def post(path, data):
        return requests.post(f"{agency.url}/v1{path}", data=data, headers=headers, timeout=60)

    assert post("/push", b"x" * (9 << 20)).status_code == 413
    assert post("/push", "[" * 100_000 + "]" * 100_000).status_code == 400
    assert post("/push", '{"ops": ' + '{"a": ' * 50_000 + "1" + "}" * 50_001).status_code == 400
    assert post("/login", b'{"username": "\xff\xfe", "password": "x"}').status_code == 400
    for path, body in [("/login", {"username": "\ud800", "password": "x"}),
                       ("/refresh", {"refresh_token": "\udc80"}),
                       ("/records", {"ids": ["\ud800"]}),
                       ("/push", {"ops": [{"op_id": "\ud800", "table": "x", "record_id": "r",
                                           "kind": "create", "fields": {}, "base_version": 0,
                                           "hlc": STAMP}]})]:
        answer = post(path, json.dumps(body))  # says where, and that it is not text
        assert answer.status_code == 422, (path, answer.text[:300])
        [error] = answer.json()["detail"]
        assert error["loc"][-1] in ("username", "refresh_token", 0, "op_id"), (path, error)
        assert "unicode" in error["msg"] and "input" not in error, (path, error)
    # bad text inside a record is that op's rejection, not the batch's
    ops = [{"op_id": f"t{i}", "table": "outreach_contact", "record_id": f"rec-{i}",
            "kind": "append", "base": {}, "base_version": 0, "hlc": STAMP,
            "fields": {"team": "mhst-1", "contacted_at": "2026-05-01T10:00:00.000Z",
                       "note": note}} for i, note in enumerate(["a\x00b", "x\ud800", "fine"])]
    results = post("/push", json.dumps({"ops": ops})).json()["results"]
    assert [r["status"] for r in results] == ["rejected", "rejected", "applied"]
    assert "note: contains a NUL character" in results[0]["reason"]
