"""Offline sign-in: the banner, lockout after five failures in 15 minutes, and the audit trail."""

from datetime import timedelta

import pytest

from fieldapp import signin
from fieldapp.errors import TandemError, WrongPassword
from tests.conftest import PASSWORD, make_session


@pytest.fixture
def cache(data_dir):
    make_session(data_dir).close()
    return data_dir


def _fail(data_dir, when):
    with pytest.raises(WrongPassword):
        signin.sign_in(data_dir, "ofc.ramirez", "guess", banner_acknowledged=True, now=when)


def test_banner_must_be_acknowledged(cache):
    with pytest.raises(TandemError, match="banner"):
        signin.sign_in(cache, "ofc.ramirez", PASSWORD, banner_acknowledged=False)


def test_five_failures_in_fifteen_minutes_lock_until_online(cache, t0):
    for i in range(5):
        _fail(cache, t0 + timedelta(minutes=2 * i))
    assert signin.is_locked(cache, "ofc.ramirez")
    with pytest.raises(signin.AccountLocked, match="sign in online"):
        signin.sign_in(cache, "ofc.ramirez", PASSWORD, banner_acknowledged=True,
                       now=t0 + timedelta(hours=3))


def test_failures_spread_out_do_not_lock_and_are_audited(cache, t0):
    for i in range(5):
        _fail(cache, t0 + timedelta(minutes=4 * i))
    assert not signin.is_locked(cache, "ofc.ramirez")
    s = signin.sign_in(cache, "ofc.ramirez", PASSWORD, banner_acknowledged=True,
                       now=t0 + timedelta(minutes=30))
    outcomes = [r["outcome"] for r in s.db.query(
        "SELECT outcome FROM audit_event WHERE action = 'sign_in' ORDER BY at")]
    assert outcomes == ["failure"] * 5 + ["success"]
    assert s.db.execute("SELECT count(*) FROM outbox WHERE table_name = 'audit_event'").fetchone()[0] == 6
    s.close()
    again = signin.sign_in(cache, "ofc.ramirez", PASSWORD, banner_acknowledged=True,
                           now=t0 + timedelta(minutes=31))
    assert again.db.execute("SELECT count(*) FROM audit_event WHERE action = 'sign_in'").fetchone()[0] == 7
    again.close()


def test_online_sign_in_lifts_the_lock(cache, t0):
    from fieldapp.session import unlock
    for i in range(5):
        _fail(cache, t0 + timedelta(minutes=i))
    session = unlock(cache, "ofc.ramirez", PASSWORD)  # what the online path does after the server agrees
    signin.clear_lock_after_online_sign_in(session)
    session.close()
    assert not signin.is_locked(cache, "ofc.ramirez")
    signin.sign_in(cache, "ofc.ramirez", PASSWORD, banner_acknowledged=True).close()


def test_attempts_file_holds_no_secret(cache, t0):
    _fail(cache, t0)
    text = (cache / "users" / "ofc.ramirez" / "signin-attempts.json").read_text()
    assert "guess" not in text and PASSWORD not in text


def test_attempts_file_is_private_and_one_cut_short_never_stops_a_sign_in(cache, t0):
    _fail(cache, t0)
    path = cache / "users" / "ofc.ramirez" / "signin-attempts.json"
    assert path.stat().st_mode & 0o777 == 0o600
    path.write_text('{"locked": false, "attem')  # as a dead battery left an unsynced write
    signin.sign_in(cache, "ofc.ramirez", PASSWORD, banner_acknowledged=True).close()
