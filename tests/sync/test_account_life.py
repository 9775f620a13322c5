"""Accounts over their whole life, as the agency's IT runs them, through the real server over
HTTP (SQLite and PostgreSQL): `tandem-server users ...` and `devices list`, each audited, each
refusing bad arguments with a clear message, a non-zero exit and nothing changed; the reset
story end to end (unsynced work on a laptop, a reset, the next online sign-in opens the copy
and the work arrives; a revoked laptop gets no key and wipes); the user's own password change
from the laptop, online only."""

import io
import json
import sys

import pytest
import requests

from fieldapp import keys, paths, recovery, signin
from fieldapp.errors import WrongPassword
from sync import engine, online
from sync.server import cli
from sync.transport import DeviceRevoked, SyncFailed
from tests.conftest import PASSWORD
from tests.sync.sync_helpers import outreach

NEW = "plum tractor dawn sixty"  # passes the agency's rules
NEWER = "violet harbour kettle noon"


def run(agency, capsys, monkeypatch, *args, stdin=""):
    """`tandem-server --db … args` in this process: (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    capsys.readouterr()
    code = cli.main(["--db", agency.db_url, *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def jsonl(text):
    return [json.loads(line) for line in text.splitlines()]


def audit_actions(agency):
    return [r["action"] for r in agency.rows("SELECT action FROM admin_audit ORDER BY id")]


def test_users_commands_list_show_change_and_refuse(agency, laptop, capsys, monkeypatch):
    officer = laptop("ofc.ramirez")
    agency.add_user("sgt.morales", "supervisor", ("mhst-1", "mhst-2"))
    code, out, _ = run(agency, capsys, monkeypatch, "users", "list", "--json")
    users = {u["username"]: u for u in jsonl(out)}
    assert code == 0 and set(users) == {"ofc.ramirez", "sgt.morales"}
    assert users["ofc.ramirez"]["devices"] == 1 and users["ofc.ramirez"]["last_contact_at"]
    assert users["sgt.morales"]["teams"] == ["mhst-1", "mhst-2"]
    code, out, err = run(agency, capsys, monkeypatch, "users", "list")
    assert code == 0 and "ofc.ramirez" in out and "2 user(s)" in err
    code, out, _ = run(agency, capsys, monkeypatch, "users", "show", "ofc.ramirez", "--json")
    shown = json.loads(out)
    assert shown["devices"][0]["device_id"] == officer.device_id and shown["role"] == "officer"

    assert run(agency, capsys, monkeypatch, "users", "set-role", "ofc.ramirez", "peer")[0] == 0
    assert run(agency, capsys, monkeypatch, "users", "set-teams", "ofc.ramirez", "outreach-1",
               "mhst-1", "--json")[0] == 0
    row = agency.rows("SELECT role, teams FROM app_user WHERE username = 'ofc.ramirez'")[0]
    assert row["role"] == "peer" and json.loads(row["teams"]) == ["outreach-1", "mhst-1"]
    engine.run_sync(officer)  # the laptop takes its new scope at its next sync
    assert officer.db.execute("SELECT role FROM profile").fetchone()[0] == "peer"

    before = agency.rows("SELECT username, role, teams, disabled, password_hash FROM app_user "
                         "ORDER BY username")
    events = len(audit_actions(agency))
    refused = [
        (("users", "show", "nobody"), "no user 'nobody'"),
        (("users", "set-role", "nobody", "officer"), "no user 'nobody'"),
        (("users", "set-teams", "ofc.ramirez", "mhst-1", "mhst-1"), "named twice"),
        (("users", "set-teams", "ofc.ramirez", "x" * 65), "1–64 characters"),
        (("users", "disable", "nobody"), "no user 'nobody'"),
        (("users", "enable", "nobody"), "no user 'nobody'"),
    ]
    for args, message in refused:
        code, out, err = run(agency, capsys, monkeypatch, *args)
        assert code == 2 and message in err and out == "", args
    for args in (("users", "set-role", "ofc.ramirez", "mayor"), ("users", "frobnicate"),
                 ("users", "set-teams", "ofc.ramirez"), ("devices", "list", "--bogus")):
        with pytest.raises(SystemExit) as exited:
            run(agency, capsys, monkeypatch, *args)
        assert exited.value.code == 2
    for password, message in (("short one", "at least 12 characters"),
                              ("ramirez1234567", "too easy to guess"),
                              ("password12345678", "too easy to guess"),
                              (PASSWORD, "one of the last")):
        code, _, err = run(agency, capsys, monkeypatch, "users", "reset-password",
                           "ofc.ramirez", stdin=password + "\n")
        assert code == 2 and message in err, (password, err)
    assert agency.rows("SELECT username, role, teams, disabled, password_hash FROM app_user "
                       "ORDER BY username") == before
    assert len(audit_actions(agency)) == events  # a refused command leaves no event either
    assert {"users.listed", "user.shown", "user.scope_changed"} <= set(audit_actions(agency))


def test_disabling_someone_stops_their_laptop_and_keeps_its_work(
        agency, laptop, capsys, monkeypatch):
    officer = laptop("ofc.ramirez")
    outreach(officer, 2)
    code, out, _ = run(agency, capsys, monkeypatch, "users", "disable", "ofc.ramirez", "--json")
    assert code == 0 and json.loads(out)["revoked_tokens"] >= 1
    with pytest.raises(SyncFailed):
        engine.run_sync(officer)
    assert officer.db.execute("SELECT count(*) FROM outbox WHERE state = 'pending'"
                              ).fetchone()[0] == 2  # kept, not wiped
    with pytest.raises(SyncFailed) as refused:  # and cannot sign in again while disabled
        online.login(officer.data_dir, agency.url, "ofc.ramirez", PASSWORD)
    assert refused.value.code == "unauthorized"
    code, out, _ = run(agency, capsys, monkeypatch, "users", "disable", "ofc.ramirez")
    assert code == 0 and "already disabled" in out
    code, out, _ = run(agency, capsys, monkeypatch, "users", "enable", "ofc.ramirez")
    assert code == 0 and "is enabled" in out
    officer.close()
    again = online.login(officer.data_dir, agency.url, "ofc.ramirez", PASSWORD)
    assert engine.run_sync(again)["pushed"] == 2
    again.close()
    assert agency.scalar("SELECT count(*) FROM record WHERE table_name = 'outreach_contact'"
                         ) == 2
    assert {"user.disabled", "user.enabled"} <= set(audit_actions(agency))


def test_a_reset_password_opens_the_laptop_copy_at_the_next_online_sign_in(
        agency, laptop, capsys, monkeypatch):
    officer = laptop("ofc.ramirez")
    data_dir, device_id = officer.data_dir, officer.device_id
    stored = keys.KeyStore(paths.cache_path(data_dir, "ofc.ramirez")).load()
    assert recovery.device_of(stored) == device_id  # sealed for the server at sign-in
    assert "recovery_secret" not in json.dumps(stored) and \
        agency.scalar("SELECT recovery_secret FROM device") not in json.dumps(stored)
    outreach(officer, 3, note="typed before the reset")
    officer.close()
    code, out, _ = run(agency, capsys, monkeypatch, "users", "reset-password", "ofc.ramirez",
                       "--json", stdin=NEW + "\n")
    assert code == 0 and json.loads(out)["revoked_tokens"] >= 1
    with pytest.raises(WrongPassword):  # the new password alone, offline, opens nothing
        signin.sign_in(data_dir, "ofc.ramirez", NEW, banner_acknowledged=True)
    with pytest.raises(SyncFailed):  # nor does the old one at the server
        online.login(data_dir, agency.url, "ofc.ramirez", PASSWORD)
    session = online.login(data_dir, None, "ofc.ramirez", NEW)  # the server it knows
    assert session.device_id == device_id
    assert engine.run_sync(session)["pushed"] == 4  # and the laptop's audit event of it
    session.close()
    notes = {json.loads(r["data"])["note"] for r in agency.rows(
        "SELECT data FROM record WHERE table_name = 'outreach_contact'")}
    assert notes == {f"typed before the reset {i}" for i in range(3)}
    assert agency.scalar("SELECT count(*) FROM record WHERE table_name = 'audit_event' AND "
                         "data LIKE '%key_recovered%'") == 1
    # from now on the new password opens the copy offline, and the old one does not
    signin.sign_in(data_dir, "ofc.ramirez", NEW, banner_acknowledged=True).close()
    with pytest.raises(WrongPassword):
        signin.sign_in(data_dir, "ofc.ramirez", PASSWORD, banner_acknowledged=True)
    releases = agency.rows("SELECT device_id, detail FROM admin_audit "
                           "WHERE action = 'device.recovery_secret'")
    assert releases and {r["device_id"] for r in releases} == {device_id}
    assert "user.password_reset" in audit_actions(agency)


def test_a_revoked_laptop_gets_no_key_after_a_reset_and_wipes(
        agency, laptop, capsys, monkeypatch):
    officer = laptop("ofc.ramirez")
    data_dir, device_id = officer.data_dir, officer.device_id
    outreach(officer, 1)
    officer.close()
    assert run(agency, capsys, monkeypatch, "users", "reset-password", "ofc.ramirez",
               stdin=NEW + "\n")[0] == 0
    assert run(agency, capsys, monkeypatch, "revoke-device", device_id)[0] == 0
    with pytest.raises(DeviceRevoked):
        online.login(data_dir, agency.url, "ofc.ramirez", NEW)
    assert not paths.cache_path(data_dir, "ofc.ramirez").exists()
    assert not paths.cache_path(data_dir, "ofc.ramirez").with_name("key.json").exists()
    assert agency.scalar("SELECT count(*) FROM admin_audit WHERE action = "
                         "'device.recovery_secret' AND device_id = :d", d=device_id) == 1


def test_the_user_changes_their_password_online_only(agency, laptop, tmp_path):
    officer = laptop("ofc.ramirez")
    other = online.login(tmp_path / "second-laptop", agency.url, "ofc.ramirez", PASSWORD)
    outreach(other, 1, note="on the second laptop")
    other.close()
    with pytest.raises(SyncFailed) as weak:
        online.change_password(officer, PASSWORD, "Ramirez-2026")
    assert weak.value.code == "password_rules" and "too easy to guess" in str(weak.value)
    with pytest.raises(WrongPassword):
        online.change_password(officer, "not my password", NEW)
    online.change_password(officer, PASSWORD, NEW)
    engine.run_sync(officer)  # this sign-in's tokens were kept
    officer.close()
    signin.sign_in(officer.data_dir, "ofc.ramirez", NEW, banner_acknowledged=True).close()
    # the second laptop's sign-in was revoked; the new password opens its copy online
    second = online.login(tmp_path / "second-laptop", agency.url, "ofc.ramirez", NEW)
    assert engine.run_sync(second)["pushed"] == 2  # the work and the key_recovered event
    second.close()
    offline = online.login(officer.data_dir, agency.url, "ofc.ramirez", NEW)
    agency.running.stop()  # the server is gone: nothing changes
    with pytest.raises(online.Offline, match="cannot reach"):
        online.change_password(offline, NEW, NEWER)
    offline.close()
    signin.sign_in(officer.data_dir, "ofc.ramirez", NEW, banner_acknowledged=True).close()
    agency.restart()
