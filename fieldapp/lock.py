"""Locking the session (CJIS): how long the app may sit idle, checking the password to unlock,
and forgetting the keys at sign-out.

The lock belongs to the app: underneath it the cache stays open, so drafts keep saving and sync
goes on. Unlocking checks the password against the user's wrapped data key (one scrypt run,
about half a second: call it from a worker, never the UI thread); a wrong one counts toward the
sign-in lockout (5 in 15 minutes), after which only an online sign-in opens the account again.
Lock, unlock (each outcome) and sign-out are audit events.
"""

import hmac
from datetime import datetime

from . import changes, keys, reauth, settings, signin
from .errors import WrongPassword
from .session import Session
from .timeutil import to_iso, utc_now

IDLE_SETTING = "lock_after_minutes"
DEFAULT_IDLE_MINUTES = settings.SETTINGS[IDLE_SETTING].default


def idle_minutes(session: Session) -> int:
    """Minutes without keyboard or mouse input before the app locks (default 10, at most 30)."""
    return settings.get(session.db, IDLE_SETTING)


def set_idle_minutes(session: Session, minutes: int) -> None:
    """Raises ValidationError (saying the allowed range) for anything but 1 to 30."""
    settings.put(session.db, IDLE_SETTING, minutes)


def record_lock(session: Session, reason: str) -> None:
    """`reason`: why it locked, e.g. 'idle 10 min' or 'on demand'."""
    with session.db.atomic():
        changes.audit(session, "lock", detail=reason)


def unlock(session: Session, password: str, now: datetime | None = None) -> None:
    """Returns when `password` is this user's; raises WrongPassword (saying how many tries are
    left), signin.AccountLocked (sign out: only an online sign-in opens the account now) or
    reauth.OnlineSignInRequired (the offline window since the last online sign-in is over)."""
    now = now or utc_now()
    if signin.is_locked(session.data_dir, session.username):
        _audit(session, "unlock", now, "denied", "account locked on this laptop")
        raise _locked(session)
    try:
        data_key = keys.unwrap(keys.KeyStore(session.cache_path).load(), password)
        if not hmac.compare_digest(data_key, session.data_key):
            raise WrongPassword("the password does not match")
    except WrongPassword:
        locked = signin.record_failure(session.data_dir, session.username, now,
                                       action="unlock", audited=True)
        _audit(session, "unlock", now, "failure",
               "account locked on this laptop" if locked else None)
        if locked:
            raise _locked(session) from None
        left = signin.failures_left(session.data_dir, session.username, now)
        raise WrongPassword(f"wrong password; {left} more wrong "
                            f"{'try locks' if left == 1 else 'tries lock'} this account "
                            "on this laptop") from None
    try:
        reauth.check(session, now)
    except reauth.OnlineSignInRequired as e:
        _audit(session, "unlock", now, "denied", str(e)[:1000])
        raise
    signin.record_success(session, "unlock", now)


def record_sign_out(session: Session, detail: str | None = None) -> None:
    """`detail`: how the session ended when it was not the sign-out button ('closed the app')."""
    with session.db.atomic():
        changes.audit(session, "sign_out", detail=detail)


def forget(session: Session) -> None:
    """Drop this session's secrets: its data key, and its connection to the cache if it is
    still open. A session handed over by the thread that opened it (the sign-in worker's)
    arrives closed, so nothing here touches another thread's connection. (Python cannot
    overwrite the key's bytes; with no reference left the memory is freed.)"""
    session.data_key = b""
    session.close()


def _audit(session: Session, action: str, now: datetime, outcome: str,
           detail: str | None) -> None:
    with session.db.atomic():
        changes.create(session, "audit_event", {
            "at": to_iso(now), "actor": session.username, "action": action,
            "outcome": outcome, "detail": detail})


def _locked(session: Session) -> signin.AccountLocked:
    return signin.AccountLocked(
        f"{session.username} is locked on this laptop after {signin.MAX_FAILURES} wrong "
        "passwords; sign in online to unlock it")
