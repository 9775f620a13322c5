"""The second factor at online sign-in, with a real TOTP generator (pyotp reading the QR code's
otpauth URI, as an authenticator app does): enrolment by the user and by an administrator,
codes that work once, one-time recovery codes, an administrator's reset; the offline unlock
window after the last online sign-in, on the laptop and at the server. SQLite and PostgreSQL."""

import io
import json
import sys
import time
from datetime import timedelta

import pyotp
import pytest
import requests

from fieldapp import drafts, lock, reauth, signin
from fieldapp.timeutil import to_iso, utc_now
from sync import commands, engine, online
from sync.server import agency_settings, cli
from sync.transport import SyncFailed
from tests.conftest import PASSWORD

USER = "ofc.ramirez"


def post(agency, path, body):
    return requests.post(f"{agency.url}/v1{path}", json=body, timeout=60)


@pytest.fixture
def required(agency):
    with agency.engine.begin() as conn:
        agency_settings.set_value(conn, "two_factor", "required")
    agency.add_user(USER)
    return agency


def test_a_user_enrols_an_app_and_each_code_works_once(required):
    agency = required
    login = {"username": USER, "password": PASSWORD, "device_id": "dev-1"}
    assert post(agency, "/login", login).json()["code"] == "enrolment_required"
    assert post(agency, "/two-factor/enrol", {"username": USER, "password": "nope"}
                ).status_code == 401
    started = post(agency, "/two-factor/enrol", {"username": USER, "password": PASSWORD}).json()
    assert started["uri"].startswith("otpauth://totp/Tandem:ofc.ramirez?")
    app = pyotp.parse_uri(started["uri"])  # the authenticator app scanning the QR code
    assert app.secret == started["secret"]
    code = app.now()
    first = post(agency, "/login", {**login, "code": code})
    assert first.status_code == 200, first.text
    codes = first.json()["recovery_codes"]
    assert len(codes) == len(set(codes)) == 10 and first.json()["refresh_token"]
    # the same code again (a replay), no code, a wrong code
    assert post(agency, "/login", {**login, "code": code}).json()["code"] == \
        "second_factor_wrong"
    time.sleep(1.1)  # the failure's back-off
    assert post(agency, "/login", login).json()["code"] == "second_factor_required"
    # the next 30-second step's code (a phone a little ahead) works, once
    assert post(agency, "/login", {**login, "code": app.at(time.time() + 30)}).status_code == 200
    # a recovery code works once, in place of the app
    assert post(agency, "/login", {**login, "code": codes[0].upper()}).status_code == 200
    assert post(agency, "/login", {**login, "code": codes[0]}).json()["code"] == \
        "second_factor_wrong"
    # an enrolled user cannot enrol again: only an administrator resets it
    again = post(agency, "/two-factor/enrol", {"username": USER, "password": PASSWORD})
    assert again.status_code == 409 and "tandem-server two-factor reset" in again.json()["detail"]
    audit = [(r["action"], json.loads(r["detail"]).get("second_factor")) for r in agency.rows(
        "SELECT action, detail FROM admin_audit WHERE actor = :u AND outcome = 'success' "
        "ORDER BY id", u=USER)]
    assert ("two_factor.enrolled", None) in audit
    assert [via for action, via in audit if action == "signin"] == [
        "authenticator", "authenticator", "recovery code"]
    assert "secret" not in json.dumps([dict(r) for r in agency.rows("SELECT * FROM admin_audit")])


def test_an_administrator_enrols_lists_and_resets_at_the_console(required, monkeypatch, capsys):
    agency = required

    class CodeOnStdin(io.StringIO):  # the user reads the code off their phone and types it
        def readline(self):
            secret = agency.scalar("SELECT secret FROM two_factor")
            return pyotp.TOTP(secret).now() + "\n"

    monkeypatch.setattr(sys, "stdin", CodeOnStdin())
    assert cli.main(["--db", agency.db_url, "two-factor", "enrol", USER]) == 0
    out = capsys.readouterr().out
    secret = agency.scalar("SELECT secret FROM two_factor")
    assert secret in out and ("█" in out or "▀" in out)  # the key, and the QR code drawn
    codes = [line.strip() for line in out.splitlines() if line.startswith("  ")]
    assert len(codes) == 10
    assert cli.main(["--db", agency.db_url, "two-factor", "list"]) == 0
    assert f"{USER}: enrolled, 10 recovery codes left" in capsys.readouterr().out
    login = {"username": USER, "password": PASSWORD, "device_id": "dev-2"}
    assert post(agency, "/login", {**login, "code": codes[3]}).status_code == 200
    assert cli.main(["--db", agency.db_url, "two-factor", "reset", USER]) == 0
    assert post(agency, "/login", {**login, "code": codes[4]}).json()["code"] == \
        "enrolment_required"
    actions = [r["action"] for r in agency.rows(
        "SELECT action FROM admin_audit WHERE action LIKE 'two_factor.%' ORDER BY id")]
    assert actions == ["two_factor.enrolled", "two_factor.reset"]


def test_the_laptop_signs_in_with_its_code_and_past_the_window_asks_for_it_again(
        required, data_dir, monkeypatch, capsys):
    agency = required
    with agency.engine.begin() as conn:
        agency_settings.set_value(conn, "offline_unlock_hours", "2")
    # `tandem login`: the password, then (asked) the app's first code after the QR code
    app = {}

    class Stdin(io.StringIO):
        def readline(self):
            if not app:
                return PASSWORD + "\n"
            return app["totp"].now() + "\n"

    real_enrol = online.start_enrolment

    def enrol(*args, **kw):
        started = real_enrol(*args, **kw)
        app["totp"] = pyotp.parse_uri(started["uri"])
        return started

    monkeypatch.setattr(online, "start_enrolment", enrol)
    monkeypatch.setattr(sys, "stdin", Stdin())
    assert commands.login(data_dir, agency.url, USER) == 0
    err = capsys.readouterr().err
    assert "recovery codes" in err and len([x for x in err.splitlines() if x.startswith("  ")
                                            and "-" in x]) == 10
    # later sign-ins: offline within the window, then only online with a code
    session = signin.sign_in(data_dir, USER, PASSWORD, banner_acknowledged=True)
    engine.run_sync(session)  # brings the agency's 2-hour window to this laptop
    drafts.save_draft(session, "encounter:new", "encounter", {"police_note": "half written"})
    later = utc_now() + timedelta(hours=3)
    with pytest.raises(reauth.OnlineSignInRequired, match="over 2 hours ago"):
        lock.unlock(session, PASSWORD, now=later)
    session.close()
    with pytest.raises(reauth.OnlineSignInRequired):
        signin.sign_in(data_dir, USER, PASSWORD, banner_acknowledged=True, now=later)
    # the server holds the same line: its sign-in is over the window, so refresh stops too
    with agency.engine.begin() as conn:  # (the sign-in moved back three hours)
        conn.exec_driver_sql("UPDATE token SET signed_in_at = %s" if conn.dialect.name ==
                             "postgresql" else "UPDATE token SET signed_in_at = ?",
                             (to_iso(utc_now() - timedelta(hours=3)),))
        conn.exec_driver_sql("UPDATE token SET revoked_at = '2000-01-01' WHERE kind = 'access'")
    session = online.login(data_dir, None, USER, PASSWORD, code=app["totp"].at(
        time.time() + 30))  # online again, with the app's code: the server's address is known
    assert drafts.load_draft(session, "encounter:new")["police_note"] == "half written"
    reauth.check(session)  # the window starts again
    assert engine.run_sync(session)["check"] == "ok"
    with agency.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE token SET signed_in_at = %s" if conn.dialect.name ==
                             "postgresql" else "UPDATE token SET signed_in_at = ?",
                             (to_iso(utc_now() - timedelta(hours=3)),))
        conn.exec_driver_sql("UPDATE token SET revoked_at = '2000-01-01' WHERE kind = 'access'")
    with pytest.raises(SyncFailed) as refused:
        engine.run_sync(session)
    assert refused.value.code == "signin_expired"
    session.close()
