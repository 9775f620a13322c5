"""Online sign-in on a laptop: password and second factor at the server, which registers this
device and starts a token chain; the first one makes the user's cache (profile from the
server). Each one restarts the offline unlock window (fieldapp/reauth.py).

The server answers a missing or wrong code with SyncFailed codes `second_factor_required`,
`second_factor_wrong` or `enrolment_required` (no authenticator yet: `start_enrolment`, then
sign in with the app's first code, whose answer carries the recovery codes, shown once);
too many failures with `throttled`.

And moving a signed-in laptop to the agency server's new address (Settings, `change_server`).
"""

import json
from pathlib import Path
from typing import Callable

import requests

from fieldapp import reauth
from fieldapp.errors import TandemError
from fieldapp.ids import new_id
from fieldapp.session import Profile, Session, create_cache, unlock

from .credentials import load_refresh_token, save_refresh_token, transport_for, wipe_and_report
from .transport import DeviceRevoked, SyncFailed, Transport


def login(data_dir: Path, server_url: str | None, username: str, password: str, *,
          code: str | None = None, device_name: str = "", http: requests.Session | None = None,
          on_recovery_codes: Callable[[list[str]], None] | None = None) -> Session:
    """Sign in online and return the open session: an existing cache is opened with the
    password (its server is used when `server_url` is None), a first sign-in makes one once
    the server has said yes. `on_recovery_codes` receives the codes of a just-finished
    enrolment, which the server gives only this once."""
    session = None
    try:
        session = unlock(data_dir, username, password)
    except TandemError:
        if (Path(data_dir) / "users" / username / "cache.db").exists():
            raise
    if server_url is None:
        server_url = session and session.db.execute(
            "SELECT server_url FROM sync_state WHERE id = 1").fetchone()[0]
        if not server_url:
            if session:
                session.close()
            raise TandemError("enter the agency server's address to sign in online")
    transport = Transport(server_url, http or requests.Session(), max_attempts=3)  # someone waits
    body = {"username": username, "password": password,
            "device_id": session.device_id if session else new_id(), "device_name": device_name}
    if code:
        body["code"] = code.strip()
    try:
        answer = transport.call("POST", "/login", auth=False, body=body)
    except DeviceRevoked:
        if session:
            wipe_and_report(session, transport, load_refresh_token(session))
        raise
    except BaseException:
        if session:
            session.close()
        raise
    who = answer["profile"]
    if session is None:
        profile = Profile(who["username"], who["role"], tuple(who["teams"]), who["display_name"])
        session = create_cache(data_dir, profile, password, device_id=body["device_id"])
    with session.db.atomic():
        session.db.execute("UPDATE sync_state SET server_url = ? WHERE id = 1",
                           [transport.server_url])
        session.db.execute("UPDATE profile SET role = ?, teams = ?, display_name = ? WHERE id = 1",
                           [who["role"], json.dumps(who["teams"]), who["display_name"]])
        reauth.record_online_sign_in(session)
    session.profile = Profile(who["username"], who["role"], tuple(who["teams"]),
                              who["display_name"])
    save_refresh_token(session, answer["refresh_token"])
    if answer.get("recovery_codes") and on_recovery_codes:
        on_recovery_codes(answer["recovery_codes"])
    return session


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
