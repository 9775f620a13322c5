"""The fleet's health: what each laptop last said of itself, and which need someone's attention.

At the start and the end of every sync a laptop reports (`POST /device/status`) how many of
its changes wait to reach the server and when the oldest was made; its app version comes with
every request (X-Tandem-Version). The server keeps the latest on the device's row, and the
end of a sync that finished with its check matching (or repaired) is its last good sync.

A laptop is flagged when its oldest unsynced change is older than `unsynced_alert_hours` (12),
counted to now, so a laptop that stopped reporting keeps ageing; or when it has not been heard
from (sign-in, token refresh, report) for `device_silent_days` (3). That is the work most at
risk: on a laptop that may be lost, broken or forgotten in a locker. `tandem-server devices
list` shows every device; a supervisor's laptop pulls its teams' (`GET /fleet`) for the review
screen. A revoked device is never flagged; it shows whether it confirmed its wipe.
"""

import json
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update

from fieldapp.timeutil import now_iso, parse_iso, utc_now

from . import agency_settings
from .accounts import Caller
from .tables import app_user, device, device_wipe

GOOD_CHECKS = ("ok", "repaired", "busy")  # the sync's push and pull went through
FLAG_TEXT = {"unsynced": "unsynced work older than {hours} h",
             "silent": "not heard from for {days} days"}


# Every push, pull and status report writes one (built once: building a statement costs a
# worker about as much CPU as running it).
_REPORT = update(device).where(device.c.id == bindparam("device_id")).values(
    app_version=bindparam("version"), pending_changes=bindparam("pending"),
    oldest_pending_at=bindparam("oldest"), reported_at=bindparam("now"),
    last_seen_at=bindparam("now"))
_GOOD_REPORT = _REPORT.values(last_good_sync_at=bindparam("now"))


def report(conn, caller: Caller, app_version: str, pending: int, oldest_pending_at: str | None,
           finished: bool, check: str | None) -> None:
    """A laptop's word on itself, from one sync."""
    conn.execute(_GOOD_REPORT if finished and check in GOOD_CHECKS else _REPORT, {
        "device_id": caller.device_id, "version": app_version[:40], "pending": pending,
        "oldest": oldest_pending_at if pending else None, "now": now_iso()})


def listing(conn, *, teams: tuple[str, ...] | None = None, username: str | None = None,
            flagged_only: bool = False, now: datetime | None = None) -> list[dict]:
    """Every device (of users on `teams`, or of `username`), flagged ones first, then by user
    and name; each with its state (active, revoked, wiped) and flags."""
    now = now or utc_now()
    settings = agency_settings.read(conn)
    hours, days = settings["unsynced_alert_hours"], settings["device_silent_days"]
    wiped = set(conn.scalars(select(device_wipe.c.device_id).where(device_wipe.c.event == "wiped")))
    query = (select(device, app_user.c.username, app_user.c.display_name, app_user.c.teams,
                    app_user.c.disabled)
             .join(app_user, app_user.c.id == device.c.user_id))
    if username:
        query = query.where(app_user.c.username == username)
    out = []
    for row in conn.execute(query).mappings():
        if teams is not None and not set(json.loads(row["teams"])) & set(teams):
            continue
        state = ("wiped" if row["id"] in wiped else "revoked") if row["revoked_at"] else "active"
        flags = []
        if state == "active":
            oldest = row["oldest_pending_at"]
            if row["pending_changes"] and oldest and parse_iso(oldest) < now - timedelta(
                    hours=hours):
                flags.append("unsynced")
            seen = row["last_seen_at"] or row["registered_at"]
            if parse_iso(seen) < now - timedelta(days=days):
                flags.append("silent")
        if flagged_only and not flags:
            continue
        out.append({
            "device_id": row["id"], "user": row["username"],
            "display_name": row["display_name"], "user_disabled": bool(row["disabled"]),
            "name": row["name"], "app_version": row["app_version"],
            "registered_at": row["registered_at"], "last_contact_at": row["last_seen_at"],
            "last_good_sync_at": row["last_good_sync_at"],
            "pending_changes": row["pending_changes"],
            "oldest_pending_at": row["oldest_pending_at"],
            "oldest_pending_hours": _hours(row["oldest_pending_at"], now),
            "state": state, "revoked_at": row["revoked_at"], "flags": flags,
            "flag_text": [FLAG_TEXT[f].format(hours=hours, days=days) for f in flags]})
    out.sort(key=lambda d: (not d["flags"], d["user"], d["name"], d["device_id"]))
    return out


def for_supervisor(conn, caller: Caller) -> dict:
    """The active laptops of everyone on the caller's teams, for their review screen."""
    devices = [d for d in listing(conn, teams=caller.teams) if d["state"] == "active"]
    for d in devices:
        del d["user_disabled"], d["revoked_at"]
    return {"devices": devices, "as_of": now_iso()}


def _hours(stamp: str | None, now: datetime) -> float | None:
    return round((now - parse_iso(stamp)).total_seconds() / 3600, 1) if stamp else None


def line(d: dict) -> str:
    """One device as a line of text, for `tandem-server devices list`."""
    pending = (f"{d['pending_changes']} unsynced, oldest {d['oldest_pending_hours']} h"
               if d["pending_changes"] else "nothing unsynced"
               if d["pending_changes"] is not None else "no report yet")
    parts = [d["device_id"], f"{d['user']}{' (disabled)' if d['user_disabled'] else ''}",
             repr(d["name"]), f"v{d['app_version']}" if d["app_version"] else "version unknown",
             f"last contact {d['last_contact_at'] or 'never'}",
             f"last good sync {d['last_good_sync_at'] or 'never'}", pending, d["state"]]
    if d["flags"]:
        parts.append("⚠ " + "; ".join(d["flag_text"]))
    return "  ".join(parts)

