"""Where a laptop keeps its refresh token, and wiping a revoked device's copy.

The token goes to the OS keyring when there is one, else inside the encrypted cache; never a
plain file. A revoked device deletes the user's cache, wrapped key and token, then reports it.
"""

import shutil

import keyring
import keyring.errors
import requests

from fieldapp import keys
from fieldapp.session import Session

from .transport import SyncFailed, Transport


def _keyring_entry(session: Session) -> str:
    return f"refresh-token:{session.cache_path.resolve()}"


def save_refresh_token(session: Session, token: str) -> None:
    """OS keyring when there is one, else inside the encrypted cache; never a plain file."""
    if keys.keyring_available():
        keyring.set_password(keys.KEYRING_SERVICE, _keyring_entry(session), token)
        with session.db.atomic():
            session.db.execute("DELETE FROM sync_credential")
        return
    with session.db.atomic():
        session.db.execute("INSERT OR REPLACE INTO sync_credential (id, refresh_token) "
                           "VALUES (1, ?)", [token])


def load_refresh_token(session: Session) -> str | None:
    if keys.keyring_available():
        try:
            token = keyring.get_password(keys.KEYRING_SERVICE, _keyring_entry(session))
        except keyring.errors.KeyringError:
            token = None
        if token:
            return token
    row = session.db.execute("SELECT refresh_token FROM sync_credential WHERE id = 1").fetchone()
    return row[0] if row else None


def wipe(session: Session) -> None:
    """A revoked device: remove this user's cache, its wrapped key and its token."""
    path = session.cache_path
    if keys.keyring_available():
        try:
            keyring.delete_password(keys.KEYRING_SERVICE, _keyring_entry(session))
        except keyring.errors.PasswordDeleteError:
            pass
    session.close()
    keys.KeyStore(path).delete()
    shutil.rmtree(path.parent, ignore_errors=True)


def wipe_and_report(session: Session, transport: Transport, refresh_token: str | None) -> None:
    """Wipe, then tell the server it is done (signed by the last refresh token) so the
    agency's wipe log shows it; one try, since the copy is gone either way."""
    wipe(session)
    if not refresh_token:
        return
    transport.max_attempts = 1
    try:
        transport.call("POST", "/wiped", auth=False, body={"refresh_token": refresh_token})
    except (SyncFailed, requests.RequestException):
        pass

