"""Online sign-in at the server: throttling, the password, the second factor, then tokens.

Three steps, and only the first and the last open a transaction: (1) admit the attempt
(throttle.admit charges it as a failure until it proves otherwise) and read the account;
(2) check the password (argon2, ~0.45 s) and the code with no transaction open, so that on
SQLite, where a transaction holds the database's write lock, a guesser never stalls anyone
else's sync; (3) record the outcome, audit it, and on success register the device and issue
a token chain. Every outcome is an admin audit event: success, failure, lockout, throttled.

A user whose password is right but who owes a code gets `second_factor_required`; one with no
authenticator where the agency requires one gets `enrolment_required` and enrols with `enrol`
(password again), then signs in with the first code, which also returns recovery codes.
"""

from dataclasses import dataclass

from sqlalchemy import Engine

from . import accounts, agency_settings, audit, throttle, two_factor
from .db import read_meta


# A throttled attempt's answer waits this long (sync/server/api.py): a guesser with a few
# connections gets a few answers a second, and the server spends nothing while it waits.
THROTTLED_DELAY_S = 1.0


@dataclass
class Refused(Exception):
    """A sign-in the server refuses: the HTTP status, a machine-readable code, what to tell
    the user, and for 429 the seconds to wait."""

    status: int
    code: str
    detail: str
    retry_after: int | None = None


@dataclass
class _Attempt:
    settings: dict
    keys: list[str]
    user: dict | None
    factor: dict | None


def sign_in(engine: Engine, *, username: str, password: str, code: str | None,
            device_id: str | None, device_name: str, address: str) -> dict:
    """The profile and, with a device id, a token chain; Refused otherwise."""
    attempt = _admit(engine, username, address, "signin.throttled")
    right = accounts.password_matches(attempt.user, password)
    factor, step = attempt.factor, None
    if right and factor and code and code.isdigit():
        step = two_factor.matching_step(factor["secret"], code, factor["last_step"])
    user = attempt.user
    with engine.begin() as conn:
        settings = attempt.settings
        if not right:
            return _failed(conn, attempt, username, address, "password",
                           Refused(401, "unauthorized", "wrong user name or password"))
        target = f"user:{username}"
        via, recovery_codes = "password", None
        if factor is None and settings["two_factor"] == "required":
            throttle.settle(conn, attempt.keys, right=False)
            raise _after_commit(conn, Refused(
                401, "enrolment_required", "your agency requires a second factor: set up an "
                "authenticator app, then sign in with its code"))
        if factor is not None:
            if not code:
                throttle.settle(conn, attempt.keys, right=False)
                raise _after_commit(conn, Refused(
                    401, "second_factor_required", "enter the 6-digit code from your "
                    "authenticator app (or a recovery code)"))
            if step is not None and two_factor.claim_step(conn, user["id"], step):
                via = "authenticator"
            elif step is None and not code.isdigit() and factor["confirmed_at"] and \
                    two_factor.use_recovery_code(conn, user["id"], code):
                via = "recovery code"
            else:
                return _failed(conn, attempt, username, address, "second factor", Refused(
                    401, "second_factor_wrong", "that code is wrong or was already used; "
                    "wait for the next one"))
            if not factor["confirmed_at"]:
                recovery_codes = two_factor.confirm(conn, user["id"])
                audit.record(conn, "two_factor.enrolled", actor=username, target=target,
                             address=address, device_id=device_id)
        throttle.settle(conn, attempt.keys, right=True)
        out = {"profile": accounts.profile(user), "epoch": read_meta(conn, "epoch")}
        if device_id:
            try:
                out.update(accounts.sign_in(conn, user, device_id, device_name, address))
            except accounts.AccountError as e:
                audit.record(conn, "signin", actor=username, target=target, outcome="refused",
                             address=address, device_id=device_id, detail={"why": str(e)})
                raise _after_commit(conn, e) from None
        if recovery_codes:
            out["recovery_codes"] = recovery_codes
        detail = {"second_factor": via}
        if via == "recovery code":
            detail["recovery_codes_left"] = two_factor.recovery_codes_left(conn, user["id"])
        audit.record(conn, "signin", actor=username, target=target, address=address,
                     device_id=device_id, detail=detail)
    return out


def enrol(engine: Engine, *, username: str, password: str, address: str) -> dict:
    """Start enrolment for a user with no authenticator: a new secret and its otpauth URI
    (the QR code's content). Throttled and audited like a sign-in."""
    attempt = _admit(engine, username, address, "two_factor.enrol_throttled")
    right = accounts.password_matches(attempt.user, password)
    with engine.begin() as conn:
        if not right:
            return _failed(conn, attempt, username, address, "password",
                           Refused(401, "unauthorized", "wrong user name or password"))
        try:
            started = two_factor.begin_enrolment(conn, attempt.user["id"], username)
        except two_factor.TwoFactorError as e:
            throttle.settle(conn, attempt.keys, right=False)
            raise _after_commit(conn, Refused(409, "already_enrolled", str(e))) from None
        throttle.settle(conn, attempt.keys, right=False)  # signed in only with the first code
        audit.record(conn, "two_factor.enrolment_started", actor=username,
                     target=f"user:{username}", address=address)
    return {**started, "issuer": two_factor.ISSUER, "account": username, "digits": 6,
            "period": 30}


def _admit(engine: Engine, username: str, address: str, action: str) -> _Attempt:
    with engine.begin() as conn:
        settings = agency_settings.read(conn)
        user = accounts.find_user(conn, username)
        keys = [throttle.account_key(username, user is not None), throttle.address_key(address)]
        try:
            throttle.admit(conn, keys, settings)
        except throttle.Throttled as e:
            if e.first:  # one event per wait: the refusals after it until it ends are its own
                audit.record(conn, action, actor=username if user else "unknown user",
                             target=keys[0] if user else "", outcome="refused",
                             address=address, detail={
                                 "throttled": e.key.split(":")[0].rstrip("?"),
                                 "retry_after_s": e.retry_after, "locked": e.locked,
                                 "note": "later attempts in this wait are refused unlogged"})
            refused = Refused(429, "throttled", (
                "too many failed sign-ins" + (" from this address" if e.key == keys[1] else "")
                + f"; try again in {_duration(e.retry_after)}"), e.retry_after)
        else:
            return _Attempt(settings, keys, dict(user) if user else None,
                            two_factor.factor(conn, user["id"]) if user else None)
    raise refused


def _failed(conn, attempt: _Attempt, username: str, address: str, what: str,
            refused: Refused):
    """Audit a failed attempt (already charged) and any lockout it caused; commit; raise."""
    known = attempt.user is not None
    throttle.failed(conn, attempt.keys, attempt.settings)
    account = throttle.state(conn, attempt.keys[0], attempt.settings)
    audit.record(conn, "signin", actor=username if known else "unknown user",
                 target=attempt.keys[0] if known else "", outcome="failure", address=address,
                 detail={"wrong": what, "failures": account["failures"]})
    for key in attempt.keys:
        now = throttle.state(conn, key, attempt.settings)
        if now["locked"]:
            audit.record(conn, "signin.locked", actor=username if known else "unknown user",
                         target=key if known or key.startswith("address:") else "",
                         outcome="refused", address=address,
                         detail={"failures": now["failures"], "until": now["blocked_until"]})
    raise _after_commit(conn, refused)


def _after_commit(conn, error: Exception) -> Exception:
    """Commit what this transaction recorded (charges, audit events), then let `error` out:
    leaving `engine.begin()` by an exception would roll them back."""
    conn.commit()
    return error


def _duration(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{round(seconds / 60)} min"
    return f"{round(seconds / 3600)} h"
