"""The recovery endpoints as a stranger would use them (raw HTTP, from /openapi.json): what a
caller may give back, the order-independent merge, and the 409 that makes a laptop of another
history generation give back first. Never a 5xx."""

import json
import uuid

import pytest
import requests

from fieldapp.clock import format_stamp
from tests.conftest import PASSWORD

TEAM = "mhst-1"


def stamp(ms: int, device: str = "dev-x") -> str:
    return format_stamp(1_770_000_000_000 + ms, 0, device)


class Caller:
    def __init__(self, agency, name, role="officer", teams=(TEAM,)):
        agency.add_user(name, role, teams)
        self.base, self.device = f"{agency.url}/v1", f"dev-{uuid.uuid4().hex[:12]}"
        answer = requests.post(f"{self.base}/login", json={
            "username": name, "password": PASSWORD, "device_id": self.device}, timeout=30)
        assert answer.status_code == 200, answer.text
        self.headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        self.name = name

    def epoch(self) -> str:
        return requests.get(f"{self.base}/health", timeout=30).json()["epoch"]

    def give(self, records, epoch=None) -> requests.Response:
        answer = requests.post(f"{self.base}/recovery/records", headers=self.headers,
                               params={"epoch": epoch or self.epoch()},
                               json={"records": records}, timeout=30)
        assert answer.status_code < 500, answer.text
        return answer

    def offer(self, keys, known=None) -> requests.Response:
        answer = requests.post(f"{self.base}/recovery/offer", headers=self.headers,
                               params={"known": known} if known else None,
                               json={"keys": keys}, timeout=30)
        assert answer.status_code < 500, answer.text
        return answer


def contact(note="returned", team=TEAM, author="peer.p", at=1, **extra):
    return {"table": "outreach_contact", "id": str(uuid.uuid4()), "deleted": False,
            "created_hlc": stamp(0), "updated_hlc": stamp(at), "author": author,
            "device": "dev-x", "fields": {"team": team, "contacted_at": "2026-05-01T10:00:00.000Z",
                                          "note": note}, **extra}


def statuses(answer) -> list:
    assert answer.status_code == 200, answer.text
    return [(r["status"], r.get("reason", "")) for r in answer.json()["results"]]


def test_a_caller_gives_back_only_what_its_role_may_write_in_its_teams(agency):
    officer = Caller(agency, "ofc.a")
    good = contact()
    assert statuses(officer.give([good])) == [("restored", "")]
    assert statuses(officer.give([good])) == [("unchanged", "")]  # once, however often
    row = agency.rows("SELECT author, device, version, created_hlc FROM record WHERE id = :i",
                      i=good["id"])[0]
    assert (row["author"], row["device"], row["version"], row["created_hlc"]) == (
        "peer.p", "dev-x", 1, stamp(0))
    [logged] = agency.rows("SELECT device_id, username, outcome, detail FROM recovery")
    assert (logged["device_id"], logged["username"], logged["outcome"]) == (
        officer.device, "ofc.a", "restored")
    assert "author peer.p" in logged["detail"]

    note = {"table": "clinical_note", "id": str(uuid.uuid4()), "deleted": False,
            "created_hlc": stamp(0), "updated_hlc": stamp(0), "author": "clin.c",
            "device": "dev-x", "fields": {"encounter_id": str(uuid.uuid4()), "team": TEAM,
                                          "body": "forged", "written_at": "2026-05-01T10:00:00Z"}}
    release = {**note, "id": str(uuid.uuid4()), "table": "release_of_information", "fields": {
        "person_id": str(uuid.uuid4()), "discloser": "me", "scope": "clinical_notes",
        "recipient": "user:ofc.a", "purpose": "to read notes", "signed_on": "2026-01-01",
        "expires_on": "2027-01-01"}}
    audit = {**note, "id": str(uuid.uuid4()), "table": "audit_event", "author": "someone.else",
             "fields": {"at": "2026-05-01T10:00:00Z", "actor": "someone.else",
                        "action": "person.view", "outcome": "success"}}
    attempt = {**note, "id": str(uuid.uuid4()), "table": "follow_up_attempt", "author": "ofc.a",
               "fields": {"follow_up_id": str(uuid.uuid4()), "at": "2026-05-01T10:00:00Z",
                          "method": "phone", "outcome": "reached"}}
    cases = [
        (note, "may not write"),
        (release, "may not write"),
        (audit, "only the device that wrote an audit event"),
        (attempt, "no follow_up"),
        (contact(team="mhst-2"), "not a member of team 'mhst-2'"),
        (contact(note="x" * 30_000), "note"),
        ({**contact(), "updated_hlc": "yesterday"}, "not a clock stamp"),
        ({**contact(), "created_hlc": stamp(9), "updated_hlc": stamp(1)}, "later than"),
        ({**contact(), "table": "no_such_table"}, "unknown record table"),
        ({**contact(), "id": good["id"], "table": "person",
          "fields": {"team": TEAM, "kind": "anonymous"}}, "belongs to a outreach_contact"),
    ]
    found = statuses(officer.give([record for record, _ in cases]))
    for (status, reason), (record, expected) in zip(found, cases):
        assert status == "rejected" and expected in reason, (record["table"], reason)
    assert agency.scalar("SELECT count(*) FROM record") == 1
    kept = {r["record_id"] for r in agency.rows(
        "SELECT record_id FROM recovery WHERE outcome = 'kept_on_laptop'")}
    assert kept == {record["id"] for record, _ in cases}

    # a record of another team, already on the server, cannot be overwritten either
    other = Caller(agency, "ofc.z", teams=("mhst-2",))
    theirs = contact(team="mhst-2")
    assert statuses(other.give([theirs])) == [("restored", "")]
    changed = {**theirs, "updated_hlc": stamp(50), "fields": {**theirs["fields"], "note": "x"}}
    assert statuses(officer.give([changed]))[0][0] == "rejected"


def test_bad_requests_get_4xx_and_another_generation_gets_409(agency):
    officer = Caller(agency, "ofc.a")
    epoch = officer.epoch()
    base, headers = officer.base, officer.headers
    checks = [
        requests.post(f"{base}/recovery/records", params={"epoch": epoch},
                      json={"records": [contact()]}, timeout=30),  # no token
        requests.post(f"{base}/recovery/records", headers=headers,
                      json={"records": [contact()]}, timeout=30),  # no epoch
        requests.post(f"{base}/recovery/records", headers=headers, params={"epoch": epoch},
                      json={"records": [contact()] * 501}, timeout=30),
        requests.post(f"{base}/recovery/records", headers=headers, params={"epoch": epoch},
                      json={"records": [{**contact(), "extra": 1}]}, timeout=30),
        requests.post(f"{base}/recovery/records", headers=headers, params={"epoch": epoch},
                      json={"records": "all of them"}, timeout=30),
        requests.post(f"{base}/recovery/offer", headers=headers, json={"keys": [
            {"table": "person", "id": "x", "version": -1, "updated_hlc": "s",
             "confirmed": True}]}, timeout=30),
        requests.post(f"{base}/recovery/offer", headers=headers, json={"keys": [
            {"table": "person", "id": "x", "version": 1, "updated_hlc": "s",
             "confirmed": False}] * 2001},
            timeout=30),
        requests.get(f"{base}/pull", headers=headers, params={"epoch": "e" * 65}, timeout=30),
    ]
    assert [c.status_code for c in checks] == [401, 422, 422, 422, 422, 422, 422, 422]

    stale = "an-epoch-from-before-the-restore"
    for answer in (
            officer.give([contact()], epoch=stale),
            requests.get(f"{base}/pull", headers=headers, params={"epoch": stale}, timeout=30),
            requests.post(f"{base}/push", headers=headers, params={"epoch": stale}, json={"ops": [{
                "op_id": "op-1", "table": "outreach_contact", "record_id": str(uuid.uuid4()),
                "kind": "append", "fields": contact()["fields"], "base": {}, "base_version": 0,
                "hlc": stamp(1)}]}, timeout=30)):
        assert answer.status_code == 409, answer.text
        assert answer.json()["code"] == "epoch_changed" and answer.json()["epoch"] == epoch
    assert agency.scalar("SELECT count(*) FROM record") == 0  # nothing was applied

    # proofs the server forgot: each starts one new generation, logged with its reason
    beyond = requests.get(f"{base}/pull", headers=headers,
                          params={"epoch": epoch, "after": 10**9}, timeout=30)
    assert beyond.status_code == 409 and beyond.json()["epoch"] != epoch
    epoch = beyond.json()["epoch"]
    lost = officer.offer([{"table": "person", "id": str(uuid.uuid4()), "version": 3,
                           "updated_hlc": stamp(1), "confirmed": True}], known=epoch)
    assert lost.status_code == 409 and lost.json()["epoch"] != epoch
    forgotten_op = requests.get(f"{base}/pull", headers=headers, timeout=30, params={
        "epoch": lost.json()["epoch"], "last_op": "an-op-this-server-never-saw"})
    assert forgotten_op.status_code == 409
    details = [r["detail"] for r in agency.rows(
        "SELECT detail FROM history_generation ORDER BY id")]
    assert [("beyond" in details[0]), ("never had" in details[1]),
            ("last confirmed op" in details[2])] == [True, True, True]
    assert all(officer.device in d for d in details)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_copies_merge_the_same_in_any_order(agency):
    """Two laptops hold different copies of a follow-up the server holds older: whichever
    comes back first, each field ends with the value of the later stamp."""
    a = Caller(agency, "ofc.a")
    person = {"table": "person", "id": str(uuid.uuid4()), "deleted": False,
              "created_hlc": stamp(0), "updated_hlc": stamp(0), "author": "ofc.a",
              "device": "dev-x", "fields": {"team": TEAM, "kind": "anonymous"}}
    statuses(a.give([person]))

    def follow_up(record_id, at, deleted=False, **fields):
        return {"table": "follow_up", "id": record_id, "deleted": deleted,
                "created_hlc": stamp(0), "updated_hlc": stamp(at), "author": f"author-{at}",
                "device": "dev-x", "fields": {
                    "team": TEAM, "person_id": person["id"], "reason": "post_crisis_check",
                    "due_on": "2026-06-01", "priority": 2, "status": "open", **fields}}

    results = {}
    for order in ("newer first", "older first"):
        rid = str(uuid.uuid4())
        statuses(a.give([follow_up(rid, 1, note="as restored")]))
        newer = follow_up(rid, 5, note="seen at the library", priority=1)
        older = follow_up(rid, 3, note="called", status="done")
        deleted = follow_up(rid, 4, deleted=True, note="called", status="done")
        copies = [newer, deleted, older] if order == "newer first" else [older, deleted, newer]
        for copy in copies:
            statuses(a.give([copy]))
        row = agency.rows("SELECT deleted, data, author FROM record WHERE id = :i", i=rid)[0]
        results[order] = (bool(row["deleted"]), json.loads(row["data"]), row["author"])
    assert results["newer first"] == results["older first"]
    deleted, data, author = results["newer first"]
    assert not deleted and author == "author-5"  # an edit after the delete keeps the record
    assert (data["note"], data["priority"], data["status"]) == ("seen at the library", 1, "open")


# --- resuming a sign-in on a database that went back (POST /refresh with `earlier`) ----------

def refresh(base, token, earlier=None, proposal=None) -> requests.Response:
    body = {"refresh_token": token, "next_refresh_token": proposal or uuid.uuid4().hex * 2}
    if earlier is not None:
        body["earlier"] = earlier
    answer = requests.post(f"{base}/refresh", json=body, timeout=30)
    assert answer.status_code < 500, answer.text
    return answer


def chain(agency, name, rotations):
    """A raw sign-in and its refresh tokens after `rotations` rotations, oldest first."""
    agency.add_user(name)
    base = f"{agency.url}/v1"
    answer = requests.post(f"{base}/login", json={
        "username": name, "password": PASSWORD, "device_id": f"dev-{uuid.uuid4().hex[:12]}"},
        timeout=30)
    tokens = [answer.json()["refresh_token"]]
    for _ in range(rotations):
        rotated = refresh(base, tokens[-1])
        assert rotated.status_code == 200, rotated.text
        tokens.append(rotated.json()["refresh_token"])
    return base, tokens


def test_earlier_tokens_resume_only_from_the_one_current_token(agency):
    base, tokens = chain(agency, "ofc.resume", 3)
    unknown = uuid.uuid4().hex * 2
    plain = refresh(base, unknown)
    assert (plain.status_code, plain.json()["code"]) == (401, "unknown_token")
    # only retired ones (a stolen copy of the history, no current token): refused, and the
    # chain is not revoked by them: they are not presented as the token to use
    for earlier in (tokens[:-1][::-1], [unknown], ["x"], tokens[:1]):
        answer = refresh(base, unknown, earlier)
        assert (answer.status_code, answer.json()["code"]) == (401, "unknown_token"), earlier
    assert refresh(base, tokens[-1], proposal=uuid.uuid4().hex * 2).status_code == 200


def test_earlier_tokens_of_two_sign_ins_are_refused(agency):
    base, mine = chain(agency, "ofc.one", 1)
    _, theirs = chain(agency, "ofc.two", 1)
    answer = refresh(base, uuid.uuid4().hex * 2, [mine[-1], theirs[-1]])
    assert (answer.status_code, answer.json()["code"]) == (401, "unknown_token")


@pytest.mark.parametrize("earlier", [["a b"], [""], ["x" * 201], ["t"] * 1001, "token", [3]])
def test_malformed_earlier_tokens_are_422(agency, earlier):
    base, tokens = chain(agency, "ofc.bad", 0)
    assert refresh(base, tokens[-1], earlier).status_code == 422


def test_a_database_gone_back_resumes_from_the_token_it_knows(agency, tmp_path):
    """A restore takes the token table back: the laptop's newest token is unknown, an older one
    is current there. Offered with the retired ones it resumes, once, and the trail says so."""
    base, tokens = chain(agency, "ofc.back", 4)
    with agency.engine.begin() as conn:  # as the backup had it: tokens[2] current
        from sqlalchemy import text

        from sync.server.accounts import _digest
        for t in tokens[3:]:
            conn.execute(text("DELETE FROM token WHERE token_hash = :h"), {"h": _digest(t)})
        conn.execute(text("UPDATE token SET used_at = NULL, successor_hash = NULL "
                          "WHERE token_hash = :h"), {"h": _digest(tokens[2])})
    earlier = tokens[:-1][::-1]
    resumed = refresh(base, tokens[-1], earlier)
    assert resumed.status_code == 200, resumed.text
    assert requests.get(f"{base}/summary", timeout=30, headers={
        "Authorization": f"Bearer {resumed.json()['access_token']}"}).status_code == 200
    # the token it resumed from is now used: offering the same history again is refused
    again = refresh(base, tokens[-1], earlier)
    assert (again.status_code, again.json()["code"]) == (401, "unknown_token")
    [event] = agency.rows("SELECT actor, detail FROM admin_audit WHERE action = 'token.resumed'")
    assert event["actor"] == "ofc.back" and json.loads(event["detail"])["tokens_offered"] == 4
