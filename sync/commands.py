"""`tandem login` and `tandem sync`: headless sign-in and one sync, passwords read from stdin."""

import json
import sys
from pathlib import Path

import requests
import segno

from fieldapp.errors import TandemError
from fieldapp.headless import open_session, read_password

from . import engine, online
from .transport import SyncFailed


def login(data_dir: Path, server_url: str, username: str, code: str | None = None) -> int:
    """Password on stdin's first line; a code from `--code`, else the next line when the
    server asks for one. A user with no authenticator where the agency requires one is shown
    its QR code here, then gives the app's first code; the recovery codes are printed once."""
    try:
        password = read_password()
        while True:
            try:
                session = online.login(data_dir, server_url, username, password, code=code,
                                       on_recovery_codes=_show_recovery_codes)
                break
            except SyncFailed as e:
                if e.code == "enrolment_required":
                    started = online.start_enrolment(server_url, username, password)
                    print("Your agency requires an authenticator app. Scan this QR code with "
                          f"it (or type the key {started['secret']}):", file=sys.stderr)
                    segno.make(started["uri"], error="m").terminal(out=sys.stderr, compact=True)
                elif e.code != "second_factor_required" or code:
                    raise
                print("code from your authenticator app: ", end="", file=sys.stderr, flush=True)
                code = sys.stdin.readline().strip()
                if not code:
                    raise TandemError("no code on stdin") from None
    except (TandemError, requests.RequestException) as e:
        return _fail(f"sign-in failed: {e}")
    print(f"signed in as {username} ({session.profile.role}, teams "
          f"{', '.join(session.profile.teams)}) on {server_url}; device {session.device_id}")
    session.close()
    return 0


def _show_recovery_codes(codes: list[str]) -> None:
    print("Your one-time recovery codes (keep them somewhere safe, away from this laptop; "
          "each signs you in once without the app; they are shown only now):", file=sys.stderr)
    print("\n".join(f"  {c}" for c in codes), file=sys.stderr)


def sync(data_dir: Path, username: str | None, *, as_json: bool = False) -> int:
    try:
        session = open_session(data_dir, username)
    except TandemError as e:
        return _fail(str(e))
    try:
        summary = engine.run_sync(session)
    except (TandemError, requests.RequestException) as e:
        return _fail(f"sync failed: {e}")
    finally:
        try:
            session.close()
        except Exception:
            pass
    if as_json:
        print(json.dumps(summary))
    else:
        print(f"pushed {summary['pushed']}, pulled {summary['pulled']}, conflicts "
              f"{summary['conflicts']}, rejected {summary['rejected']}; check {summary['check']}"
              + _restore_line(summary))
    return 0


def _restore_line(summary: dict) -> str:
    """What this laptop did for a server whose restore or failover lost records."""
    parts = []
    if summary["returned"]:
        parts.append(f"gave back {summary['returned']} record(s) the agency server had lost")
    if summary["unreturned"]:
        parts.append(f"keeping {summary['unreturned']} record(s) the server lacks and only "
                     "their author may give back")
    return "".join(f"\n{p}" for p in parts)


def _fail(message: str) -> int:
    print(f"tandem: {message}", file=sys.stderr)
    return 1
