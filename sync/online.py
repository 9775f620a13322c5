"""Online sign-in on a laptop: the first one makes the user's cache (profile from the
server); every one registers this device and keeps a fresh refresh token. And moving a
signed-in laptop to the agency server's new address (Settings)."""

import json
from pathlib import Path

import requests

from fieldapp.errors import TandemError
from fieldapp.session import Profile, Session, create_cache, unlock

from .credentials import load_refresh_token, save_refresh_token, wipe_and_report
from .transport import DeviceRevoked, SyncFailed, Transport


def login(data_dir: Path, server_url: str, username: str, password: str, *,
          device_name: str = "", http: requests.Session | None = None) -> Session:
    """Sign in online: on first sign-in make the user's cache (profile from the server), then
    register this device and keep the refresh token. Returns the open session."""
    transport = Transport(server_url, http or requests.Session(), max_attempts=3)  # someone waits
    credentials = {"username": username, "password": password}
    try:
        session = unlock(data_dir, username, password)
    except TandemError:
        if (Path(data_dir) / "users" / username / "cache.db").exists():
            raise
        who = transport.call("POST", "/login", body=credentials, auth=False)["profile"]
        profile = Profile(who["username"], who["role"], tuple(who["teams"]), who["display_name"])
        session = create_cache(data_dir, profile, password)
    try:
        answer = transport.call("POST", "/login", auth=False, body={
            **credentials, "device_id": session.device_id, "device_name": device_name})
    except DeviceRevoked:
        wipe_and_report(session, transport, load_refresh_token(session))
        raise
    except BaseException:
        session.close()
        raise
    who = answer["profile"]
    with session.db.atomic():
        session.db.execute("UPDATE sync_state SET server_url = ? WHERE id = 1",
                           [transport.server_url])
        session.db.execute("UPDATE profile SET role = ?, teams = ?, display_name = ? WHERE id = 1",
                           [who["role"], json.dumps(who["teams"]), who["display_name"]])
    save_refresh_token(session, answer["refresh_token"])
    return session



def change_server(session: Session, server_url: str, *,
                  http: requests.Session | None = None) -> str:
    """Point this laptop at the agency server's new address, after checking it: it must answer
    as a Tandem agency server and accept this laptop's sign-in (the refresh token, so it is
    the same agency, not merely a server). Raises what the check met (the address stays as
    it was); returns the address as saved."""
    transport = Transport(server_url, http or requests.Session(), load_refresh_token(session),
                          max_attempts=2, backoff_s=0.2)
    health = transport.call("GET", "/health", auth=False)
    if health.get("status") != "ok" or "epoch" not in health:
        raise SyncFailed(f"{transport.server_url} answered, but not as a Tandem agency server")
    transport.call("GET", "/summary")  # signed in: refreshes the access token, or refuses it
    with session.db.atomic():
        session.db.execute("UPDATE sync_state SET server_url = ? WHERE id = 1",
                           [transport.server_url])
    return transport.server_url
