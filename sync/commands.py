"""`tandem login` and `tandem sync`: headless sign-in and one sync, passwords read from stdin."""

import json
import sys
from pathlib import Path

import requests

from fieldapp.errors import TandemError
from fieldapp.headless import open_session, read_password

from . import engine, online


def login(data_dir: Path, server_url: str, username: str) -> int:
    try:
        session = online.login(data_dir, server_url, username, read_password())
    except (TandemError, requests.RequestException) as e:
        return _fail(f"sign-in failed: {e}")
    print(f"signed in as {username} ({session.profile.role}, teams "
          f"{', '.join(session.profile.teams)}) on {server_url}; device {session.device_id}")
    session.close()
    return 0


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
