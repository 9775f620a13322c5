"""The data key's second seal: under a random secret the agency server keeps for this device.

The password seal (fieldapp/keys.py) is the one used every day. Beside it, in the same stored
entry, the key is sealed again (AES-256-GCM) under a 256-bit secret the server made for this
device (sync/server/device_keys.py), with this device's id bound into the seal. The laptop
never stores the secret: it asks for it in an online sign-in, uses it and forgets it. So when
the password the cache was sealed under is gone (reset by an administrator, or changed on
another laptop), the next online sign-in with the new password opens the copy again and its
unsynced work goes out; a laptop alone, without the server's answer, opens nothing.
"""

import base64
import os


def device_of(wrapped: dict) -> str | None:
    """The device whose server secret also seals this key, or None (not sealed so yet)."""
    return (wrapped.get("recovery") or {}).get("device_id")


def server_of(wrapped: dict) -> str | None:
    """The server that holds the secret: where a laptop whose password no longer opens its
    copy signs in, since the copy's own record of it is locked inside."""
    return (wrapped.get("recovery") or {}).get("server_url")


def seal(wrapped: dict, data_key: bytes, secret: str, device_id: str, server_url: str) -> dict:
    """`wrapped` (the password seal) with the key sealed under the server's secret too."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    sealed = AESGCM(_key(secret)).encrypt(nonce, data_key, _bound(wrapped, device_id))
    return {**wrapped, "recovery": {"device_id": device_id, "server_url": server_url,
                                    "nonce": base64.b64encode(nonce).decode(),
                                    "wrapped": base64.b64encode(sealed).decode()}}


def open_key(wrapped: dict, secret: str) -> bytes:
    """The data key, from the server's secret; ValueError when the secret does not open it."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    entry = wrapped["recovery"]
    try:
        return AESGCM(_key(secret)).decrypt(base64.b64decode(entry["nonce"]),
                                            base64.b64decode(entry["wrapped"]),
                                            _bound(wrapped, entry["device_id"]))
    except (InvalidTag, ValueError):
        raise ValueError("the agency server's recovery secret does not open this copy") from None


def carried(old: dict, new: dict) -> dict:
    """`new` (a fresh password seal of the same key) keeping `old`'s server seal."""
    return {**new, "recovery": old["recovery"]} if "recovery" in old else new


def _key(secret: str) -> bytes:
    key = base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))
    if len(key) != 32:
        raise ValueError("a recovery secret is 32 bytes")
    return key


def _bound(wrapped: dict, device_id: str) -> bytes:
    return f"{wrapped['label']}\n{device_id}".encode()
