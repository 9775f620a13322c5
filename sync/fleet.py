"""What this laptop tells the agency server of itself, and a supervisor's view of the fleet.

At the start and the end of every sync the laptop reports its changes waiting and when the
oldest was made (its app version rides on every request), so the agency sees which laptops
hold unsynced work, and how old, before one dies (sync/server/fleet.py). The start rides on
the push and the pull (`outbox`), and so does the end of a sync that had nothing to do (the
server sees its check match); only a sync that changed something reports its end alone. A
report that cannot be made never stops a sync: the sync itself is what matters.

A supervisor's review screen pulls its teams' laptops (`GET /fleet`), flagged where unsynced
work is older than the agency's `unsynced_alert_hours` or a laptop has not been heard from
for `device_silent_days`.
"""

import requests

from fieldapp.session import Session

from .credentials import transport_for
from .transport import (DeviceRevoked, NoServer, SignInRejected, SyncFailed, Transport,
                        VersionMismatch)


def waiting(session: Session) -> tuple[int, str | None]:
    """(changes in the outbox, when the oldest was made)."""
    count, oldest = session.db.execute(
        "SELECT count(*), min(created_at) FROM outbox WHERE state = 'pending'").fetchone()
    return count, oldest


def outbox(session: Session) -> dict:
    """The report as the push's and pull's query parameters."""
    count, oldest = waiting(session)
    return {"pending_changes": count, **({"oldest_pending_at": oldest} if oldest else {})}


def report(session: Session, transport: Transport, sync: str, check: str | None = None, *,
           retry: bool = True) -> None:
    """Tell the server this laptop's outbox at the start or the end of a sync (alone: when
    the push carrying it failed, or the sync changed something). A refusal of the report
    alone, or a server that does not know it (older than this laptop), is let pass; so is a
    dropped connection, when the sync's work is done or has already failed. `retry=False`:
    one try."""
    count, oldest = waiting(session)
    body = {"sync": sync, "pending_changes": count, "oldest_pending_at": oldest}
    if check:
        body["check"] = check
    attempts = transport.max_attempts
    transport.max_attempts = attempts if retry else 1
    try:
        transport.call("POST", "/device/status", body=body)
    except (DeviceRevoked, VersionMismatch, SignInRejected):
        raise
    except (SyncFailed, requests.RequestException):
        pass
    finally:
        transport.max_attempts = attempts


def pull_fleet(session: Session, http: requests.Session | None = None) -> dict:
    """The supervisor's teams' laptops: {devices: [...], as_of}."""
    server_url = session.db.execute("SELECT server_url FROM sync_state WHERE id = 1").fetchone()[0]
    if not server_url:
        raise NoServer("this laptop has no agency server yet: run 'tandem login'")
    return transport_for(session, server_url, http, max_attempts=2).call("GET", "/fleet")
