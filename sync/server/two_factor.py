"""The second factor at online sign-in (CJIS advanced authentication): a TOTP authenticator
app (RFC 6238: 6 digits, 30-second steps, SHA-1, as every authenticator app reads an otpauth
QR code), one-time recovery codes, and an administrator's reset.

Enrolment has two steps, by the user at sign-in or by an administrator at the console: a new
secret is made (pending), then the first right code from the user's app confirms it and gives
the user RECOVERY_CODES one-time codes, shown once. A confirmed factor changes only by an
administrator's reset, which removes it and the recovery codes.

A code is accepted for the current step or the one either side (a phone's clock drifts), and
only once: the newest step used is kept, and a code for it or an earlier step is refused.
"""

import hashlib
import hmac
import secrets
import time

import pyotp
from sqlalchemy import delete, insert, select, update

from fieldapp.timeutil import now_iso

from .tables import app_user, recovery_code, two_factor

ISSUER = "Tandem"
RECOVERY_CODES = 10
DRIFT_STEPS = 1
_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread


class TwoFactorError(Exception):
    """An enrolment or reset that cannot go ahead; the message says why."""


def factor(conn, user_id: int) -> dict | None:
    """The user's factor row (secret, confirmed_at, last_step), or None."""
    row = conn.execute(select(two_factor).where(two_factor.c.user_id == user_id)
                       ).mappings().first()
    return dict(row) if row else None


def begin_enrolment(conn, user_id: int, username: str) -> dict:
    """A new pending secret for a user with no confirmed factor; {secret, uri} for the QR."""
    existing = factor(conn, user_id)
    if existing and existing["confirmed_at"]:
        raise TwoFactorError(f"{username} already has an authenticator; an administrator "
                             "resets it with 'tandem-server two-factor reset'")
    secret = pyotp.random_base32()
    conn.execute(delete(two_factor).where(two_factor.c.user_id == user_id))
    conn.execute(insert(two_factor).values(user_id=user_id, secret=secret,
                                           created_at=now_iso()))
    return {"secret": secret, "uri": otpauth_uri(secret, username)}


def otpauth_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def matching_step(secret: str, code: str, after_step: int | None,
                  now: float | None = None) -> int | None:
    """The 30-second step `code` is right for (this one or one either side), if later than
    `after_step`; else None. Pure: run it outside any transaction."""
    if not (len(code) == 6 and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(time.time() if now is None else now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if (after_step is None or step > after_step) and hmac.compare_digest(
                totp.generate_otp(step), code):
            return step
    return None


def claim_step(conn, user_id: int, step: int) -> bool:
    """Record `step` as used, unless it (or a later one) already was: a code works once."""
    return conn.execute(update(two_factor).where(
        two_factor.c.user_id == user_id,
        (two_factor.c.last_step.is_(None)) | (two_factor.c.last_step < step))
        .values(last_step=step)).rowcount == 1


def confirm(conn, user_id: int) -> list[str]:
    """The pending factor becomes the user's; returns the new recovery codes (shown once)."""
    conn.execute(update(two_factor).where(two_factor.c.user_id == user_id)
                 .values(confirmed_at=now_iso()))
    return new_recovery_codes(conn, user_id)


def new_recovery_codes(conn, user_id: int) -> list[str]:
    """Replace the user's recovery codes; the database keeps only their SHA-256."""
    codes = ["-".join("".join(secrets.choice(_CODE_ALPHABET) for _ in range(5))
                      for _ in range(2)) for _ in range(RECOVERY_CODES)]
    conn.execute(delete(recovery_code).where(recovery_code.c.user_id == user_id))
    conn.execute(insert(recovery_code), [{"user_id": user_id, "code_hash": _digest(code)}
                                         for code in codes])
    return codes


def use_recovery_code(conn, user_id: int, code: str) -> bool:
    """Spend one recovery code; False if it is not one of the user's unused codes."""
    return conn.execute(update(recovery_code).where(
        recovery_code.c.user_id == user_id, recovery_code.c.code_hash == _digest(code),
        recovery_code.c.used_at.is_(None)).values(used_at=now_iso())).rowcount == 1


def recovery_codes_left(conn, user_id: int) -> int:
    return len(conn.execute(select(recovery_code.c.code_hash).where(
        recovery_code.c.user_id == user_id, recovery_code.c.used_at.is_(None))).all())


def listing(conn) -> list[tuple[str, str, int | None]]:
    """Every user: (name, "enrolled" | "enrolling" | "none", recovery codes left)."""
    factors = {r.user_id: r.confirmed_at for r in conn.execute(
        select(two_factor.c.user_id, two_factor.c.confirmed_at))}
    out = []
    for user_id, name in conn.execute(select(app_user.c.id, app_user.c.username)
                                      .order_by(app_user.c.username)):
        if user_id not in factors:
            out.append((name, "none", None))
        elif factors[user_id] is None:
            out.append((name, "enrolling", None))
        else:
            out.append((name, "enrolled", recovery_codes_left(conn, user_id)))
    return out


def reset(conn, user_id: int) -> bool:
    """Remove the user's factor and recovery codes; True if there was a factor."""
    conn.execute(delete(recovery_code).where(recovery_code.c.user_id == user_id))
    return conn.execute(delete(two_factor).where(two_factor.c.user_id == user_id)).rowcount > 0


def _digest(code: str) -> str:
    normal = code.strip().lower().replace("-", "").replace(" ", "")
    return hashlib.sha256(normal.encode()).hexdigest()
