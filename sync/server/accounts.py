"""Users, devices and tokens: argon2 password hashes; access and refresh tokens bound to a device.

Tokens are random strings; the database holds only their SHA-256, so a copy of the database
lets no one sign in. Access tokens live minutes, refresh tokens months; revoking a device
revokes both and tells the laptop to wipe itself on its next contact.
"""

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, insert, select, update

from fieldapp.records import ROLES
from fieldapp.timeutil import now_iso, to_iso, utc_now

from ..protocol import INTAKE_ROLE
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
             display_name: str = "", unit: str | None = None, vehicle: str | None = None) -> int:
    if not username or len(username) > USERNAME_MAX or not username.replace(".", "").replace(
            "-", "").replace("_", "").isalnum():
        raise AccountError(
            f"user name {username!r} must be 1–{USERNAME_MAX} letters, digits, '.', '-' or '_'")
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if not teams or any(not t or len(t) > TEAM_MAX for t in teams):
        raise AccountError(f"a user needs at least one team name of 1–{TEAM_MAX} characters")
    if len(password) < 8:
        raise AccountError("the password must be at least 8 characters")
    if conn.scalar(select(app_user.c.id).where(app_user.c.username == username)) is not None:
        raise AccountError(f"user {username!r} already exists")
    _check_car(unit, vehicle)
    return conn.execute(insert(app_user).values(
        username=username, display_name=display_name or username,
        password_hash=_hasher.hash(password), role=role, teams=json.dumps(list(teams)),
        disabled=False, created_at=now_iso(), unit=unit or None, vehicle=vehicle or None,
    )).inserted_primary_key[0]


def set_car(conn, username: str, unit: str | None, vehicle: str | None) -> None:
    """The unit and vehicle this user usually rides in (a shift's defaults on the laptop)."""
    _check_car(unit, vehicle)
    if not conn.execute(update(app_user).where(app_user.c.username == username)
                        .values(unit=unit or None, vehicle=vehicle or None)).rowcount:
        raise AccountError(f"no user {username!r}")


def _check_car(unit: str | None, vehicle: str | None) -> None:
    for name, value in (("unit", unit), ("vehicle", vehicle)):
        if value is not None and len(value) > CAR_MAX:
            raise AccountError(f"{name} {value!r} is longer than {CAR_MAX} characters")


def roster(conn, caller: Caller) -> list[dict]:
    """Everyone (not disabled) who shares a team with the caller: whom a shift can be started
    with, and the car each usually rides in. No team, no one."""
    out = []
    for row in conn.execute(select(app_user).where(app_user.c.disabled.is_(False))
                            .order_by(app_user.c.username)).mappings():
        teams = json.loads(row["teams"])
        shared = [t for t in teams if t in caller.teams]
        if shared:
            out.append({"username": row["username"], "display_name": row["display_name"],
                        "role": row["role"], "teams": shared, "unit": row["unit"],
                        "vehicle": row["vehicle"]})
    return out


def check_password(conn, username: str, password: str):
    """The user's row if the password is right, else AccountError (one message for both)."""
    row = conn.execute(select(app_user).where(app_user.c.username == username)).mappings().first()
    try:
        _hasher.verify(row["password_hash"] if row else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        row = None
    if row is None or row["disabled"]:
        raise AccountError("wrong user name or password")
    return row


def profile(row) -> dict:
    return {"username": row["username"], "role": row["role"],
            "teams": json.loads(row["teams"]), "display_name": row["display_name"]}


def sign_in(conn, user, device_id: str, device_name: str) -> dict:
    """Register (or re-use) the device for this user and issue a token pair. CRC intake
    accounts sign in to the intake board only; they hold no laptop and no sync token."""
    if user["role"] == INTAKE_ROLE:
        raise AccountError("a CRC intake account signs in to the intake board (/intake), "
                           "not on a laptop")
    existing = conn.execute(select(device).where(device.c.id == device_id)).mappings().first()
    if existing is None:
        conn.execute(insert(device).values(
            id=device_id, user_id=user["id"], name=device_name, registered_at=now_iso(),
            last_seen_at=now_iso()))
    elif existing["revoked_at"]:
        raise DeviceRevoked(device_id)
    elif existing["user_id"] != user["id"]:
        raise AccountError("this device id belongs to another user")
    return {"access_token": _issue(conn, "access", user["id"], device_id, ACCESS_TTL),
            "refresh_token": _issue(conn, "refresh", user["id"], device_id, REFRESH_TTL),
            "expires_in": int(ACCESS_TTL.total_seconds())}


def refresh(conn, refresh_token: str) -> dict:
    row = _token_row(conn, refresh_token, "refresh")
    conn.execute(update(device).where(device.c.id == row["device_id"])
                 .values(last_seen_at=now_iso()))
    return {"access_token": _issue(conn, "access", row["user_id"], row["device_id"], ACCESS_TTL),
            "expires_in": int(ACCESS_TTL.total_seconds())}


def authenticate(conn, access_token: str) -> Caller:
    row = _token_row(conn, access_token, "access")
    return Caller(row["user_id"], row["username"], row["role"], tuple(json.loads(row["teams"])),
                  row["device_id"])


def revoke_device(conn, device_id: str) -> int:
    """Revoke a device and every token it holds; returns how many tokens were revoked."""
    found = conn.execute(select(device.c.revoked_at).where(device.c.id == device_id)).first()
    if found is None:
        raise AccountError(f"no device {device_id!r} is registered")
    now = now_iso()
    conn.execute(update(device).where(device.c.id == device_id).values(revoked_at=now))
    return conn.execute(update(token).where(token.c.device_id == device_id,
                                            token.c.revoked_at.is_(None))
                        .values(revoked_at=now)).rowcount


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
        raise AccountError("unknown refresh token")
    if not row.revoked_at:
        raise AccountError(f"device {row.device_id} is not revoked; nothing to wipe")
    record_wipe(conn, row.device_id, "wiped", "the laptop reported its copy deleted")
    return row.device_id


def discard_expired_access_tokens(conn) -> int:
    """Expired access tokens open nothing; a fleet issues about a hundred per laptop a day.
    Refresh tokens stay: a revoked laptop signs its wipe report with its last one."""
    return conn.execute(delete(token).where(token.c.kind == "access",
                                            token.c.expires_at < now_iso())).rowcount


def _issue(conn, kind: str, user_id: int, device_id: str, ttl: timedelta) -> str:
    value = secrets.token_urlsafe(32)
    conn.execute(insert(token).values(
        token_hash=_digest(value), kind=kind, user_id=user_id, device_id=device_id,
        expires_at=to_iso(utc_now() + ttl)))
    return value


def _token_row(conn, value: str, kind: str):
    row = conn.execute(
        select(token.c.user_id, token.c.device_id, token.c.expires_at, token.c.revoked_at,
               device.c.revoked_at.label("device_revoked"), app_user.c.username,
               app_user.c.role, app_user.c.teams, app_user.c.disabled)
        .join(device, device.c.id == token.c.device_id)
        .join(app_user, app_user.c.id == token.c.user_id)
        .where(token.c.token_hash == _digest(value), token.c.kind == kind)
    ).mappings().first()
    if row is None:
        raise AccountError(f"unknown {kind} token")
    if row["device_revoked"]:
        raise DeviceRevoked(row["device_id"])
    if row["revoked_at"] or row["disabled"] or row["role"] == INTAKE_ROLE:
        raise AccountError(f"this {kind} token was revoked")
    if row["expires_at"] < now_iso():
        raise AccountError(f"this {kind} token has expired")
    return row


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()
