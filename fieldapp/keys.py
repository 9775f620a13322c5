"""Each user's data key: made at random, kept only wrapped by a key derived from their password.

The data key (256 random bits) encrypts the user's cache through SQLCipher. At rest it exists
only wrapped: AES-256-GCM under a key derived from the password with scrypt. The wrapped key,
its salt and the scrypt parameters go to the OS keyring when one is available, otherwise to a
JSON file beside the cache. Either way a thief with the cache and the wrapped key still needs
the password, and each guess costs one scrypt run.

scrypt parameters (stored with each wrapped key, so they can be raised later):
  n = 2**17, r = 8, p = 1: 128 MiB of memory and about 0.4 s per guess on a 2-core laptop (bench/bench_kdf.py).
Changing the password rewraps the same data key, so the cache is never re-encrypted.

keyring (whose import pulls in urllib and http.client) and cryptography are imported when a key
is first stored, loaded or sealed, not with this module: the sign-in window starts without them.
"""

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from . import files
from .errors import KeyMissing, WrongPassword

KEYRING_SERVICE = "Tandem"


@dataclass(frozen=True)
class KdfParams:
    n: int = 2**17
    r: int = 8
    p: int = 1


DEFAULT_KDF = KdfParams()


def new_data_key() -> bytes:
    return os.urandom(32)


def _derive(password: str, salt: bytes, params: KdfParams) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=params.n, r=params.r, p=params.p,
        maxmem=256 * params.n * params.r + (1 << 20), dklen=32,
    )


def wrap(data_key: bytes, password: str, label: str, params: KdfParams | None = None) -> dict:
    """The data key sealed under the password; `label` (the username) is bound into the seal."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    params = params or DEFAULT_KDF
    salt, nonce = os.urandom(16), os.urandom(12)
    sealed = AESGCM(_derive(password, salt, params)).encrypt(nonce, data_key, label.encode())
    return {
        "version": 1, "kdf": "scrypt", "n": params.n, "r": params.r, "p": params.p,
        "salt": base64.b64encode(salt).decode(), "nonce": base64.b64encode(nonce).decode(),
        "wrapped": base64.b64encode(sealed).decode(), "label": label,
    }


def unwrap(wrapped: dict, password: str) -> bytes:
    params = KdfParams(wrapped["n"], wrapped["r"], wrapped["p"])
    key = _derive(password, base64.b64decode(wrapped["salt"]), params)
    # cryptography is imported after the derivation, so the derivation never waits for it
    # (it may be being imported on another thread, e.g. by the sign-in window's worker).
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        return AESGCM(key).decrypt(
            base64.b64decode(wrapped["nonce"]), base64.b64decode(wrapped["wrapped"]),
            wrapped["label"].encode(),
        )
    except InvalidTag:
        raise WrongPassword("the password does not match") from None


def _keyring():
    """The keyring package, imported on first use."""
    import keyring
    import keyring.errors  # keyring.errors is used through the package

    return keyring


def keyring_available() -> bool:
    """True when the OS offers a real keyring (not the 'fail' or 'null' placeholders)."""
    backend = _keyring().get_keyring()
    return getattr(backend, "priority", 0) > 0 and "fail" not in type(backend).__module__


def keyring_backend_name() -> str:
    backend = _keyring().get_keyring()
    return f"{type(backend).__module__}.{type(backend).__name__}"


class KeyStore:
    """Where one cache's wrapped key lives: the OS keyring, or a file beside the cache."""

    def __init__(self, cache_path: Path):
        self.cache_path = Path(cache_path)
        self.file_path = self.cache_path.with_name("key.json")
        self.entry = f"wrapped-key:{self.cache_path.resolve()}"

    @property
    def location(self) -> str:
        return "keyring" if keyring_available() else f"file {self.file_path}"

    def save(self, wrapped: dict) -> None:
        text = json.dumps(wrapped)
        if keyring_available():
            _keyring().set_password(KEYRING_SERVICE, self.entry, text)
            self.file_path.unlink(missing_ok=True)
            return
        files.write_whole(self.file_path, text.encode())

    def load(self) -> dict:
        """The file first: it exists only when the last save went to it (a save to the keyring
        removes it), so it holds the current key even if the keyring keeps an older one, and a
        laptop without a keyring signs in without loading the keyring package."""
        if self.file_path.exists():
            return json.loads(self.file_path.read_text())
        if keyring_available():
            keyring = _keyring()
            try:
                text = keyring.get_password(KEYRING_SERVICE, self.entry)
            except keyring.errors.KeyringError:
                text = None
            if text:
                return json.loads(text)
        raise KeyMissing(
            f"no key for {self.cache_path}: sign in online again to restore access to this cache"
        )

    def exists(self) -> bool:
        try:
            self.load()
            return True
        except KeyMissing:
            return False

    def delete(self) -> None:
        if keyring_available():
            keyring = _keyring()
            try:
                keyring.delete_password(KEYRING_SERVICE, self.entry)
            except keyring.errors.PasswordDeleteError:
                pass
        self.file_path.unlink(missing_ok=True)
