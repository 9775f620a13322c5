"""The admin audit trail: what administrators did on the server and what happened to accounts
(CJIS Security Policy, audit and accountability). Users, roles and teams, devices and
revocations, imports, exports and reports, settings, second factors, sign-ins and their
throttling, stamps clamped.

Append-only: this module only inserts, and database triggers refuse any UPDATE or DELETE of
`admin_audit` (migration 0007). Each event is written in the transaction of the change it
records, so the trail has an event exactly when the change happened. Read it with
`tandem-server audit [--since] [--json]`. The laptops' own audit events (views of sensitive
records, lock and unlock) are synced records, not this trail.
"""

import getpass
import json

from sqlalchemy import insert, select

from fieldapp.timeutil import now_iso

from .tables import admin_audit


def cli_actor() -> str:
    """Who runs `tandem-server` on this machine: the operating-system account."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no name for this uid (a container)
        return "cli:unknown"


def record(conn, action: str, *, actor: str, target: str = "", outcome: str = "success",
           detail: dict | None = None, address: str | None = None,
           device_id: str | None = None) -> None:
    """Append one event, in the caller's transaction. Never a secret in `detail`."""
    conn.execute(insert(admin_audit).values(
        at=now_iso(), actor=actor[:120], action=action[:64], target=target[:200],
        outcome=outcome, address=(address or None) and address[:64],
        device_id=device_id and device_id[:64],
        detail=json.dumps(detail or {}, ensure_ascii=False, default=str)))


def read(conn, since: str | None = None) -> list[dict]:
    """Events at or after `since` (ISO time text), oldest first."""
    query = select(admin_audit).order_by(admin_audit.c.id)
    if since:
        query = query.where(admin_audit.c.at >= since)
    return [{**row, "detail": json.loads(row["detail"])}
            for row in map(dict, conn.execute(query).mappings())]


def line(event: dict) -> str:
    """One event as a line of text, for `tandem-server audit`."""
    where = " ".join(part for part in (
        event["address"] and f"from {event['address']}",
        event["device_id"] and f"device {event['device_id']}") if part)
    detail = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}"
                       for k, v in event["detail"].items())
    return "  ".join(part for part in (
        event["at"], event["actor"], event["action"], event["target"], event["outcome"], where,
        detail) if part)
