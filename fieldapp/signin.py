"""Offline sign-in to a cache already on this laptop: the use banner, lockout, and its audit trail.

Five failed attempts within 15 minutes lock the account on this laptop until an online sign-in
succeeds (CJIS). The password alone opens the cache only within the agency's offline window
after the last online sign-in (fieldapp/reauth.py). Failures happen before the cache can be
opened, so they are kept in a small file beside the cache (times and outcomes only, no secret)
and copied into the cache's audit log, which syncs, at the next successful sign-in.

The sign-in window imports this module before anyone signs in, so the cache's stack (session,
sqlite-utils, the key store, cryptography) is imported only by the functions that open a cache.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from . import files, paths, reauth
from .errors import TandemError, WrongPassword
from .timeutil import parse_iso, to_iso, utc_now

if TYPE_CHECKING:
    from .session import Session

USE_BANNER = (
    "This system is for authorized use by agency personnel only. It holds criminal justice "
    "information and protected health information. Use is monitored and recorded; misuse may "
    "bring disciplinary action and criminal and civil penalties. By signing in you acknowledge "
    "these terms."
)
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)


class AccountLocked(TandemError):
    """Too many failed attempts: only an online sign-in unlocks the account on this laptop."""


def _attempts_path(data_dir: Path, username: str) -> Path:
    return paths.user_dir(data_dir, username) / "signin-attempts.json"


def _read(data_dir: Path, username: str) -> dict:
    """The failed attempts not yet in the cache's audit log. A file left unreadable (written
    before writes were made whole) counts as none, as a deleted one would."""
    path = _attempts_path(data_dir, username)
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return {"locked": False, "attempts": []}


def _write(data_dir: Path, username: str, state: dict) -> None:
    files.write_whole(_attempts_path(data_dir, username), json.dumps(state).encode())


def is_locked(data_dir: Path, username: str) -> bool:
    return _read(data_dir, username)["locked"]


def sign_in(data_dir: Path, username: str, password: str, *, banner_acknowledged: bool,
            now: datetime | None = None) -> Session:
    """Open the user's cache with their password, offline, enforcing the lockout."""
    if not banner_acknowledged:
        raise TandemError("acknowledge the use banner before signing in")
    now = now or utc_now()
    state = _read(data_dir, username) if paths.user_dir(data_dir, username).exists() else None
    if state and state["locked"]:
        state["attempts"].append({"at": to_iso(now), "outcome": "denied", "action": "sign_in"})
        _write(data_dir, username, state)
        raise AccountLocked(
            f"{username} is locked on this laptop after {MAX_FAILURES} failed attempts; "
            "sign in online to unlock it")
    from .session import unlock
    try:
        session = unlock(data_dir, username, password)
    except WrongPassword:
        record_failure(data_dir, username, now)
        raise
    try:
        reauth.check(session, now)
    except reauth.OnlineSignInRequired as e:
        _flush_attempts(session, state or {"attempts": []}, now, detail=f"refused: {e}",
                        outcome="denied")
        session.close()
        raise
    _flush_attempts(session, state or {"attempts": []}, now)
    return session


def recoverable(data_dir: Path, username: str) -> bool:
    """Whether this user's copy is also sealed under the agency server's recovery secret, so
    an online sign-in can open it when the password does not (fieldapp/recovery.py)."""
    from . import keys, recovery
    from .errors import KeyMissing
    try:
        return recovery.device_of(keys.KeyStore(paths.cache_path(data_dir, username)).load()) \
            is not None
    except KeyMissing:
        return False


def record_failure(data_dir: Path, username: str, now: datetime | None = None, *,
                   action: str = "sign_in", audited: bool = False) -> bool:
    """Count a wrong password (sign-in, online sign-in or unlock) toward the lockout; True
    when the account is now locked. `audited`: the caller already wrote its audit event."""
    if not paths.user_dir(data_dir, username).exists():
        return False  # no cache here, nothing to guard
    now = now or utc_now()
    state = _read(data_dir, username)
    state["attempts"].append({"at": to_iso(now), "outcome": "failure", "action": action,
                              "audited": audited})
    state["locked"] = state["locked"] or _recent_failures(state, now) >= MAX_FAILURES
    _write(data_dir, username, state)
    return state["locked"]


def failures_left(data_dir: Path, username: str, now: datetime | None = None) -> int:
    """Wrong passwords still allowed before the account locks on this laptop."""
    return max(0, MAX_FAILURES - _recent_failures(_read(data_dir, username), now or utc_now()))


def _recent_failures(state: dict, now: datetime) -> int:
    return sum(1 for a in state["attempts"] if a["outcome"] == "failure"
               and now - parse_iso(a["at"]) < FAILURE_WINDOW)


def record_success(session: Session, action: str, now: datetime | None = None,
                   detail: str | None = None) -> None:
    """A right password (e.g. unlocking the session): audit it, with any attempts not yet
    audited, and start the failure count afresh."""
    _flush_attempts(session, _read(session.data_dir, session.username), now or utc_now(),
                    detail, action)


def clear_lock_after_online_sign_in(session: Session) -> None:
    """An online sign-in proved the password to the server: lift the laptop's lock."""
    state = _read(session.data_dir, session.username)
    _flush_attempts(session, state, utc_now(), detail="online sign-in")


def _flush_attempts(session: Session, state: dict, now: datetime, detail: str | None = None,
                    action: str = "sign_in", outcome: str = "success") -> None:
    """Move recorded attempts into the synced audit log, then log this outcome (a right
    password: a success, or denied when only an online sign-in may open the cache now)."""
    from . import changes
    with session.db.atomic():
        for attempt in state.get("attempts", []):
            if attempt.get("audited"):
                continue
            changes.create(session, "audit_event", {
                "at": attempt["at"], "actor": session.username,
                "action": attempt.get("action", "sign_in"), "outcome": attempt["outcome"],
                "detail": "attempt on this laptop"})
        changes.create(session, "audit_event", {
            "at": to_iso(now), "actor": session.username, "action": action,
            "outcome": outcome, "detail": detail and detail[:1000]})
    _write(session.data_dir, session.username, {"locked": False, "attempts": []})
