"""The rules the server enforces for passwords, recovery secrets and the fleet's reports,
attacked as a stranger would: raw HTTP written from /openapi.json, not the laptop's code.
Every refusal is a 4xx and changes nothing. Also the fleet's health as reported by real
syncs: `devices list` and a supervisor's GET /fleet flag old unsynced work and silent laptops."""

import io
import json
import sys
from datetime import timedelta

import requests

from fieldapp.timeutil import to_iso, utc_now
from sync import engine
from sync.server import agency_settings, cli
from tests.conftest import PASSWORD
from tests.sync.sync_helpers import outreach

NEW = "plum tractor dawn sixty"


def call(agency, method, path, token=None, **kwargs):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.request(method, f"{agency.url}/v1{path}", headers=headers, timeout=60,
                            **kwargs)


def signed_in(agency, user, device="dev-1", **extra):
    answer = call(agency, "POST", "/login", json={"username": user, "password": PASSWORD,
                                                  "device_id": device, **extra})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_routes_are_described_in_openapi(agency):
    paths = requests.get(f"{agency.url}/openapi.json", timeout=30).json()["paths"]
    assert {"/v1/password", "/v1/device/status", "/v1/fleet"} <= set(paths)
    assert "recovery" in json.dumps(paths["/v1/login"]) or "LoginBody" in json.dumps(paths)


def test_a_password_change_needs_a_token_the_current_password_and_the_rules(agency):
    agency.add_user("ofc.a")
    token = signed_in(agency, "ofc.a")["access_token"]
    stored = agency.scalar("SELECT password_hash FROM app_user")
    body = {"password": PASSWORD, "new_password": NEW}
    assert call(agency, "POST", "/password", json=body).status_code == 401
    assert call(agency, "POST", "/password", "forged", json=body).status_code == 401
    wrong = call(agency, "POST", "/password", token, json={**body, "password": "guess one"})
    assert wrong.status_code == 403 and wrong.json()["code"] == "wrong_password"
    for bad in ({**body, "extra": 1}, {"password": PASSWORD}, {**body, "new_password": ""},
                {**body, "new_password": "x" * 2000}, {**body, "password": 5}, [body]):
        answer = call(agency, "POST", "/password", token, json=bad)
        assert 400 <= answer.status_code < 500, (bad, answer.status_code)
    for weak, says in (("short", "at least 12"), ("Password1234", "too easy"),
                       ("iloveyou123456", "too easy"), (PASSWORD, "last")):
        answer = call(agency, "POST", "/password", token, json={**body, "new_password": weak})
        assert answer.status_code == 400 and answer.json()["code"] == "password_rules", weak
        assert says in answer.json()["detail"], (weak, answer.json())
    assert agency.scalar("SELECT password_hash FROM app_user") == stored  # nothing changed
    with agency.engine.begin() as conn:
        agency_settings.set_value(conn, "password_deny_words", json.dumps(["saguaro"]))
    answer = call(agency, "POST", "/password", token,
                  json={**body, "new_password": "Ocotillo Saguaro Mesa"})
    assert answer.status_code == 400 and "'saguaro'" in answer.json()["detail"]
    ok = call(agency, "POST", "/password", token, json=body)
    assert ok.status_code == 200 and ok.json()["changed"] is True
    assert call(agency, "POST", "/login", json={"username": "ofc.a", "password": PASSWORD}
                ).status_code == 401
    # asked again after a lost answer: the same answer, nothing changed twice
    again = call(agency, "POST", "/password", token, json=body)
    assert again.status_code == 200
    assert agency.scalar("SELECT count(*) FROM password_history") == 2


def test_repeated_wrong_current_passwords_are_throttled(agency):
    agency.add_user("ofc.a")
    token = signed_in(agency, "ofc.a")["access_token"]
    codes = [call(agency, "POST", "/password", token, json={
        "password": f"wrong {i}", "new_password": NEW}).json()["code"] for i in range(4)]
    assert "throttled" in codes, codes


def test_the_recovery_secret_goes_only_to_its_own_users_live_device(agency):
    agency.add_user("ofc.a")
    agency.add_user("ofc.b")
    first = signed_in(agency, "ofc.a", "dev-a", recovery=True)
    secret = first["recovery_secret"]
    assert len(secret) >= 43
    assert "recovery_secret" not in signed_in(agency, "ofc.a", "dev-a")  # only when asked
    assert signed_in(agency, "ofc.a", "dev-a", recovery=True)["recovery_secret"] == secret
    # a wrong password, another user on that device, a wrong type: no secret
    wrong = call(agency, "POST", "/login", json={"username": "ofc.a", "password": "nope nope",
                                                 "device_id": "dev-a", "recovery": True})
    assert wrong.status_code == 401 and "recovery_secret" not in wrong.text
    thief = call(agency, "POST", "/login", json={"username": "ofc.b", "password": PASSWORD,
                                                 "device_id": "dev-a", "recovery": True})
    assert 400 <= thief.status_code < 500 and secret not in thief.text
    assert call(agency, "POST", "/login", json={"username": "ofc.a", "password": PASSWORD,
                                                "device_id": "dev-a", "recovery": "yes"}
                ).status_code == 422
    with agency.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE device SET revoked_at = '2026-01-01T00:00:00.000Z' "
                             "WHERE id = 'dev-a'")
    revoked = call(agency, "POST", "/login", json={"username": "ofc.a", "password": PASSWORD,
                                                   "device_id": "dev-a", "recovery": True})
    assert revoked.status_code == 403 and secret not in revoked.text
    released = agency.rows("SELECT actor, device_id FROM admin_audit "
                           "WHERE action = 'device.recovery_secret'")
    assert [(r["actor"], r["device_id"]) for r in released] == [("ofc.a", "dev-a")] * 2


def test_status_reports_are_checked_and_kept_per_device(agency):
    agency.add_user("ofc.a")
    agency.add_user("ofc.b")
    token = signed_in(agency, "ofc.a", "dev-a")["access_token"]
    other = signed_in(agency, "ofc.b", "dev-b")["access_token"]
    good = {"sync": "started", "pending_changes": 3,
            "oldest_pending_at": "2026-05-01T10:00:00.000Z"}
    assert call(agency, "POST", "/device/status", json=good).status_code == 401
    for bad in ({**good, "sync": "maybe"}, {**good, "pending_changes": -1},
                {**good, "pending_changes": 2**60}, {**good, "oldest_pending_at": "yesterday"},
                {**good, "oldest_pending_at": "2026-13-45T99:00:00Z"}, {**good, "device": "dev-b"},
                {**good, "check": "<script>"}):
        answer = call(agency, "POST", "/device/status", token, json=bad)
        assert 400 <= answer.status_code < 500, (bad, answer.status_code, answer.text)
    assert call(agency, "POST", "/device/status", token, json=good).status_code == 200
    rows = {r["id"]: r for r in agency.rows("SELECT id, pending_changes FROM device")}
    assert rows["dev-a"]["pending_changes"] == 3 and rows["dev-b"]["pending_changes"] is None
    # only a supervisor (or an admin) sees the fleet, and only their teams'
    assert call(agency, "GET", "/fleet", other).status_code == 403
    agency.add_user("sgt.x", "supervisor", ("mhst-9",))
    elsewhere = signed_in(agency, "sgt.x", "dev-s")["access_token"]
    assert call(agency, "GET", "/fleet", elsewhere).json()["devices"] == [
        d for d in call(agency, "GET", "/fleet", elsewhere).json()["devices"]
        if d["user"] == "sgt.x"]


def test_devices_list_and_the_review_fleet_flag_old_unsynced_work_and_silent_laptops(
        agency, laptop, capsys, monkeypatch):
    officer = laptop("ofc.ramirez")
    quiet = laptop("ofc.quiet")
    sergeant = laptop("sgt.morales", "supervisor")
    engine.run_sync(quiet)
    outreach(officer, 2)
    old = to_iso(utc_now() - timedelta(hours=13))
    officer.db.execute("UPDATE outbox SET created_at = ?", [old])
    officer.db.conn.commit()
    real_post = requests.Session.request

    class PushFails(requests.Session):  # the push is refused, the reports go through
        def request(self, method, url, *args, **kwargs):
            if url.endswith("/v1/push"):
                raise requests.ConnectionError("the cell signal dropped")
            return real_post(self, method, url, *args, **kwargs)

    try:
        engine.run_sync(officer, http=PushFails(), max_attempts=1)
    except requests.ConnectionError:
        pass
    with agency.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE device SET last_seen_at = '2026-01-01T00:00:00.000Z' "
                             f"WHERE id = '{quiet.device_id}'")
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    capsys.readouterr()
    assert cli.main(["--db", agency.db_url, "devices", "list", "--json"]) == 0
    listed = {d["device_id"]: d for d in map(json.loads, capsys.readouterr().out.splitlines())}
    mine = listed[officer.device_id]
    assert mine["pending_changes"] == 2 and mine["flags"] == ["unsynced"]
    assert 12.9 <= mine["oldest_pending_hours"] <= 13.2 and mine["app_version"]
    assert listed[quiet.device_id]["flags"] == ["silent"]
    assert listed[quiet.device_id]["last_good_sync_at"]
    assert listed[sergeant.device_id]["flags"] == []
    assert cli.main(["--db", agency.db_url, "devices", "list", "--flagged"]) == 0
    text = capsys.readouterr().out
    assert "unsynced work older than 12 h" in text and "not heard from for 3 days" in text
    assert sergeant.device_id not in text
    assert cli.main(["--db", agency.db_url, "devices", "list", "--user", "ofc.ramirez",
                     "--json"]) == 0
    assert [json.loads(x)["device_id"] for x in capsys.readouterr().out.splitlines()] == [
        officer.device_id]
    from sync.fleet import pull_fleet
    seen = {d["device_id"]: d["flags"] for d in pull_fleet(sergeant)["devices"]}
    assert seen[officer.device_id] == ["unsynced"] and seen[quiet.device_id] == ["silent"]
    engine.run_sync(officer)  # the work goes out: the flag clears
    assert {d["device_id"]: d["flags"] for d in pull_fleet(sergeant)["devices"]}[
        officer.device_id] == []
    assert "devices.listed" in [r["action"] for r in agency.rows("SELECT action FROM admin_audit")]
