"""Sign-in with a real agency server: the first sign-in is online, later ones (and unlocks) work
offline with the same password; refresh and access tokens live in the keyring or inside the
encrypted cache, never in a plain file or a log. Each test runs with and without a keyring."""

import logging

import pytest
import requests
from sqlalchemy import text

from fieldapp import lock, paths, signin
from fieldapp.errors import NoCache, TandemError, WrongPassword
from sync import credentials, engine, online, transport
from tests.conftest import PASSWORD
from tests.sync.conftest import Agency
from ui.signin import sign_in as ui_sign_in

USER = "ofc.ramirez"


class RecordingHttp(requests.Session):
    """A real requests session that remembers every bearer token and refresh token it sent."""

    def __init__(self):
        super().__init__()
        self.secrets: set[str] = set()

    def request(self, method, url, *args, headers=None, data=None, **kwargs):
        bearer = (headers or {}).get("Authorization", "")
        if bearer.startswith("Bearer "):
            self.secrets.add(bearer.split(" ", 1)[1])
        response = super().request(method, url, *args, headers=headers, data=data, **kwargs)
        if response.ok and url.endswith(("/login", "/refresh")):
            body = response.json()
            self.secrets.update(v for k, v in body.items() if k.endswith("_token"))
        return response


@pytest.fixture(params=["keyring", "no keyring"])
def keyring_kind(request):
    if request.param == "keyring":
        return request.getfixturevalue("memory_keyring")
    return None


@pytest.fixture
def agency(tmp_path):
    server = Agency(f"sqlite:///{tmp_path / 'server' / 'agency.db'}")
    server.add_user(USER)
    yield server
    server.stop()


def every_file_under(root):
    return [p for p in root.rglob("*") if p.is_file()]


def test_tokens_never_in_a_plain_file_or_log(agency, data_dir, keyring_kind, caplog, capfd):
    caplog.set_level(logging.DEBUG)  # requests, urllib3, uvicorn, ours: everything
    http = RecordingHttp()
    session = online.login(data_dir, agency.url, USER, PASSWORD, http=http)
    engine.run_sync(session, http=http)
    engine.run_sync(session, http=http)
    refresh = credentials.load_refresh_token(session)
    assert refresh in http.secrets and len(http.secrets) >= 2  # the refresh and an access token
    if keyring_kind is not None:
        assert refresh in keyring_kind.entries.values()
        assert session.db.execute("SELECT count(*) FROM sync_credential").fetchone()[0] == 0
    else:
        assert session.db.execute("SELECT refresh_token FROM sync_credential").fetchone()[0] == refresh
    session.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    session.close()
    out, err = capfd.readouterr()
    logged = caplog.text + out + err
    files = every_file_under(data_dir)
    assert any(p.name == "cache.db" for p in files)
    for secret in http.secrets:
        assert secret not in logged
        for p in files:
            assert secret.encode() not in p.read_bytes(), p


def test_first_sign_in_is_online_then_offline_with_the_same_password(
        agency, data_dir, keyring_kind):
    with pytest.raises(NoCache, match="sign in online first"):
        signin.sign_in(data_dir, USER, PASSWORD, banner_acknowledged=True)
    with pytest.raises(TandemError, match="banner"):
        ui_sign_in(None, data_dir, USER, PASSWORD, agency.url, False)
    ui_sign_in(None, data_dir, USER, PASSWORD, agency.url, True)
    agency.stop()  # the server is gone: the car is out of coverage
    session = signin.sign_in(data_dir, USER, PASSWORD, banner_acknowledged=True)
    lock.record_lock(session, "on demand")
    lock.unlock(session, PASSWORD)
    with pytest.raises(WrongPassword):
        lock.unlock(session, "another password")
    outcomes = [(r["action"], r["outcome"]) for r in session.db.query(
        "SELECT action, outcome FROM audit_event ORDER BY at, created_hlc")]
    assert outcomes == [("sign_in", "success"), ("sign_in", "success"), ("lock", "success"),
                        ("unlock", "success"), ("unlock", "failure")]
    session.close()


def test_failed_online_sign_ins_count_and_an_online_sign_in_lifts_the_lock(agency, data_dir):
    ui_sign_in(None, data_dir, USER, PASSWORD, agency.url, True)
    agency.running.stop()  # in a dead zone: the laptop alone counts the wrong passwords (online,
    for _ in range(signin.MAX_FAILURES):  # the server's own throttle answers first)
        with pytest.raises(WrongPassword):
            ui_sign_in(None, data_dir, USER, "guess", "", True)
    assert signin.is_locked(data_dir, USER)
    with pytest.raises(signin.AccountLocked):
        signin.sign_in(data_dir, USER, PASSWORD, banner_acknowledged=True)
    agency.restart()  # back in range: an online sign-in lifts the lock
    session = ui_sign_in(None, data_dir, USER, PASSWORD, agency.url, True)
    assert not signin.is_locked(data_dir, USER)
    session = session.reopen()
    outcomes = [r["outcome"] for r in session.db.query(
        "SELECT outcome FROM audit_event WHERE action = 'sign_in' ORDER BY at, created_hlc")]
    assert outcomes == ["success"] + ["failure"] * 5 + ["denied", "success"]
    session.close()


def test_a_sign_in_the_server_refuses_counts_as_a_failure(agency, data_dir):
    with pytest.raises(transport.SyncFailed):
        ui_sign_in(None, data_dir, USER, "wrong at the server", agency.url, True)
    assert not paths.user_dir(data_dir, USER).exists()  # nothing made for a refused first sign-in
    ui_sign_in(None, data_dir, USER, PASSWORD, agency.url, True)
    with agency.engine.begin() as conn:  # the agency disables the account
        conn.execute(text("UPDATE app_user SET disabled = true WHERE username = :u"), {"u": USER})
    with pytest.raises(transport.SyncFailed) as refused:
        ui_sign_in(None, data_dir, USER, PASSWORD, agency.url, True)
    assert refused.value.code == "unauthorized"
    assert signin.failures_left(data_dir, USER) == signin.MAX_FAILURES - 1
    session = signin.sign_in(data_dir, USER, PASSWORD, banner_acknowledged=True)
    outcomes = [r["outcome"] for r in session.db.query(
        "SELECT outcome FROM audit_event WHERE action = 'sign_in' ORDER BY at, created_hlc")]
    assert outcomes == ["success", "failure", "success"]
    session.close()
