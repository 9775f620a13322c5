"""A hostile client replays every finding of the second security review against a real
server, on SQLite and PostgreSQL. It speaks raw HTTP (requests), written from the server's
own /openapi.json and the record catalogue, never through the laptop's sync code; a real
laptop appears only where the finding is what laptops suffer (an orphan, a poisoned clock).

Each test failed on the server before the fix: children trusting their own team, orphans that
left laptops mismatched for ever, unlimited password guesses checked inside the write lock,
500s from out-of-range times, unhashable ids and NULs, NaN served back, unchecked clock
stamps, reusable refresh tokens, and an API description that was not the API.
"""

import json
import math
import threading
import time
import uuid

import pytest
import requests
from alembic import command
from alembic.config import Config

from fieldapp.records import RECORD_TYPES
from sync import engine
from sync.server import accounts, cli, record_sums
from sync.server.db import MIGRATIONS, make_engine
from tests.conftest import PASSWORD
from tests.sync.conftest import Agency

TEAM_A, TEAM_B = "mhst-1", "mhst-2"


def stamp(wall_ms: int | None = None, device: str = "hostile") -> str:
    return f"{int(time.time() * 1000) if wall_ms is None else wall_ms:013d}-00000-{device}"


class Client:
    """Raw HTTP to the agency server, as anyone with the URL could write it."""

    def __init__(self, agency, username=None, password=PASSWORD):
        self.url = agency.url + "/v1"
        self.token = None
        if username:
            answer = self.login(username, password, device_id=f"dev-{uuid.uuid4().hex[:12]}")
            assert answer.status_code == 200, answer.text
            self.token = answer.json()["access_token"]
            self.refresh_token = answer.json()["refresh_token"]

    def login(self, username, password=PASSWORD, **extra):
        return requests.post(f"{self.url}/login", json={"username": username,
                                                       "password": password, **extra}, timeout=60)

    def call(self, method, path, **kw):
        headers = {"Authorization": f"Bearer {self.token}", **kw.pop("headers", {})}
        return requests.request(method, self.url + path, headers=headers,
                                **{"timeout": 60, **kw})

    def push(self, *ops):
        answer = self.call("POST", "/push", json={"ops": list(ops)})
        assert answer.status_code == 200, answer.text
        return answer.json()["results"]


def op(table, fields, kind=None, record_id=None, hlc=None, base_version=0, base=None):
    rt = RECORD_TYPES[table]
    return {"op_id": str(uuid.uuid4()), "table": table, "record_id": record_id or str(uuid.uuid4()),
            "kind": kind or ("append" if rt.append_only else "create"), "fields": fields,
            "base": base or {}, "base_version": base_version, "hlc": hlc or stamp()}


NOW = "2026-11-01T10:00:00.000Z"
SHIFT = {"team": TEAM_A, "unit": "MHST-1", "members": [{"username": "ofc.a", "role": "officer"}],
         "started_at": NOW}
ENCOUNTER = {"team": TEAM_A, "started_at": NOW, "presenting_situation": "welfare_check"}


ROSTER = {"clin.a": ("clinician", [TEAM_A]), "clin.b": ("clinician", [TEAM_B]),
          "sgt.b": ("supervisor", [TEAM_B]), "ofc.a": ("officer", [TEAM_A]),
          "ofc.b": ("officer", [TEAM_B]), "clin.ab": ("clinician", [TEAM_B, TEAM_A])}


@pytest.fixture
def people(agency):
    """ROSTER's users, each added and signed in on first use."""
    class People(dict):
        def __missing__(self, name):
            agency.add_user(name, *ROSTER[name])
            self[name] = Client(agency, name)
            return self[name]
    return People()


# --- 1. children trust their own team -----------------------------------------------------------

def test_a_child_needs_a_parent_its_writer_may_see_and_takes_that_parents_team(agency, people):
    a, b = people["clin.a"], people["clin.b"]
    shift, encounter, person = (str(uuid.uuid4()) for _ in range(3))
    assert [r["status"] for r in a.push(
        op("shift", SHIFT, record_id=shift), op("encounter", ENCOUNTER, record_id=encounter),
        op("person", {"team": TEAM_A, "kind": "anonymous"}, record_id=person))] == ["applied"] * 3
    attacks = {
        "clin.b": [op("clinical_note", {"encounter_id": encounter, "team": TEAM_B,
                                        "body": "planted", "written_at": NOW}),
                   op("clinical_note", {"encounter_id": encounter, "team": TEAM_A,
                                        "body": "planted", "written_at": NOW})],
        "sgt.b": [op("shift_review", {"team": TEAM_B, "shift_id": shift, "decision": "approved",
                                      "reviewed_at": NOW})],
        "ofc.b": [op("amendment", {"team": TEAM_B, "shift_id": shift, "record_table": "shift",
                                   "record_id": shift, "changes": [], "reason": "x",
                                   "amended_at": NOW}),
                  op("shift_event", {"shift_id": shift, "status": "en_route", "at": NOW}),
                  op("conflict_resolution", {"team": TEAM_B, "record_table": "person",
                                             "record_id": person, "field": "alias",
                                             "choice": "kept", "resolved_at": NOW})],
        "ofc.a": [op("amendment", {"team": TEAM_A, "shift_id": str(uuid.uuid4()),
                                   "record_table": "shift", "record_id": shift, "changes": [],
                                   "reason": "orphan", "amended_at": NOW})],
    }
    for who, ops in attacks.items():
        for result in people[who].push(*ops):
            assert result["status"] == "rejected", (who, result)
            assert "on the server" in result["reason"], result
    # a member of both teams may write a note on team A's encounter: it is team A's note
    [result] = people["clin.ab"].push(op("clinical_note", {
        "encounter_id": encounter, "team": TEAM_B, "body": "ok", "written_at": NOW},
        record_id="note-ab"))
    assert result["status"] == "applied"
    assert agency.scalar("SELECT team FROM record WHERE id = 'note-ab'") == TEAM_A
    assert json.loads(agency.scalar("SELECT data FROM record WHERE id = 'note-ab'"))["team"] == TEAM_A
    assert "planted" not in json.dumps([dict(r) for r in agency.rows("SELECT data FROM record")])
    # nor may a record move to another team, or a release to another team's person
    b_person = str(uuid.uuid4())
    b.push(op("person", {"team": TEAM_B, "kind": "anonymous"}, record_id=b_person))
    [patch] = people["clin.ab"].push(op("person", {"team": TEAM_B}, kind="patch",
                                        record_id=person, base_version=1))
    assert patch["status"] == "rejected" and "team" in patch["reason"]
    release = str(uuid.uuid4())
    a.push(op("release_of_information", {
        "person_id": person, "discloser": "self", "scope": "clinical_notes",
        "recipient": "role:officer", "purpose": "care", "signed_on": "2026-11-01",
        "expires_on": "2027-11-01"}, record_id=release))
    [moved] = people["clin.ab"].push(op("release_of_information", {"person_id": b_person},
                                        kind="patch", record_id=release, base_version=1))
    assert moved["status"] == "rejected", moved


def test_laptops_mismatched_by_an_orphan_recover_after_the_upgrade(db_url, tmp_path):
    """A server that took an orphan before the fix (records written as it stored them), then
    upgraded: the orphan is quarantined and the team's laptops end their sync "ok"."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    old = make_engine(db_url)
    with old.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0008")  # the schema as it was when the orphan was pushed
    with old.begin() as conn:
        for record_id, table, data in [
                ("orphan-1", "amendment", {"team": TEAM_A, "shift_id": "no-such-shift",
                                           "record_table": "shift", "record_id": "x",
                                           "changes": "[]", "reason": "r", "amended_at": NOW}),
                ("contact-1", "outreach_contact", {"team": TEAM_A, "contacted_at": NOW})]:
            conn.exec_driver_sql(
                "INSERT INTO record (id, table_name, team, clinical, version, change_seq, "
                "deleted, data, field_hlc, created_hlc, updated_hlc, author, device) VALUES "
                "(%(id)s, %(t)s, %(team)s, false, 1, %(seq)s, false, %(data)s, '{}', %(h)s, "
                "%(h)s, 'ofc.x', 'dev-x')" if conn.dialect.name == "postgresql" else
                "INSERT INTO record (id, table_name, team, clinical, version, change_seq, "
                "deleted, data, field_hlc, created_hlc, updated_hlc, author, device) VALUES "
                "(:id, :t, :team, 0, 1, :seq, 0, :data, '{}', :h, :h, 'ofc.x', 'dev-x')",
                {"id": record_id, "t": table, "team": TEAM_A, "data": json.dumps(data),
                 "seq": 1 if record_id == "orphan-1" else 2, "h": stamp()})
        conn.exec_driver_sql("UPDATE change_counter SET value = 2")
        record_sums.rebuild(conn)
    old.dispose()
    upgraded = Agency(db_url)  # runs the migrations to head, as 'tandem-server init' does
    try:
        upgraded.add_user("ofc.a", "officer", [TEAM_A])
        from sync import online
        laptop = online.login(tmp_path / "laptop", upgraded.url, "ofc.a", PASSWORD)
        summary = engine.run_sync(laptop)
        assert summary["check"] == "ok" and summary["orphans"] == 0, summary
        assert laptop.db.execute("SELECT count(*) FROM outreach_contact").fetchone()[0] == 1
        laptop.close()
        assert upgraded.scalar("SELECT count(*) FROM record WHERE id = 'orphan-1'") == 0
        assert upgraded.scalar("SELECT reason FROM quarantined_record WHERE id = 'orphan-1'") \
            .startswith("shift_id: no shift")
        assert upgraded.scalar("SELECT count(*) FROM admin_audit "
                               "WHERE action = 'record.quarantined'") == 1
    finally:
        upgraded.stop()


# --- 2. unlimited password guesses, checked inside the write lock ----------------------------------

def test_guesses_back_off_then_lock_the_account_each_audited(agency, monkeypatch):
    agency.add_user("ofc.a", "officer", [TEAM_A])
    with agency.engine.begin() as conn:
        from sync.server import agency_settings
        agency_settings.set_value(conn, "signin_lockout_failures", "3")
    guesser = Client(agency)
    assert guesser.login("ofc.a", "guess-1").status_code == 401
    assert guesser.login("ofc.a", "guess-2").status_code == 401
    early = guesser.login("ofc.a", "guess-3")  # the second failure costs a 1 s wait
    assert early.status_code == 429 and early.headers["Retry-After"] == "1", early.text
    assert early.json()["code"] == "throttled" and "try again in 1 s" in early.json()["detail"]
    time.sleep(1.1)
    assert guesser.login("ofc.a", "guess-3").status_code == 401  # the third: locked 10 min
    locked = guesser.login("ofc.a", PASSWORD)  # even the right password waits
    assert locked.status_code == 429 and 590 <= int(locked.headers["Retry-After"]) <= 600
    actions = [(r["action"], r["outcome"]) for r in agency.rows(
        "SELECT action, outcome FROM admin_audit WHERE actor = 'ofc.a' ORDER BY id")]
    assert actions == [("signin", "failure"), ("signin", "failure"),
                       ("signin.throttled", "refused"), ("signin", "failure"),
                       ("signin.locked", "refused"), ("signin.throttled", "refused")], actions
    # an administrator releases the account; the right password then works and starts afresh
    assert cli.main(["--db", agency.db_url, "throttle", "clear", "user:ofc.a"]) == 0
    assert guesser.login("ofc.a", PASSWORD).status_code == 200
    assert agency.scalar("SELECT count(*) FROM signin_throttle WHERE key = 'user:ofc.a'") == 0


def test_one_address_spraying_many_names_is_held_back(agency, monkeypatch):
    from sync.server import throttle
    monkeypatch.setattr(throttle, "ADDRESS_FREE", 3)
    monkeypatch.setattr(throttle, "ADDRESS_LOCKOUT", 6)
    sprayer = Client(agency)
    for i in range(4):
        assert sprayer.login(f"nobody{i}", "guess").status_code == 401
    held = sprayer.login("nobody-else", "guess")
    assert held.status_code == 429 and "from this address" in held.json()["detail"]
    # a name with no account is kept only as a hash (people type passwords into it)
    keys = [r["key"] for r in agency.rows("SELECT key FROM signin_throttle")]
    assert "address:127.0.0.1" in keys and not any("nobody" in k for k in keys)


class SlowHasher:
    """argon2 as the server runs it, holding each check until the test lets it go."""

    def __init__(self, real):
        self.real, self.entered, self.release = real, threading.Event(), threading.Event()

    def verify(self, digest, password):
        self.entered.set()
        self.release.wait(30)
        return self.real.verify(digest, password)

    def __getattr__(self, name):
        return getattr(self.real, name)


def test_a_password_being_checked_holds_no_lock_anyone_else_needs(agency, people, monkeypatch):
    writer = people["ofc.a"]
    slow = SlowHasher(accounts._hasher)
    monkeypatch.setattr(accounts, "_hasher", slow)
    guess = threading.Thread(target=Client(agency).login, args=("ofc.b", "wrong guess"))
    guess.start()
    try:
        assert slow.entered.wait(30)
        # while that guess is being checked: another user's push, which needs the write lock
        answer = writer.call("POST", "/push", timeout=10, json={"ops": [
            op("outreach_contact", {"team": TEAM_A, "contacted_at": NOW})]})
        assert answer.status_code == 200 and answer.json()["results"][0]["status"] == "applied"
        assert writer.call("GET", "/pull", timeout=10).status_code == 200
    finally:
        slow.release.set()
        guess.join(30)


# --- 3. 500s: any field of any op, any type ------------------------------------------------------

DEEP = []
for _ in range(500):
    DEEP = [DEEP]
HOSTILE = [None, True, False, 0, -1, 2**63, -(10**30), 1.5, -1e308, "", " ", "\x00", "a\x00b",
           "x" * 5000, "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00",
           "2026-02-30T25:61:00Z", "NaN", [], [None], ["a", {"b": [1, {"c": None}]}], {},
           {"a": {"b": [None, 1.5, "\x00"]}}, [[[[[]]]]], '[{"a": [1, 2]}]', "[" * 5000, "\ud800",
           "a\udfffb", ["\ud800"], ["fo\x00od"], [{"k\x00": "v"}], [{"a": DEEP}]]


def _valid(f):
    if f.references:
        return None
    if f.type is list:
        return []
    if f.choices:
        return f.choices[0]
    if f.type is str:
        return "x" if f.name != "team" else TEAM_A
    if f.type is int:
        return int(f.minimum or 1)
    if f.type is float:
        return 0.0
    if f.type is bool:
        return True
    return "2026-11-01" if f.type.__name__ == "date" else NOW


def test_no_value_in_any_field_of_any_op_gets_a_server_error(agency, people):
    client = people["clin.a"]
    parents = {"shift": str(uuid.uuid4()), "encounter": str(uuid.uuid4()),
               "person": str(uuid.uuid4()), "follow_up": str(uuid.uuid4()),
               "crc_notice": str(uuid.uuid4())}
    notice = {f.name: _valid(f) for f in RECORD_TYPES["crc_notice"].fields if f.required}
    assert {r["status"] for r in client.push(
        op("shift", SHIFT, record_id=parents["shift"]),
        op("encounter", ENCOUNTER, record_id=parents["encounter"]),
        op("person", {"team": TEAM_A, "kind": "anonymous"}, record_id=parents["person"]),
        op("follow_up", {"team": TEAM_A, "person_id": parents["person"], "reason":
                         "post_crisis_check", "due_on": "2026-12-01", "priority": 2,
                         "status": "open"}, record_id=parents["follow_up"]),
        op("crc_notice", notice, record_id=parents["crc_notice"]))} == {"applied"}
    # every op key, any JSON value: a 4xx for the batch, never a 5xx
    template = op("outreach_contact", {"team": TEAM_A, "contacted_at": NOW})
    for key in template:
        for value in HOSTILE:
            answer = client.call("POST", "/push", json={"ops": [{**template, key: value,
                                                                  "op_id": str(uuid.uuid4())}]})
            assert answer.status_code < 500, (key, value, answer.text[:300])
    # every field of every record, any JSON value, in creates and patches: a per-op answer
    for table, rt in RECORD_TYPES.items():
        base = {f.name: _valid(f) for f in rt.fields if f.required}
        base.update({f.name: parents[f.references] for f in rt.fields
                     if f.required and f.references})
        ops = [op(table, {**base, f.name: value}) for f in rt.fields for value in HOSTILE]
        for start in range(0, len(ops), 250):
            answer = client.call("POST", "/push", json={"ops": ops[start:start + 250]})
            assert answer.status_code == 200, (table, answer.text[:300])
            assert len(answer.json()["results"]) == len(ops[start:start + 250])
    stored = agency.rows("SELECT data FROM record")
    for row in stored:  # whatever was applied is strict JSON, with no NUL
        json.loads(row["data"], parse_constant=pytest.fail)
        assert "\\u0000" not in row["data"]


def test_a_time_carried_out_of_range_by_its_offset_is_that_ops_rejection(agency, people):
    for when in ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"]:
        [result] = people["ofc.a"].push(op("outreach_contact", {"team": TEAM_A,
                                                               "contacted_at": when}))
        assert result["status"] == "rejected" and "contacted_at" in result["reason"], result


def test_an_id_that_is_a_list_or_an_object_is_that_ops_rejection(agency, people):
    results = people["ofc.a"].push(
        op("shift_event", {"shift_id": ["a"], "status": "en_route", "at": NOW}),
        op("shift_event", {"shift_id": {"id": "a"}, "status": "en_route", "at": NOW}),
        op("release_of_information", {"person_id": [1]}), op("clinical_note", {"encounter_id": {}}))
    assert [r["status"] for r in results] == ["rejected"] * 4


def test_a_list_item_of_the_wrong_shape_is_that_ops_rejection(agency, people):
    """Each list field holds codes, ids or flat objects of known keys; anything else would be
    stored for a laptop's screen or the HMIS export to trip over. Sent as a JSON list or in
    stored form (JSON text, as laptops send lists), each is its op's rejection, naming the
    field and the item."""
    client = people["clin.a"]  # a clinician of the team writes every record here
    [parent] = client.push(op("shift", SHIFT, record_id=(shift_id := str(uuid.uuid4()))))
    assert parent["status"] == "applied", parent
    contact = {"team": TEAM_A, "contacted_at": NOW}
    amendment = {"team": TEAM_A, "shift_id": shift_id, "record_table": "encounter",
                 "record_id": str(uuid.uuid4()), "reason": "typo", "amended_at": NOW}
    note = {"encounter_id": str(uuid.uuid4()), "team": TEAM_A, "body": "b", "written_at": NOW}
    wrong = [
        ("outreach_contact", contact, "services_offered", [{"name": "food"}], "item 1"),
        ("outreach_contact", contact, "services_offered", ["food", "tent"], "item 2"),
        ("outreach_contact", contact, "supplies", [[["water"]]], "item 1"),
        ("outreach_contact", contact, "supplies", [None], "item 1"),
        ("outreach_contact", contact, "supplies", {"water": 1}, "must be a list"),
        ("shift", SHIFT, "members", ["ofc.a"], "item 1"),
        ("shift", SHIFT, "members", [{"username": "ofc.a", "role": {"x": [1]}}], "item 1"),
        ("shift", SHIFT, "members", [{"username": "ofc.a", "team": "mhst-2"}], "item 1"),
        ("encounter", ENCOUNTER, "person_ids", [{"id": "p"}], "item 1"),
        ("encounter", ENCOUNTER, "person_ids", ["p" * 37], "item 1"),
        ("clinical_note", note, "person_ids", [7], "item 1"),
        ("amendment", amendment, "changes", ["disposition"], "item 1"),
        ("amendment", amendment, "changes", [{"field": "x", "old": [1]}], "item 1"),
        ("amendment", amendment, "changes", [{"old": "a", "new": "b"}], "item 1"),
        ("amendment", amendment, "changes", [{"field": "x", "new": 2**60}], "item 1"),
    ]
    for table, fields, name, value, where in wrong:
        for sent in (value, json.dumps(value)):
            [result] = client.push(op(table, {**fields, name: sent},
                                      record_id=(rid := str(uuid.uuid4()))))
            assert result["status"] == "rejected", (name, sent, result)
            assert name in result["reason"] and where in result["reason"], (sent, result)
            assert agency.scalar("SELECT count(*) FROM record WHERE id = :id", id=rid) == 0
    right = client.push(
        op("outreach_contact", {**contact, "services_offered": ["food"], "supplies": '["water"]'}),
        op("amendment", {**amendment, "changes": [{"field": "disposition", "old": None,
                                                   "new": "referred"}]}))
    assert [r["status"] for r in right] == ["applied", "applied"], right


def test_a_rejection_quoting_what_was_sent_is_kept_short(agency, people):
    """A reason names every unknown field; thousands of long ones would be kept with the op
    for good (applied_op) and sent back in full. It is cut short instead."""
    junk = {f"{n:05d}-" + "x" * 200: 1 for n in range(3000)}
    [result] = people["ofc.a"].push(op("outreach_contact", {"team": TEAM_A, "contacted_at": NOW,
                                                            **junk}, record_id="junk-1"))
    assert result["status"] == "rejected" and "unknown field" in result["reason"], result
    assert len(result["reason"]) <= 1000 and result["reason"].endswith("…"), len(result["reason"])
    stored = agency.scalar("SELECT result FROM applied_op WHERE op_id = :id", id=result["op_id"])
    assert len(stored) < 1100, len(stored)


def test_a_refused_request_does_not_send_back_what_was_sent(agency, people):
    """A 422 says where and what is wrong, never the value: not a password one character
    past the limit (a laptop would show it, a proxy might log it), not an oversized field."""
    secret = "Correct-Horse-" + "x" * 1100
    answer = Client(agency).login("ofc.a", secret)
    assert answer.status_code == 422, answer.text[:300]
    assert answer.json()["detail"][0]["loc"] == ["body", "password"]
    assert "Correct-Horse" not in answer.text and "xxxxxxxx" not in answer.text
    template = op("outreach_contact", {"team": TEAM_A, "contacted_at": NOW})
    answer = people["ofc.a"].call("POST", "/push", json={"ops": [
        {**template, "op_id": "Marker-" + "y" * 5000}]})
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == [
        "body", "ops", 0, "op_id"]
    assert "Marker-" not in answer.text and len(answer.text) < 1000, answer.text[:300]


def test_a_nul_in_an_op_identifier_is_a_4xx(agency, people):
    template = op("outreach_contact", {"team": TEAM_A, "contacted_at": NOW})
    for key in ["hlc", "table", "op_id", "record_id", "kind"]:
        answer = people["ofc.a"].call("POST", "/push", json={"ops": [
            {**template, key: template[key][:5] + "\x00" + template[key][6:]}]})  # same length
        assert answer.status_code == 422, (key, answer.text[:300])
        assert answer.json()["detail"][0]["loc"] == ["body", "ops", 0, key]


# --- 4. NaN ---------------------------------------------------------------------------------------

def test_nan_and_infinity_are_refused_and_never_served(agency, people):
    client = people["ofc.a"]
    shift = str(uuid.uuid4())
    client.push(op("shift", SHIFT, record_id=shift))
    for number in ["NaN", "Infinity", "-Infinity", "1e999"]:
        template = op("outreach_contact", {"team": TEAM_A, "contacted_at": NOW, "lat": 1.0})
        body = json.dumps({"ops": [template]}).replace('"lat": 1.0', f'"lat": {number}')
        answer = client.call("POST", "/push", data=body,
                             headers={"Content-Type": "application/json"})
        assert answer.status_code == 422, (number, answer.text)
        assert answer.json()["detail"][0]["type"] == "json_invalid"
        # nor hidden in a list field's JSON text
        [inside] = client.push(op("amendment", {
            "team": TEAM_A, "shift_id": shift, "record_table": "shift", "record_id": shift,
            "changes": f'[{{"field": "lat", "old": {number}, "new": 1}}]', "reason": "r",
            "amended_at": NOW}))
        assert inside["status"] == "rejected", (number, inside)
    pulled = client.call("GET", "/pull")
    json.loads(pulled.text, parse_constant=pytest.fail)
    assert not any(isinstance(v, float) and not math.isfinite(v)
                   for r in pulled.json()["records"] for v in r["fields"].values())


def test_a_whole_number_past_a_floats_range_is_rejected_not_a_500(agency, people):
    """JSON's whole numbers have no limit; one that no float holds is a bad value, not a crash."""
    template = op("outreach_contact", {"team": TEAM_A, "contacted_at": NOW, "lat": 1.0})
    body = json.dumps({"ops": [template]}).replace('"lat": 1.0', f'"lat": 1{"0" * 400}')
    answer = people["ofc.a"].call("POST", "/push", data=body,
                                  headers={"Content-Type": "application/json"})
    assert answer.status_code == 200, answer.text[:300]
    [result] = answer.json()["results"]
    assert result["status"] == "rejected" and "lat: must be a finite number" in result["reason"]


# --- 5. clock stamps -----------------------------------------------------------------------------

def test_a_stamp_from_the_far_future_is_clamped_flagged_and_moves_no_laptops_clock(
        agency, people, laptop):
    future = stamp(9_999_999_999_999, "evil-device")  # November 2286
    [result] = people["ofc.a"].push(op("outreach_contact", {"team": TEAM_A, "contacted_at": NOW},
                                       record_id="from-2286", hlc=future))
    assert result["status"] == "applied"
    limit = time.time() * 1000 + 5 * 60_000 + 5_000
    stored = agency.rows("SELECT created_hlc, updated_hlc FROM record WHERE id = 'from-2286'")[0]
    assert all(int(s[:13]) <= limit for s in stored.values()), stored
    flag = agency.rows("SELECT * FROM admin_audit WHERE action = 'clock.clamped'")
    assert len(flag) == 1 and json.loads(flag[0]["detail"])["latest_sent"] == future
    [malformed] = people["ofc.a"].push(op("outreach_contact", {"team": TEAM_A,
                                                              "contacted_at": NOW}, hlc="9"))
    assert malformed["status"] == "rejected" and "hlc" in malformed["reason"]
    puller = laptop("ofc.pull", "officer", (TEAM_A,))
    puller.db.execute("UPDATE sync_state SET hlc_wall = 9999999999999 WHERE id = 1")  # poisoned
    puller.db.conn.commit()                                                          # earlier
    puller.clock.wall_ms = 9_999_999_999_999
    engine.run_sync(puller)
    assert puller.clock.wall_ms <= time.time() * 1000 + 5 * 60_000 + 5_000
    assert int(puller.clock.now()[:13]) <= time.time() * 1000 + 5 * 60_000 + 5_000


# --- 6. refresh tokens ----------------------------------------------------------------------------

def test_a_refresh_token_works_once_and_a_replay_revokes_its_whole_sign_in(agency, people):
    client = people["ofc.a"]
    first = client.refresh_token

    def refresh(token, proposal=None):
        body = {"refresh_token": token, **({"next_refresh_token": proposal} if proposal else {})}
        return requests.post(f"{client.url}/refresh", json=body, timeout=30)

    rotated = refresh(first)
    assert rotated.status_code == 200 and rotated.json()["refresh_token"] != first
    second, access = rotated.json()["refresh_token"], rotated.json()["access_token"]
    stolen = refresh(first)  # a copy of the first token, presented after the laptop used it
    assert stolen.status_code == 401 and stolen.json()["code"] == "token_reused"
    assert refresh(second).status_code == 401  # the whole sign-in is revoked
    client.token = access
    assert client.call("GET", "/summary").status_code == 401
    assert agency.scalar("SELECT count(*) FROM admin_audit WHERE action = 'token.reused'") == 1


def test_a_rotation_whose_answer_was_lost_can_be_asked_again(agency, people):
    client = people["ofc.b"]
    proposal = "p" * 43

    def refresh(token, next_token):
        return requests.post(f"{client.url}/refresh", timeout=30, json={
            "refresh_token": token, "next_refresh_token": next_token})

    one, again = refresh(client.refresh_token, proposal), refresh(client.refresh_token, proposal)
    assert one.status_code == again.status_code == 200
    assert one.json()["refresh_token"] == again.json()["refresh_token"] == proposal
    assert refresh(proposal, "q" * 43).status_code == 200
    assert refresh(client.refresh_token, "r" * 43).json()["code"] == "token_reused"


# --- 7. the API description is the API -------------------------------------------------------------

def test_the_api_description_lists_every_answer_and_the_answers_match_it(agency, people):
    document = requests.get(agency.url + "/openapi.json", timeout=30).json()
    for path, methods in document["paths"].items():
        for method, spec in methods.items():
            answers = set(spec["responses"])
            assert {"400", "413", "503"} <= answers, (method, path)
            if path != "/v1/health":
                assert "401" in answers, (method, path)
    assert "429" in document["paths"]["/v1/login"]["post"]["responses"]
    assert "403" in document["paths"]["/v1/push"]["post"]["responses"]
    client = people["ofc.a"]
    template = op("outreach_contact", {"team": TEAM_A, "contacted_at": NOW})
    for bad in [{**template, "base_version": False}, {**template, "base_version": True},
                {**template, "base_version": 0.5}, {**template, "base_version": "0"}]:
        answer = client.call("POST", "/push", json={"ops": [bad]})
        assert answer.status_code == 422, answer.text
    # an op id twice in one batch is one op (JSON Schema cannot say "distinct ids", so the
    # server does not refuse what its description allows)
    twice = client.push(template, {**template, "fields": {"team": TEAM_A, "contacted_at": NOW,
                                                          "note": "second copy"}})
    assert [r["status"] for r in twice] == ["applied", "duplicate"]
    assert twice[1]["original"]["status"] == "applied"
    assert agency.scalar("SELECT count(*) FROM record WHERE id = :i", i=template["record_id"]) == 1
    # every 422 is the HTTPValidationError the description gives
    bad = client.call("POST", "/push", json={"ops": [{**template, "base_version": -1}]})
    detail = bad.json()["detail"]
    assert bad.status_code == 422 and {"loc", "msg", "type"} <= set(detail[0])
