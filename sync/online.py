"""Online sign-in on a laptop: password and second factor at the server, which registers this
device and starts a token chain; the first one makes the user's cache (profile from the
server). Each one restarts the offline unlock window (fieldapp/reauth.py).

The server answers a missing or wrong code with SyncFailed codes `second_factor_required`,
`second_factor_wrong` or `enrolment_required` (no authenticator yet: `start_enrolment`, then
sign in with the app's first code, whose answer carries the recovery codes, shown once);
too many failures with `throttled`. The user's own password change goes through the server
too (`change_password`), and a cache the password no longer opens is opened with the server's
recovery secret (fieldapp/recovery.py).

And moving a signed-in laptop to the agency server's new address (Settings, `change_server`).
"""

import json
from pathlib import Path
from typing import Callable

import requests

from fieldapp import cache_rebuild, changes, keys, paths, reauth, recovery
from fieldapp.errors import CacheDamaged, TandemError, WrongPassword
from fieldapp.ids import new_id
from fieldapp.session import Profile, Session, create_cache, unlock
from fieldapp.session import change_password as change_local_password
from fieldapp.timeutil import now_iso

from .credentials import (keep_access_token, load_refresh_token, save_refresh_token,
                          transport_for, wipe_and_report, wipe_locked_and_report)
from .transport import DeviceRevoked, SyncFailed, Transport


def login(data_dir: Path, server_url: str | None, username: str, password: str, *,
          code: str | None = None, device_name: str = "", http: requests.Session | None = None,
          on_recovery_codes: Callable[[list[str]], None] | None = None) -> Session:
    """Sign in online and return the open session: an existing cache is opened with the
    password (its server is used when `server_url` is None), a first sign-in makes one once
    the server has said yes. `on_recovery_codes` receives the codes of a just-finished
    enrolment, which the server gives only this once.

    A cache the password does not open (reset by an administrator, or changed on another
    laptop) is opened with the server's recovery secret for this device once the server has
    taken the password, and sealed under it from then on (fieldapp/recovery.py); a cache or
    a new one not yet sealed so asks for the secret too."""
    session, locked = None, None  # locked: the stored key of a cache the password did not open
    damaged = None  # a cache damaged beyond rebuilding, set aside: this sign-in makes a new one
    path = paths.cache_path(data_dir, username)
    try:
        session = unlock(data_dir, username, password)
    except CacheDamaged as e:
        if e.set_aside is None:
            raise
        damaged = e.set_aside
    except WrongPassword:
        locked = keys.KeyStore(path).load()
        if recovery.device_of(locked) is None:
            raise
        server_url = server_url or recovery.server_of(locked)
    except TandemError:
        if path.exists():
            raise
    if server_url is None:
        server_url = session and session.db.execute(
            "SELECT server_url FROM sync_state WHERE id = 1").fetchone()[0]
        if not server_url:
            if session:
                session.close()
            raise TandemError("enter the agency server's address to sign in online")
    transport = Transport(server_url, http or requests.Session(), max_attempts=3)  # someone waits
    sealed = session is not None and recovery.device_of(keys.KeyStore(path).load()) is not None
    device_id = (recovery.device_of(locked) if locked else
                 session.device_id if session else new_id())
    body = {"username": username, "password": password, "device_id": device_id,
            "device_name": device_name}
    if not sealed:
        body["recovery"] = True
    if code:
        body["code"] = code.strip()
    try:
        answer = transport.call("POST", "/login", auth=False, body=body)
    except DeviceRevoked:
        if session:
            wipe_and_report(session, transport, load_refresh_token(session))
        elif locked:
            wipe_locked_and_report(path, transport)
        raise
    except BaseException:
        if session:
            session.close()
        raise
    who = answer["profile"]
    secret = answer.get("recovery_secret")
    if locked:
        if not secret:
            raise TandemError("the agency server did not send this laptop's recovery secret; "
                              "ask the agency's IT")
        data_key = recovery.open_key(locked, secret)
        keys.KeyStore(path).save(recovery.seal(keys.wrap(data_key, password, username),
                                               data_key, secret, device_id,
                                               transport.server_url))
        session = unlock(data_dir, username, password)
    if session is None:
        profile = Profile(who["username"], who["role"], tuple(who["teams"]), who["display_name"])
        session = create_cache(data_dir, profile, password, device_id=device_id)
        if damaged is not None:
            session.damage_notice = cache_rebuild.started_anew(damaged)
    if secret and not locked:
        store = keys.KeyStore(path)
        store.save(recovery.seal(store.load(), session.data_key, secret, device_id,
                                 transport.server_url))
    with session.db.atomic():
        session.db.execute("UPDATE sync_state SET server_url = ? WHERE id = 1",
                           [transport.server_url])
        session.db.execute("UPDATE profile SET role = ?, teams = ?, display_name = ? WHERE id = 1",
                           [who["role"], json.dumps(who["teams"]), who["display_name"]])
        reauth.record_online_sign_in(session)
        if locked:
            changes.create(session, "audit_event", {
                "at": now_iso(), "actor": username, "action": "key_recovered",
                "outcome": "success", "detail": "the copy opened with the agency server's "
                "recovery secret and is sealed under the new password"})
    session.profile = Profile(who["username"], who["role"], tuple(who["teams"]),
                              who["display_name"])
    save_refresh_token(session, answer["refresh_token"])
    if answer.get("access_token") and answer.get("expires_in"):  # the first sync needs no refresh
        keep_access_token(session, answer["access_token"], answer["expires_in"])
    if answer.get("recovery_codes") and on_recovery_codes:
        on_recovery_codes(answer["recovery_codes"])
    return session


def change_password(session: Session, password: str, new_password: str, *,
                    code: str | None = None, http: requests.Session | None = None) -> None:
    """The user's new password, online only: the server checks the current one (and the
    authenticator's code) and the agency's rules, then this laptop reseals its data key
    under the new one. Offline it is refused and nothing changes; should the laptop stop
    between the two, the next online sign-in with the new password reseals it."""
    store = keys.KeyStore(session.cache_path)
    keys.unwrap(store.load(), password)  # WrongPassword: "the password does not match"
    transport = transport_for(session, http=http, max_attempts=3)
    body = {"password": password, "new_password": new_password}
    if code:
        body["code"] = code.strip()
    try:
        transport.call("POST", "/password", body=body)
    except (requests.ConnectionError, requests.Timeout) as e:
        raise Offline("the password was not changed: it is changed at the agency server, "
                      "which this laptop cannot reach now; try again when online") from e
    change_local_password(session.data_dir, session.username, password, new_password)
    with session.db.atomic():
        changes.create(session, "audit_event", {
            "at": now_iso(), "actor": session.username, "action": "password_changed",
            "outcome": "success", "detail": None})
    session.note_changed("audit_event")


class Offline(TandemError):
    """The agency server cannot be reached; nothing was changed."""


def start_enrolment(server_url: str, username: str, password: str, *,
                    http: requests.Session | None = None) -> dict:
    """Ask the server for a new authenticator secret: {secret, uri, issuer, account}; `uri`
    is what the QR code holds. Signing in with the app's first code completes it."""
    transport = Transport(server_url, http or requests.Session())
    return transport.call("POST", "/two-factor/enrol", auth=False,
                          body={"username": username, "password": password})


def server_of(data_dir: Path, username: str, password: str) -> str:
    """The agency server this user's cache signs in to."""
    session = unlock(data_dir, username, password)
    try:
        server = session.db.execute("SELECT server_url FROM sync_state WHERE id = 1").fetchone()[0]
    finally:
        session.close()
    if not server:
        raise TandemError("enter the agency server's address to sign in online")
    return server


def change_server(session: Session, server_url: str, *,
                  http: requests.Session | None = None) -> str:
    """Point this laptop at the agency server's new address, after checking it: it must answer
    as a Tandem agency server and accept this laptop's sign-in (its refresh token, so it is
    the same agency, not merely a server). Raises what the check met (the address stays as
    it was); returns the address as saved."""
    transport = transport_for(session, server_url, http, max_attempts=2, backoff_s=0.2)
    health = transport.call("GET", "/health", auth=False)
    if health.get("status") != "ok" or "epoch" not in health:
        raise SyncFailed(f"{transport.server_url} answered, but not as a Tandem agency server")
    transport.call("GET", "/summary")  # signed in: refreshes the access token, or refuses it
    with session.db.atomic():
        session.db.execute("UPDATE sync_state SET server_url = ? WHERE id = 1",
                           [transport.server_url])
    return transport.server_url
