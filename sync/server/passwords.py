"""Passwords at the server: the agency's rules for a new one, the ones each user had, and the
two ways a password changes — the user's own change (current password and second factor
checked) and an administrator's reset.

The rules (agency settings, fieldapp/agency.py; CJIS IA-5(1)):
- at least `password_min_length` characters (12 by default), at most 256; any characters;
- none of the agency's `password_deny_words` anywhere in it (its name, city, call signs);
- not easy to guess: zxcvbn's estimate, which knows some 30,000 common passwords and their
  variants (capitals, l33t, reversed, repeats, keyboard walks, dates), the user's own names,
  the agency's name and `password_deny_words`, must reach 10^8 guesses (its score 3);
- not one of the user's last `password_history` passwords (10).
Each refusal says what to fix. Every argon2 check (~0.45 s; the history is one per password
kept) runs with no transaction open, as at sign-in (sync/server/login.py).

A change revokes the tokens of every other sign-in of the user (their other laptops sign in
online again, with the new password); a reset revokes all of them.
"""

import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine, delete, insert, select, update

from fieldapp.timeutil import now_iso, parse_iso, utc_now

from . import accounts, agency_settings, audit, login, throttle, two_factor
from .tables import app_user, password_history

MAX_LENGTH = 256
MIN_SCORE = 3  # zxcvbn: 10^8 guesses or more
ESTIMATED_CHARS = 100  # zxcvbn's work grows with length; past this a password is long enough
KEEP = 24  # the most `password_history` allows
REPLAY_WINDOW = timedelta(minutes=10)


class PasswordRejected(accounts.AccountError):
    """A new password the agency's rules refuse; the message says what to fix."""


def problems(password: str, settings: dict, names: list[str]) -> list[str]:
    """What is wrong with `password` as a new password (none: it may be used). `names`: the
    user's own (user name, display name), which a password must not be built on."""
    wanted = settings["password_min_length"]
    if len(password) < wanted:
        return [f"use at least {wanted} characters (this has {len(password)}); a few "
                "unrelated words with spaces are long and easy to type"]
    if len(password) > MAX_LENGTH:
        return [f"use at most {MAX_LENGTH} characters (this has {len(password)})"]
    lowered = password.casefold()
    denied = [w for w in settings["password_deny_words"] if w.casefold() in lowered]
    if denied:
        return [f"it contains {denied[0]!r}, a word the agency does not allow in passwords"]
    from zxcvbn import zxcvbn

    words = [w for w in (*names, *_name_parts(names), settings["agency_name"], "tandem",
                         *settings["password_deny_words"]) if w]
    estimate = zxcvbn(password[:ESTIMATED_CHARS], user_inputs=words)
    if estimate["score"] >= MIN_SCORE:
        return []
    feedback = estimate["feedback"]
    why = feedback["warning"] or _own_word(estimate) or "This is easy to guess."
    advice = " ".join(feedback["suggestions"]) or "Add another word or two."
    return [f"too easy to guess: {why.rstrip('.')}. {advice}"]


def _name_parts(names: list[str]) -> list[str]:
    """'ofc.ramirez' and 'Luis Ramirez' are also 'ramirez' and 'luis'."""
    return sorted({part for name in names for part in re.split(r"[\s._-]+", name)
                   if len(part) >= 3})


def _own_word(estimate: dict) -> str | None:
    if any(m.get("dictionary_name") == "user_inputs" for m in estimate["sequence"]):
        return "It is built on your name, the agency's, or a word the agency forbids."
    return None


def check(password: str, settings: dict, names: list[str]) -> None:
    found = problems(password, settings, names)
    if found:
        raise PasswordRejected("the new password is refused: " + "; ".join(found))


def recent_hashes(conn, user) -> list[str]:
    """The hashes a new password may not match: the current one and those before it, up to
    the agency's `password_history` in all (none when it is 0)."""
    wanted = agency_settings.read(conn)["password_history"]
    if wanted == 0:
        return []
    kept = list(conn.scalars(select(password_history.c.password_hash)
                             .where(password_history.c.user_id == user["id"])
                             .order_by(password_history.c.id.desc()).limit(wanted)))
    if user["password_hash"] not in kept:  # an account from before the history was kept
        kept = [user["password_hash"], *kept][:wanted]
    return kept


def reused(password: str, hashes: list[str]) -> bool:
    """Whether `password` is one of `hashes` (argon2: run with no transaction open)."""
    return any(accounts.hash_matches(h, password) for h in hashes)


def store(conn, user_id: int, password_hash: str) -> None:
    """Make `password_hash` the user's password and remember it (the oldest beyond KEEP go)."""
    now = now_iso()
    conn.execute(update(app_user).where(app_user.c.id == user_id)
                 .values(password_hash=password_hash, password_changed_at=now))
    conn.execute(insert(password_history).values(user_id=user_id, password_hash=password_hash,
                                                 set_at=now))
    keep = select(password_history.c.id).where(password_history.c.user_id == user_id).order_by(
        password_history.c.id.desc()).limit(KEEP).scalar_subquery()
    conn.execute(delete(password_history).where(password_history.c.user_id == user_id,
                                                password_history.c.id.not_in(keep)))


def new_hash(engine: Engine, username: str, password: str) -> tuple[dict, str]:
    """Check `password` against the rules and the user's history, with no transaction open
    while argon2 runs; returns (the user's row, the new password's hash)."""
    with engine.begin() as conn:
        user = accounts.find_user(conn, username)
        if user is None:
            raise accounts.AccountError(f"no user {username!r}")
        user, settings = dict(user), agency_settings.read(conn)
        hashes = recent_hashes(conn, user)
    check(password, settings, [user["username"], user["display_name"]])
    if reused(password, hashes):
        raise PasswordRejected(f"the new password is refused: it is one of the last "
                               f"{settings['password_history']} passwords of {username}; "
                               "choose one not used before")
    return user, accounts.hash_password(password)


def reset(engine: Engine, username: str, password: str, actor: str) -> int:
    """An administrator sets a user's password (the user forgot it, or it may be known to
    someone else): every token of theirs is revoked, so each of their laptops signs in online
    with it, which also opens the laptop's copy again (sync/server/device_keys.py). Returns
    how many tokens were revoked."""
    user, hashed = new_hash(engine, username, password)
    with engine.begin() as conn:
        store(conn, user["id"], hashed)
        revoked = accounts.revoke_user_tokens(conn, user["id"])
        audit.record(conn, "user.password_reset", actor=actor, target=f"user:{username}",
                     detail={"revoked_tokens": revoked})
    return revoked


@dataclass
class Refused(Exception):
    """A change the server refuses: HTTP status, machine-readable code, what to tell the user."""

    status: int
    code: str
    detail: str
    retry_after: int | None = None


def change(engine: Engine, access_token: str, *, password: str, new_password: str,
           code: str | None, address: str) -> dict:
    """The signed-in user changes their own password: the current one and, for a user with an
    authenticator, its code, are checked like a sign-in (throttled, every failure audited);
    then the rules. The other sign-ins' tokens are revoked, this one's kept.

    Asked again after a lost answer (the current password is now `new_password`, the one sent
    as current was the one before, changed from this device minutes ago) it answers the same,
    changing nothing, and without the code, which the first request used up."""
    with engine.begin() as conn:
        caller = accounts.authenticate(conn, access_token)
        chain = accounts.chain_of(conn, access_token)
    try:
        attempt = login.admit(engine, caller.username, address, "password.change_throttled")
    except login.Refused as e:  # 403, not 429: a laptop's transport waits out a 429 itself
        raise Refused(403, e.code, e.detail, e.retry_after) from None
    user, factor = attempt.user, attempt.factor
    with engine.connect() as conn:
        hashes = recent_hashes(conn, user)
        previous = list(conn.scalars(select(password_history.c.password_hash).where(
            password_history.c.user_id == user["id"]).order_by(
            password_history.c.id.desc()).limit(2)))
    right = accounts.password_matches(user, password)
    if not right and _replay(user, previous, password, new_password):
        with engine.begin() as conn:
            throttle.settle(conn, attempt.keys, right=True)
        return {"changed": True, "revoked_tokens": 0}
    step = None
    confirmed = bool(factor and factor["confirmed_at"])
    if right and confirmed and code and code.isdigit():
        step = two_factor.matching_step(factor["secret"], code, factor["last_step"])
    problem = None
    if right:
        names = [user["username"], user["display_name"]]
        problem = "; ".join(problems(new_password, attempt.settings, names)) or None
        if problem is None and reused(new_password, hashes):
            problem = (f"it is one of your last {attempt.settings['password_history']} "
                       "passwords; choose one not used before")
    hashed = accounts.hash_password(new_password) if right and problem is None else None
    target = f"user:{caller.username}"
    with engine.begin() as conn:
        if not right:
            return _failed(conn, attempt, caller, address, "password", Refused(
                403, "wrong_password", "the current password is wrong"))
        if confirmed:
            if not code:
                throttle.settle(conn, attempt.keys, right=False)
                raise login.after_commit(conn, Refused(
                    403, "second_factor_required", "enter the 6-digit code from your "
                    "authenticator app (or a recovery code)"))
            if step is not None and two_factor.claim_step(conn, user["id"], step):
                pass
            elif not (step is None and not code.isdigit()
                      and two_factor.use_recovery_code(conn, user["id"], code)):
                return _failed(conn, attempt, caller, address, "second factor", Refused(
                    403, "second_factor_wrong", "that code is wrong or was already used; "
                    "wait for the next one"))
        throttle.settle(conn, attempt.keys, right=True)
        if problem:
            audit.record(conn, "password.change", actor=caller.username, target=target,
                         outcome="refused", address=address, device_id=caller.device_id,
                         detail={"why": problem})
            raise login.after_commit(conn, Refused(
                400, "password_rules", f"the new password is refused: {problem}"))
        store(conn, user["id"], hashed)
        revoked = accounts.revoke_user_tokens(conn, user["id"], keep_chain=chain)
        audit.record(conn, "password.change", actor=caller.username, target=target,
                     address=address, device_id=caller.device_id,
                     detail={"revoked_tokens": revoked})
    return {"changed": True, "revoked_tokens": revoked}


def _replay(user: dict, previous: list[str], password: str, new_password: str) -> bool:
    """This very change, asked again: made minutes ago, from `password` to `new_password`."""
    changed = user.get("password_changed_at")
    if len(previous) < 2 or not changed or parse_iso(changed) < utc_now() - REPLAY_WINDOW:
        return False
    return (previous[0] == user["password_hash"]
            and accounts.hash_matches(previous[0], new_password)
            and accounts.hash_matches(previous[1], password))


def _failed(conn, attempt, caller, address: str, what: str, refused: Refused):
    throttle.failed(conn, attempt.keys, attempt.settings)
    account = throttle.state(conn, attempt.keys[0], attempt.settings)
    audit.record(conn, "password.change", actor=caller.username,
                 target=f"user:{caller.username}", outcome="failure", address=address,
                 device_id=caller.device_id,
                 detail={"wrong": what, "failures": account["failures"]})
    if account["locked"]:
        audit.record(conn, "signin.locked", actor=caller.username, target=attempt.keys[0],
                     outcome="refused", address=address,
                     detail={"failures": account["failures"], "until": account["blocked_until"]})
    raise login.after_commit(conn, refused)
