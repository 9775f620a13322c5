"""Session lock, Qt-free: the idle setting's limits, unlocking with the password (offline), the
5-in-15 lockout shared with sign-in, forgetting the keys at sign-out, and the audit trail."""

from datetime import timedelta

import pytest
import sqlcipher3

from fieldapp import lock, reauth, signin
from fieldapp.errors import ValidationError, WrongPassword
from fieldapp.session import unlock as open_session
from tests.conftest import PASSWORD, make_session


def audit_rows(session, action):
    return [r["outcome"] for r in session.db.query(
        "SELECT outcome FROM audit_event WHERE action = ? ORDER BY at, created_hlc", [action])]


def test_idle_minutes_default_and_limits(officer):
    assert lock.idle_minutes(officer) == 10
    lock.set_idle_minutes(officer, 30)
    assert lock.idle_minutes(officer) == 30
    for bad in (31, 0, 600, "5", 2.5, True):
        with pytest.raises(ValidationError) as caught:
            lock.set_idle_minutes(officer, bad)
        assert caught.value.problems == {
            "lock_after_minutes": "must be a whole number from 1 to 30"}
    assert lock.idle_minutes(officer) == 30


def test_lock_and_unlock_are_audited(officer):
    lock.record_lock(officer, "on demand")
    lock.unlock(officer, PASSWORD)
    assert audit_rows(officer, "lock") == ["success"]
    assert audit_rows(officer, "unlock") == ["success"]
    detail = officer.db.execute("SELECT detail FROM audit_event WHERE action = 'lock'").fetchone()[0]
    assert detail == "on demand"
    # audit events sync: each has its outbox op
    assert officer.db.execute("SELECT count(*) FROM outbox WHERE table_name = 'audit_event'"
                              ).fetchone()[0] == 2


def test_wrong_password_keeps_it_locked_and_says_how_many_tries_are_left(officer, t0):
    with pytest.raises(WrongPassword, match="4 more wrong tries lock"):
        lock.unlock(officer, "not it", now=t0)
    with pytest.raises(WrongPassword, match="3 more"):
        lock.unlock(officer, PASSWORD.upper(), now=t0)
    assert audit_rows(officer, "unlock") == ["failure", "failure"]
    lock.unlock(officer, PASSWORD, now=t0)
    assert audit_rows(officer, "unlock") == ["failure", "failure", "success"]
    assert signin.failures_left(officer.data_dir, officer.username, t0) == 5


def test_five_wrong_unlocks_lock_the_account_until_online_sign_in(officer, data_dir, t0):
    for i in range(4):
        with pytest.raises(WrongPassword):
            lock.unlock(officer, f"guess {i}", now=t0 + timedelta(minutes=i))
    with pytest.raises(signin.AccountLocked, match="sign in online"):
        lock.unlock(officer, "guess 5", now=t0 + timedelta(minutes=5))
    assert signin.is_locked(data_dir, officer.username)
    # now even the right password is refused, on the lock screen and at sign-in
    with pytest.raises(signin.AccountLocked):
        lock.unlock(officer, PASSWORD, now=t0 + timedelta(minutes=6))
    with pytest.raises(signin.AccountLocked):
        signin.sign_in(data_dir, officer.username, PASSWORD, banner_acknowledged=True)
    assert audit_rows(officer, "unlock") == ["failure"] * 5 + ["denied"]
    officer.close()
    # the online path, once the server has agreed to the password
    again = open_session(data_dir, "ofc.ramirez", PASSWORD)
    signin.clear_lock_after_online_sign_in(again)
    assert not signin.is_locked(data_dir, "ofc.ramirez")
    # each attempt audited exactly once: unlock failures were written when they happened
    assert audit_rows(again, "unlock") == ["failure"] * 5 + ["denied"]
    assert audit_rows(again, "sign_in") == ["denied", "success"]
    again.close()


def test_a_clock_set_back_does_not_stretch_the_offline_window(officer, data_dir, t0):
    """The password alone opens the cache for 12 hours after an online sign-in, read on the
    laptop's clock. Set back a year, that clock would give a year: it asks for an online
    sign-in instead, and the window counts from the latest time the clock showed."""
    lock.unlock(officer, PASSWORD, now=t0 + timedelta(hours=11))
    with pytest.raises(reauth.OnlineSignInRequired, match="set back"):
        lock.unlock(officer, PASSWORD, now=t0 - timedelta(days=365))
    with pytest.raises(reauth.OnlineSignInRequired, match="set back"):
        signin.sign_in(data_dir, officer.username, PASSWORD, banner_acknowledged=True,
                       now=t0 + timedelta(hours=10))
    assert "denied" in audit_rows(officer, "unlock")
    lock.unlock(officer, PASSWORD, now=t0 + timedelta(hours=10, minutes=55))  # a correction
    with pytest.raises(reauth.OnlineSignInRequired, match="over 12 hours"):
        lock.unlock(officer, PASSWORD, now=t0 + timedelta(hours=12, minutes=5))
    # an online sign-in starts again from the clock as it then reads, even one set back
    reauth.record_online_sign_in(officer, now=t0 - timedelta(days=365))
    lock.unlock(officer, PASSWORD, now=t0 - timedelta(days=365) + timedelta(minutes=1))


def test_unlock_and_sign_in_failures_count_together(officer, data_dir, t0):
    for i in range(3):
        with pytest.raises(WrongPassword):
            lock.unlock(officer, "nope", now=t0 + timedelta(minutes=i))
    for i in range(2):
        with pytest.raises(WrongPassword):
            signin.sign_in(data_dir, officer.username, "nope", banner_acknowledged=True,
                           now=t0 + timedelta(minutes=5 + i))
    assert signin.is_locked(data_dir, officer.username)


def test_failures_older_than_fifteen_minutes_do_not_count(officer, data_dir, t0):
    for i in range(4):
        with pytest.raises(WrongPassword):
            lock.unlock(officer, "nope", now=t0 + timedelta(minutes=i))
    with pytest.raises(WrongPassword, match="4 more"):
        lock.unlock(officer, "nope", now=t0 + timedelta(minutes=19))
    assert not signin.is_locked(data_dir, officer.username)


def test_unlock_works_offline_with_a_key_file(officer):
    # no keyring (conftest's default) and no server anywhere: the key file and password suffice
    assert officer.cache_path.with_name("key.json").exists()
    lock.unlock(officer, PASSWORD)


def test_unlock_works_with_a_keyring(memory_keyring, data_dir):
    s = make_session(data_dir)
    lock.unlock(s, PASSWORD)
    with pytest.raises(WrongPassword):
        lock.unlock(s, "other")
    s.close()


def test_forget_drops_the_key_and_closes_the_cache(officer):
    lock.record_sign_out(officer)
    assert audit_rows(officer, "sign_out") == ["success"]
    lock.forget(officer)
    assert officer.data_key == b""
    with pytest.raises(sqlcipher3.ProgrammingError, match="closed"):
        officer.db.execute("SELECT 1")
