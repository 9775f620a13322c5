"""Users, devices and tokens: argon2 password hashes; access and refresh tokens bound to a device.

Tokens are random strings; the database holds only their SHA-256, so a copy of the database
lets no one sign in. Access tokens live minutes. Refresh tokens rotate: each use returns the
next one and retires the one used, and presenting a retired one again revokes every token of
that sign-in (its chain), since only a copy of it can be presenting it. A chain lasts the
agency's `offline_unlock_hours` after its online sign-in; then the laptop signs in again.
Revoking a device revokes its tokens and tells the laptop to wipe itself on its next contact.

The password check (argon2, ~0.45 s) takes no connection: callers run it with no transaction
open (sync/server/login.py).
"""

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, delete, insert, or_, select, update

from fieldapp.ids import new_id
from fieldapp.records import ROLES
from fieldapp.timeutil import now_iso, parse_iso, to_iso, utc_now

from ..protocol import INTAKE_ROLE
from . import audit
from .tables import app_user, device, device_wipe, token

ACCESS_TTL = timedelta(minutes=15)
REFRESH_TTL = timedelta(days=120)  # longer than a laptop is expected to stay offline
USERNAME_MAX = 64
TEAM_MAX = 64
CAR_MAX = 32  # a unit call sign or a vehicle number

_hasher = PasswordHasher()
# A hash to verify against when the user does not exist, so timing does not reveal names.
_DUMMY_HASH = _hasher.hash("not a password")


class AccountError(Exception):
    """A sign-in or account change that cannot go ahead; the message says why."""


class UnknownToken(AccountError):
    """A token this server never issued (or has forgotten)."""


class TokenProblem(AccountError):
    """A refresh the server refuses; `code` says why: unauthorized, token_reused (a retired
    token came back: the chain is revoked) or signin_expired (sign in online again)."""

    def __init__(self, message: str, code: str = "unauthorized"):
        super().__init__(message)
        self.code = code


class DeviceRevoked(AccountError):
    """This device was revoked: the laptop must wipe its copy."""

    def __init__(self, device_id: str):
        super().__init__(f"device {device_id} was revoked")
        self.device_id = device_id


@dataclass(frozen=True)
class Caller:
    """Who an access token belongs to."""

    user_id: int
    username: str
    role: str
    teams: tuple[str, ...]
    device_id: str


def add_user(conn, username: str, role: str, teams: list[str], password: str,
             display_name: str = "", unit: str | None = None, vehicle: str | None = None,
             actor: str | None = None) -> int:
    if not username or len(username) > USERNAME_MAX or not username.replace(".", "").replace(
            "-", "").replace("_", "").isalnum():
        raise AccountError(
            f"user name {username!r} must be 1–{USERNAME_MAX} letters, digits, '.', '-' or '_'")
    _check_scope(role, teams)
    from . import agency_settings, passwords  # passwords imports this module
    passwords.check(password, agency_settings.read(conn), [username, display_name])
    if conn.scalar(select(app_user.c.id).where(app_user.c.username == username)) is not None:
        raise AccountError(f"user {username!r} already exists")
    _check_car(unit, vehicle)
    hashed = hash_password(password)
    user_id = conn.execute(insert(app_user).values(
        username=username, display_name=display_name or username,
        password_hash=hashed, role=role, teams=json.dumps(list(teams)),
        disabled=False, created_at=now_iso(), unit=unit or None, vehicle=vehicle or None,
    )).inserted_primary_key[0]
    passwords.store(conn, user_id, hashed)
    audit.record(conn, "user.added", actor=actor or audit.cli_actor(), target=f"user:{username}",
                 detail={"role": role, "teams": list(teams)})
    return user_id


def set_car(conn, username: str, unit: str | None, vehicle: str | None,
            actor: str | None = None) -> None:
    """The unit and vehicle this user usually rides in (a shift's defaults on the laptop)."""
    _check_car(unit, vehicle)
    if not conn.execute(update(app_user).where(app_user.c.username == username)
                        .values(unit=unit or None, vehicle=vehicle or None)).rowcount:
        raise AccountError(f"no user {username!r}")
    audit.record(conn, "user.car_set", actor=actor or audit.cli_actor(),
                 target=f"user:{username}", detail={"unit": unit, "vehicle": vehicle})


def _check_car(unit: str | None, vehicle: str | None) -> None:
    for name, value in (("unit", unit), ("vehicle", vehicle)):
        if value is not None and len(value) > CAR_MAX:
            raise AccountError(f"{name} {value!r} is longer than {CAR_MAX} characters")


def roster(conn, caller: Caller) -> list[dict]:
    """Everyone (not disabled) who shares a team with the caller: whom a shift can be started
    with, and the car each usually rides in. No team, no one.

    Every sync's pull carries it, so the database picks the caller's teammates (each team as
    the JSON text add_user and change_scope write) rather than every account's row coming
    back to be parsed; the parsed teams still decide."""
    if not caller.teams:
        return []
    out = []
    for row in conn.execute(
            select(app_user.c.username, app_user.c.display_name, app_user.c.role,
                   app_user.c.teams, app_user.c.unit, app_user.c.vehicle)
            .where(app_user.c.disabled.is_(False),
                   or_(*[app_user.c.teams.contains(json.dumps(t), autoescape=True)
                         for t in caller.teams]))
            .order_by(app_user.c.username)).mappings():
        teams = json.loads(row["teams"])
        shared = [t for t in teams if t in caller.teams]
        if shared:
            out.append({"username": row["username"], "display_name": row["display_name"],
                        "role": row["role"], "teams": shared, "unit": row["unit"],
                        "vehicle": row["vehicle"]})
    return out


def change_scope(conn, username: str, role: str, teams: list[str], actor: str) -> None:
    """A new role or teams for a user; their laptops shrink (or grow) their copy to the new
    scope on their next sync."""
    row = find_user(conn, username)
    if row is None:
        raise AccountError(f"no user {username!r}")
    _check_scope(role, teams)
    conn.execute(update(app_user).where(app_user.c.id == row["id"])
                 .values(role=role, teams=json.dumps(list(teams))))
    audit.record(conn, "user.scope_changed", actor=actor, target=f"user:{username}", detail={
        "role": [row["role"], role], "teams": [json.loads(row["teams"]), list(teams)]})


def _check_scope(role: str, teams: list[str]) -> None:
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if not teams or any(not t or len(t) > TEAM_MAX for t in teams):
        raise AccountError(f"a user needs at least one team name of 1–{TEAM_MAX} characters")


def find_user(conn, username: str):
    return conn.execute(select(app_user).where(app_user.c.username == username)
                        ).mappings().first()


def password_matches(row, password: str) -> bool:
    """Whether `password` is the user's (argon2). Takes no connection: run it with no
    transaction open. A missing user is checked against a dummy hash, so timing does not
    reveal which names exist."""
    right = hash_matches(row["password_hash"] if row else _DUMMY_HASH, password)
    return right and row is not None and not row["disabled"]


def hash_matches(password_hash: str, password: str) -> bool:
    """argon2 (~0.45 s): run it with no transaction open."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def profile(row) -> dict:
    return {"username": row["username"], "role": row["role"],
            "teams": json.loads(row["teams"]), "display_name": row["display_name"]}


def sign_in(conn, user, device_id: str, device_name: str, address: str | None = None) -> dict:
    """Register (or re-use) the device for this user and issue a new token chain. CRC
    intake accounts sign in to the intake board only; they hold no laptop and no sync
    token."""
    if user["role"] == INTAKE_ROLE:
        raise AccountError("a CRC intake account signs in to the intake board (/intake), "
                           "not on a laptop")
    existing = conn.execute(select(device).where(device.c.id == device_id)).mappings().first()
    if existing is None:
        conn.execute(insert(device).values(
            id=device_id, user_id=user["id"], name=device_name, registered_at=now_iso(),
            last_seen_at=now_iso()))
        audit.record(conn, "device.registered", actor=user["username"], address=address,
                     device_id=device_id, target=f"device:{device_id}",
                     detail={"name": device_name})
    elif existing["revoked_at"]:
        raise DeviceRevoked(device_id)
    elif existing["user_id"] != user["id"]:
        raise AccountError("this device id belongs to another user")
    else:
        conn.execute(update(device).where(device.c.id == device_id).values(
            last_seen_at=now_iso()))
    chain = {"chain_id": new_id(), "signed_in_at": now_iso()}
    return {"access_token": _issue(conn, "access", user["id"], device_id, ACCESS_TTL, **chain),
            "refresh_token": _issue(conn, "refresh", user["id"], device_id, REFRESH_TTL, **chain),
            "expires_in": int(ACCESS_TTL.total_seconds())}


def refresh(conn, refresh_token: str, next_token: str | None, valid_hours: int,
            address: str | None = None, earlier=()) -> dict:
    """Rotate: retire `refresh_token`, issue `next_token` (the laptop's proposal, stored before
    it asked, so a lost answer can be asked again) or a new one, and an access token.

    The same request again (same token, same proposal) gets a new access token: the answer
    was lost. A retired token with any other proposal is a copy: the chain is revoked. An
    unknown token with `earlier` (the tokens the laptop retired) resumes from the one of them
    this database holds as current: it was restored or failed over to before the rest."""
    row = conn.execute(select(token).where(token.c.token_hash == _digest(refresh_token),
                                           token.c.kind == "refresh")).mappings().first()
    if row is None and earlier:
        refresh_token, row = _resumed(conn, earlier, address)
    if row is None:
        raise TokenProblem("unknown refresh token", "unknown_token")
    _token_row(conn, refresh_token, "refresh", allow_used=True)  # revoked, expired, disabled
    if row["used_at"]:
        return _replayed(conn, row, next_token, address)
    if not row["signed_in_at"] or parse_iso(row["signed_in_at"]) < utc_now() - timedelta(
            hours=valid_hours):
        raise TokenProblem(f"the sign-in of this laptop is over {valid_hours} hours old; sign in "
                           "online again", "signin_expired")
    if next_token is not None and (next_token == refresh_token or conn.scalar(
            select(token.c.kind).where(token.c.token_hash == _digest(next_token)))):
        raise TokenProblem("next_refresh_token must be a new random value")
    new = next_token or secrets.token_urlsafe(32)
    if conn.execute(update(token).where(token.c.token_hash == row["token_hash"],
                                        token.c.used_at.is_(None))
                    .values(used_at=now_iso(), successor_hash=_digest(new))).rowcount == 0:
        return _replayed(conn, row, next_token, address)  # a concurrent request used it
    chain = {"chain_id": row["chain_id"], "signed_in_at": row["signed_in_at"]}
    _issue(conn, "refresh", row["user_id"], row["device_id"], REFRESH_TTL, value=new, **chain)
    conn.execute(update(device).where(device.c.id == row["device_id"])
                 .values(last_seen_at=now_iso()))
    return {"access_token": _issue(conn, "access", row["user_id"], row["device_id"],
                                   ACCESS_TTL, **chain),
            "refresh_token": new, "expires_in": int(ACCESS_TTL.total_seconds())}


def _resumed(conn, earlier, address: str | None) -> tuple[str, dict | None]:
    """Of a laptop's retired tokens, the one this database still holds as current: the only
    unused, unrevoked one, all of them of one sign-in. Presenting it is no more than presenting
    a current token; the used ones around it are not reuse (this database went back)."""
    by_hash = {_digest(t): t for t in earlier}
    rows = conn.execute(select(token).where(token.c.token_hash.in_(list(by_hash)),
                                            token.c.kind == "refresh")).mappings().all()
    current = [r for r in rows if not r["used_at"] and not r["revoked_at"]]
    if len(current) != 1 or len({r["chain_id"] for r in rows}) != 1:
        return "", None
    row = current[0]
    user = conn.scalar(select(app_user.c.username).where(app_user.c.id == row["user_id"]))
    audit.record(conn, "token.resumed", actor=user or "?", device_id=row["device_id"],
                 address=address, target=f"device:{row['device_id']}",
                 detail={"why": "the database went back to before this laptop's newest "
                                "refresh tokens (a restore or a failover)",
                         "tokens_offered": len(by_hash)})
    return by_hash[row["token_hash"]], row


def _replayed(conn, row, next_token: str | None, address: str | None) -> dict:
    """A refresh token used before: the same laptop asking again (its proposal matches the
    successor, which no one has used yet), or a copy, which revokes the chain."""
    row = conn.execute(select(token).where(token.c.token_hash == row["token_hash"])
                       ).mappings().first()
    successor = next_token and conn.execute(select(token).where(
        token.c.token_hash == _digest(next_token), token.c.kind == "refresh",
        token.c.chain_id == row["chain_id"])).mappings().first()
    if (successor and row["successor_hash"] == successor["token_hash"]
            and not successor["used_at"] and not successor["revoked_at"]):
        chain = {"chain_id": row["chain_id"], "signed_in_at": row["signed_in_at"]}
        return {"access_token": _issue(conn, "access", row["user_id"], row["device_id"],
                                       ACCESS_TTL, **chain),
                "refresh_token": next_token, "expires_in": int(ACCESS_TTL.total_seconds())}
    revoked = revoke_chain(conn, row["chain_id"], row["token_hash"])  # the caller commits it
    user = conn.scalar(select(app_user.c.username).where(app_user.c.id == row["user_id"]))
    audit.record(conn, "token.reused", actor=user or "?", device_id=row["device_id"],
                 address=address, target=f"device:{row['device_id']}", outcome="refused",
                 detail={"revoked_tokens": revoked,
                         "why": "a refresh token already used was presented again"})
    raise TokenProblem("this refresh token was already used, so a copy of it exists: every "
                       "token of this sign-in is revoked; sign in online again", "token_reused")


def revoke_user_tokens(conn, user_id: int, keep_chain: str | None = None) -> int:
    """Revoke every token of a user (a disabled account, a new password), but the sign-in
    `keep_chain`; returns how many. Their laptops keep their copies and outboxes, and sign
    in online again."""
    where = [token.c.user_id == user_id, token.c.revoked_at.is_(None)]
    if keep_chain:
        where.append(or_(token.c.chain_id.is_(None), token.c.chain_id != keep_chain))
    return conn.execute(update(token).where(*where).values(revoked_at=now_iso())).rowcount


def chain_of(conn, access_token: str) -> str | None:
    """The sign-in an access token belongs to."""
    return conn.scalar(select(token.c.chain_id).where(token.c.token_hash == _digest(
        access_token), token.c.kind == "access"))


def revoke_chain(conn, chain_id: str | None, token_hash: str) -> int:
    """Revoke every token of one sign-in (or just this token, for one from before chains)."""
    where = token.c.chain_id == chain_id if chain_id else token.c.token_hash == token_hash
    return conn.execute(update(token).where(where, token.c.revoked_at.is_(None))
                        .values(revoked_at=now_iso())).rowcount


def authenticate(conn, access_token: str) -> Caller:
    row = _token_row(conn, access_token, "access")
    return Caller(row["user_id"], row["username"], row["role"], tuple(json.loads(row["teams"])),
                  row["device_id"])


def revoke_device(conn, device_id: str, actor: str | None = None) -> int:
    """Revoke a device and every token it holds; returns how many tokens were revoked."""
    found = conn.execute(select(device.c.revoked_at).where(device.c.id == device_id)).first()
    if found is None:
        raise AccountError(f"no device {device_id!r} is registered")
    now = now_iso()
    conn.execute(update(device).where(device.c.id == device_id).values(revoked_at=now))
    revoked = conn.execute(update(token).where(token.c.device_id == device_id,
                                               token.c.revoked_at.is_(None))
                           .values(revoked_at=now)).rowcount
    audit.record(conn, "device.revoked", actor=actor or audit.cli_actor(),
                 target=f"device:{device_id}", device_id=device_id,
                 detail={"revoked_tokens": revoked})
    return revoked


def record_wipe(conn, device_id: str, event: str, detail: str) -> None:
    """Append to the wipe log: "told" when the server orders a revoked device to wipe
    itself, "wiped" when the laptop reports that it did."""
    conn.execute(insert(device_wipe).values(device_id=device_id, at=now_iso(), event=event,
                                            detail=detail[:200]))


def confirm_wipe(conn, refresh_token: str) -> str:
    """A revoked laptop's report that it wiped itself, signed by its last refresh token
    (revoked, but still naming the device); returns the device id."""
    row = conn.execute(select(token.c.device_id, device.c.revoked_at)
                       .join(device, device.c.id == token.c.device_id)
                       .where(token.c.token_hash == _digest(refresh_token),
                              token.c.kind == "refresh")).first()
    if row is None:
        raise UnknownToken("unknown refresh token")
    if not row.revoked_at:
        raise AccountError(f"device {row.device_id} is not revoked; nothing to wipe")
    record_wipe(conn, row.device_id, "wiped", "the laptop reported its copy deleted")
    return row.device_id


def discard_expired_access_tokens(conn) -> int:
    """Expired access tokens open nothing; a fleet issues about a hundred per laptop a day.
    Refresh tokens stay: a revoked laptop signs its wipe report with its last one."""
    return conn.execute(delete(token).where(token.c.kind == "access",
                                            token.c.expires_at < now_iso())).rowcount


def _issue(conn, kind: str, user_id: int, device_id: str, ttl: timedelta, *, chain_id: str,
           signed_in_at: str, value: str | None = None) -> str:
    value = value or secrets.token_urlsafe(32)
    conn.execute(insert(token).values(
        token_hash=_digest(value), kind=kind, user_id=user_id, device_id=device_id,
        expires_at=to_iso(utc_now() + ttl), chain_id=chain_id, signed_in_at=signed_in_at))
    return value


# Built once: every request authenticates, and building a statement costs a worker about as
# much CPU as running it (statements on a request's path are module constants with bound
# values).
_TOKEN_ROW = (
    select(token.c.user_id, token.c.device_id, token.c.expires_at, token.c.revoked_at,
           token.c.used_at,
           device.c.revoked_at.label("device_revoked"), app_user.c.username,
           app_user.c.role, app_user.c.teams, app_user.c.disabled)
    .join(device, device.c.id == token.c.device_id)
    .join(app_user, app_user.c.id == token.c.user_id)
    .where(token.c.token_hash == bindparam("token_hash"), token.c.kind == bindparam("kind")))


def _token_row(conn, value: str, kind: str, allow_used: bool = False):
    row = conn.execute(_TOKEN_ROW, {"token_hash": _digest(value), "kind": kind}
                       ).mappings().first()
    if row is None:
        raise UnknownToken(f"unknown {kind} token")
    if row["device_revoked"]:
        raise DeviceRevoked(row["device_id"])
    if row["revoked_at"] or row["disabled"] or row["role"] == INTAKE_ROLE:
        raise TokenProblem(f"this {kind} token was revoked")
    if row["expires_at"] < now_iso():
        raise TokenProblem(f"this {kind} token has expired")
    if row["used_at"] and not allow_used:
        raise TokenProblem(f"this {kind} token was already used")
    return row


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()
