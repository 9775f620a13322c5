"""Where a laptop keeps its refresh token, and wiping a revoked device's copy.

The token goes to the OS keyring when there is one, else inside the encrypted cache; never a
plain file. It rotates at every use (sync/server/accounts.py): before asking, the laptop makes
and stores the next token beside the current one, in one write; once the server agrees, the
next one becomes the current one, in one write. A crash or a lost answer at any point leaves
the pair, and asking again with the same pair gets the same answer, so nothing strands it.
The tokens it retired stay in the encrypted cache (the newest P.EARLIER_TOKENS_MAX): a server
restored from a backup, or failed over, knows one of them as current, and is offered them
when it does not know this one, so a restore does not sign the fleet out.

The access token (minutes long) stays in the encrypted cache with when it runs out, so a sync
refreshes it only when it is about to run out (transport.ACCESS_MARGIN_S), a sync ahead: a
sync's requests then go on the main thread's token; the pull's fetcher never refreshes (a
request of its that would is asked again on the main thread, transport.RefreshNeeded).

A revoked device deletes the user's cache, wrapped key and token, then reports it.
"""

import json
import secrets
import shutil
import threading
import time
from datetime import datetime, timezone

import keyring
import keyring.errors
import requests

from fieldapp import keys
from fieldapp.session import Session
from fieldapp.timeutil import parse_iso, to_iso

from . import protocol as P
from .transport import SyncFailed, Transport

ACCESS_KEPT_MIN_S = 300  # a kept access token with less left is refreshed as a sync begins
_rotating = threading.Lock()  # one rotation at a time in this process (each thread's Session)


def _keyring_entry(session: Session) -> str:
    return f"refresh-token:{session.cache_path.resolve()}"  # _wipe_path names it too


class RefreshTokens:
    """This laptop's refresh token, and the next one while a rotation is under way."""

    def __init__(self, session: Session):
        self.session = session

    def load(self) -> tuple[str | None, str | None]:
        """(current, proposed next or None)."""
        if keys.keyring_available():
            try:
                stored = keyring.get_password(keys.KEYRING_SERVICE, _keyring_entry(self.session))
            except keyring.errors.KeyringError:
                stored = None
            if stored:
                if not stored.startswith("{"):  # no rotation under way: the token alone
                    return stored, None
                pair = json.loads(stored)
                return pair["current"], pair["next"]
        row = self.session.db.execute("SELECT refresh_token, next_refresh_token "
                                      "FROM sync_credential WHERE id = 1").fetchone()
        return (row[0], row[1]) if row else (None, None)

    def save(self, current: str, proposed: str | None = None) -> None:
        """Both tokens in one write: the keyring entry, else the cache's one row."""
        if keys.keyring_available():
            keyring.set_password(keys.KEYRING_SERVICE, _keyring_entry(self.session),
                                 json.dumps({"current": current, "next": proposed})
                                 if proposed else current)
            with self.session.db.atomic():
                self.session.db.execute("DELETE FROM sync_credential")
            return
        with self.session.db.atomic():
            self.session.db.execute(
                "INSERT OR REPLACE INTO sync_credential (id, refresh_token, next_refresh_token) "
                "VALUES (1, ?, ?)", [current, proposed])

    def propose(self) -> tuple[str | None, str]:
        """(current, next): the next token is made and stored once, and kept until the server
        agrees to it, so every retry proposes the same one."""
        with _rotating:
            current, proposed = self.load()
            if current and not proposed:
                proposed = secrets.token_urlsafe(32)
                self.save(current, proposed)
            return current, proposed

    def rotated(self, token: str) -> None:
        with _rotating:
            current = self.load()[0]
            if current and current != token:
                db = self.session.db
                with db.atomic():
                    db.execute("INSERT INTO retired_refresh_token (token) VALUES (?)", [current])
                    db.execute("DELETE FROM retired_refresh_token WHERE seq <= (SELECT max(seq) "
                               "FROM retired_refresh_token) - ?", [P.EARLIER_TOKENS_MAX])
            self.save(token)

    def keep_access(self, token: str, expires: float) -> None:
        with self.session.db.atomic():
            self.session.db.execute("INSERT OR REPLACE INTO access_token (id, token, expires_at) "
                                    "VALUES (1, ?, ?)", [token, to_iso(_at(expires))])

    def access(self) -> tuple[str | None, float | None]:
        """The access token kept from an earlier sync, and when it runs out; (None, None)
        when it has less than a sync's length left."""
        row = self.session.db.execute(
            "SELECT token, expires_at FROM access_token WHERE id = 1").fetchone()
        if row is None or parse_iso(row[1]).timestamp() - time.time() < ACCESS_KEPT_MIN_S:
            return None, None
        return row[0], parse_iso(row[1]).timestamp()

    def earlier(self) -> list[str]:
        """The tokens this laptop retired, newest first."""
        return [r[0] for r in self.session.db.execute(
            "SELECT token FROM retired_refresh_token ORDER BY seq DESC LIMIT ?",
            [P.EARLIER_TOKENS_MAX])]


def _at(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, timezone.utc)


def transport_for(session: Session, server_url: str | None = None,
              http: requests.Session | None = None, **options) -> Transport:
    """HTTP to this laptop's server (or `server_url`) that keeps every rotated refresh token:
    every caller that authenticates as this laptop goes through it."""
    url = server_url or session.db.execute(
        "SELECT server_url FROM sync_state WHERE id = 1").fetchone()[0]
    tokens = RefreshTokens(session)
    access, expires = tokens.access()
    return Transport(url, http or requests.Session(), tokens.load()[0], access_token=access,
                     access_expires=expires, tokens=tokens, **options)


def save_refresh_token(session: Session, token: str) -> None:
    """A fresh sign-in's token becomes the current one."""
    RefreshTokens(session).rotated(token)


def keep_access_token(session: Session, token: str, expires_in: float) -> None:
    """A sign-in's access token, kept for the syncs of its next minutes."""
    RefreshTokens(session).keep_access(token, time.time() + float(expires_in))


def load_refresh_token(session: Session) -> str | None:
    return RefreshTokens(session).load()[0]


def wipe(session: Session) -> None:
    """A revoked device: remove this user's cache, its wrapped key and its token."""
    path = session.cache_path
    session.close()
    _wipe_path(path)


def _wipe_path(path) -> None:
    if keys.keyring_available():
        try:
            keyring.delete_password(keys.KEYRING_SERVICE, f"refresh-token:{path.resolve()}")
        except keyring.errors.PasswordDeleteError:
            pass
    keys.KeyStore(path).delete()
    shutil.rmtree(path.parent, ignore_errors=True)


def wipe_and_report(session: Session, transport: Transport, refresh_token: str | None) -> None:
    """Wipe, then tell the server it is done (signed by the last refresh token) so the
    agency's wipe log shows it; one try, since the copy is gone either way."""
    wipe(session)
    _report_wiped(transport, refresh_token)


def wipe_locked_and_report(cache_path, transport: Transport) -> None:
    """Wipe a copy that could not be opened (its password was reset), found revoked at an
    online sign-in; reported when its refresh token is in the keyring (else it is inside the
    copy, which stays unread)."""
    token = None
    if keys.keyring_available():
        try:
            stored = keyring.get_password(keys.KEYRING_SERVICE,
                                          f"refresh-token:{cache_path.resolve()}")
        except keyring.errors.KeyringError:
            stored = None
        token = stored and (json.loads(stored)["current"] if stored.startswith("{") else stored)
    _wipe_path(cache_path)
    _report_wiped(transport, token)


def _report_wiped(transport: Transport, refresh_token: str | None) -> None:
    if not refresh_token:
        return
    transport.max_attempts = 1
    try:
        transport.call("POST", "/wiped", auth=False, body={"refresh_token": refresh_token})
    except (SyncFailed, requests.RequestException):
        pass
