"""Each laptop's recovery secret: the second key its data key is sealed under.

A laptop seals its cache's data key twice: under its user's password (fieldapp/keys.py) and
under a random 256-bit secret that only this server keeps, one per device
(fieldapp/recovery.py). The laptop never stores the secret. The server hands it out only
in the answer to a successful online sign-in (password and second factor) of the device's
own user on that device, never to a revoked device or a disabled account, and every release
is in the admin audit trail. So after an administrator resets a forgotten password, the next
online sign-in with the new one opens the laptop's copy again and its unsynced work goes
out; a stolen laptop alone opens nothing (docs/security.md).
"""

import base64
import secrets

from sqlalchemy import select, update

from . import accounts, audit
from .tables import device


def release(conn, user: dict, device_id: str, address: str | None) -> str:
    """The device's secret (made on first use), for a sign-in that has just succeeded on it
    (accounts.sign_in checked the device is the user's and not revoked). Audited."""
    row = conn.execute(select(device.c.recovery_secret).where(
        device.c.id == device_id, device.c.user_id == user["id"],
        device.c.revoked_at.is_(None))).first()
    if row is None:
        raise accounts.AccountError(f"device {device_id} is revoked or not {user['username']}'s")
    secret = row.recovery_secret
    first = secret is None
    if first:
        secret = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
        conn.execute(update(device).where(device.c.id == device_id)
                     .values(recovery_secret=secret))
    audit.record(conn, "device.recovery_secret", actor=user["username"], address=address,
                 device_id=device_id, target=f"device:{device_id}",
                 detail={"made": first})
    return secret
