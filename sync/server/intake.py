"""The CRC intake board's data and actions: sign-in sessions, the rows it shows, the CRC's
half of each drop-off's clock (the center's posted status is crc_status.py's).

Staff sign in through login.sign_in like everyone else (throttling, the second factor, the
audit trail); a board session starts only after it accepts them and only for crc_intake.

Intake staff (role `crc_intake`) see the pre-arrival notices of every team, but only the
fields in records.NOTICE_SHOWN, with the unit's and the CRC's arrival and check-in times. Their
stamps become ordinary `crc_checkin` records written through exchange.push within the notice's
team, so they reach the unit's laptop on its next sync like any change. The HTTP side (pages,
cookies, CSRF) is intake_web.py's.
"""

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import insert, select, text, update

from fieldapp.clock import HybridClock
from fieldapp.ids import new_id
from fieldapp.records import NOTICE_SHOWN
from fieldapp.timeutil import now_iso, parse_iso, to_iso, utc_now

from .. import protocol as P
from . import accounts, audit, change_log, exchange
from .tables import BOARD_TABLES, app_user, intake_session, record

BOARD_HOURS = 12  # notices sent this long ago still show (a shift)
CANCELLED_MINUTES = 30  # a cancelled notice shows this long, marked cancelled
SESSION_HOURS = 12  # a sign-in lasts at most a shift
IDLE_MINUTES = 30  # a board that stopped asking (tab closed, screen off) is signed out
STAMPS = ("arrived_at", "checked_in_at")
NOT_INTAKE = ("this account is not a CRC intake account; the intake board is for CRC intake "
              "staff")


class IntakeError(Exception):
    """An action the board refuses; the message says why."""


@dataclass(frozen=True)
class Staff:
    user_id: int
    username: str
    display_name: str


# --- sign-in ------------------------------------------------------------------------------

def start_session(conn, username: str, address: str) -> str:
    """A new board session token for a user login.sign_in has just accepted (password and
    second factor), else IntakeError. Only crc_intake accounts get one; the cookie holds the
    token, the database its hash. Both outcomes are admin audit events."""
    user = intake_account(conn, username, address)
    token = secrets.token_urlsafe(32)
    now = now_iso()
    conn.execute(insert(intake_session).values(token_hash=_digest(token), user_id=user["id"],
                                               created_at=now, last_seen_at=now))
    audit.record(conn, "intake.session_started", actor=username, target=f"user:{username}",
                 address=address)
    return token


def intake_account(conn, username: str, address: str):
    """The user's row if it is a crc_intake account; else the refusal is audited (committed)
    and IntakeError raised. Ask only once the password is proven, so the role of an account
    is told to no one who does not hold its password."""
    user = accounts.find_user(conn, username)
    if user is not None and user["role"] == P.INTAKE_ROLE:
        return user
    audit.record(conn, "intake.refused", actor=username, target=f"user:{username}",
                 outcome="refused", address=address,
                 detail={"why": "not a crc_intake account", "role": user and user["role"]})
    conn.commit()  # leaving engine.begin() by the exception would roll the event back
    raise IntakeError(NOT_INTAKE)


def staff_for(conn, token: str | None) -> Staff | None:
    """Who a session token belongs to, if it is live (and mark it seen); else None."""
    if not token or len(token) > 200:
        return None
    row = conn.execute(
        select(intake_session.c.token_hash, intake_session.c.created_at,
               intake_session.c.last_seen_at, intake_session.c.ended_at, app_user.c.id,
               app_user.c.username, app_user.c.display_name, app_user.c.role,
               app_user.c.disabled)
        .join(app_user, app_user.c.id == intake_session.c.user_id)
        .where(intake_session.c.token_hash == _digest(token))).mappings().first()
    now = utc_now()
    if (row is None or row["ended_at"] or row["disabled"] or row["role"] != P.INTAKE_ROLE
            or parse_iso(row["created_at"]) + timedelta(hours=SESSION_HOURS) < now
            or parse_iso(row["last_seen_at"]) + timedelta(minutes=IDLE_MINUTES) < now):
        return None
    conn.execute(update(intake_session).where(intake_session.c.token_hash == row["token_hash"])
                 .values(last_seen_at=to_iso(now)))
    return Staff(row["id"], row["username"], row["display_name"])


def sign_out(conn, staff: Staff, token: str, address: str) -> None:
    conn.execute(update(intake_session).where(intake_session.c.token_hash == _digest(token),
                                              intake_session.c.ended_at.is_(None))
                 .values(ended_at=now_iso()))
    audit.record(conn, "intake.session_ended", actor=staff.username,
                 target=f"user:{staff.username}", address=address)


def csrf_token(token: str) -> str:
    """The form token of a session: derived from its secret, so nothing more is stored."""
    return hashlib.sha256(f"intake-csrf:{token}".encode()).hexdigest()


def _is_id(value: str) -> bool:
    """A record id as laptops make them (UUID text), so it can go in a query as it is."""
    return (isinstance(value, str) and len(value) == 36
            and all(c in "0123456789abcdef-" for c in value.lower()))


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


# --- what the board shows ---------------------------------------------------------------------

def _since(hours: float) -> str:
    """The clock stamp prefix of `hours` ago (stamps begin with wall-clock milliseconds)."""
    return f"{int((utc_now() - timedelta(hours=hours)).timestamp() * 1000):013d}"


def _recent(conn, table: str, hours: float) -> list[tuple[str, str, dict]]:
    return [(r.id, r.team, json.loads(r.data)) for r in conn.execute(
        select(record.c.id, record.c.team, record.c.data).where(
            record.c.table_name == table, text(BOARD_TABLES),
            record.c.created_hlc >= _since(hours), record.c.deleted.is_(False)))]


def rows(conn) -> list[dict]:
    """The board's rows, incoming first (soonest ETA first), then arrived, then checked in
    (latest first). Each row holds the notice's shown fields, its state, and the unit's and
    the CRC's times; nothing else of any record."""
    now = utc_now()
    start = to_iso(now - timedelta(hours=BOARD_HOURS))
    # A laptop may push a notice well after its clock stamp (offline): read a margin wider.
    notices = [(i, d) for i, _team, d in _recent(conn, "crc_notice", 2 * BOARD_HOURS)
               if d["sent_at"] >= start]
    ids = {i for i, _ in notices}
    unit = {d["notice_id"]: d for _, _, d in _recent(conn, "crc_dropoff", 3 * BOARD_HOURS)
            if d.get("notice_id") in ids}
    crc = {d["notice_id"]: {**d, "id": i}
           for i, _, d in _recent(conn, "crc_checkin", 3 * BOARD_HOURS)
           if d["notice_id"] in ids}
    out = []
    for notice_id, notice in notices:
        mine, theirs = crc.get(notice_id, {}), unit.get(notice_id, {})
        if notice.get("cancelled_at"):
            if parse_iso(notice["cancelled_at"]) < now - timedelta(minutes=CANCELLED_MINUTES):
                continue
            state = "cancelled"
        elif mine.get("checked_in_at"):
            state = "checked_in"
        elif mine.get("arrived_at") or theirs.get("arrived_at"):
            state = "arrived"
        else:
            state = "incoming"
        out.append({
            "id": notice_id, "state": state,
            **{k: notice.get(k) for k in NOTICE_SHOWN},
            "unit_arrived_at": theirs.get("arrived_at"),
            "unit_handed_off_at": theirs.get("handed_off_at"),
            "crc_arrived_at": mine.get("arrived_at"),
            "crc_checked_in_at": mine.get("checked_in_at")})
    order = {"incoming": 0, "cancelled": 0, "arrived": 1, "checked_in": 2}
    out.sort(key=lambda r: (order[r["state"]], r["eta_at"] if order[r["state"]] < 2 else
                            _negated(r["crc_checked_in_at"])))
    return out


def _negated(text: str) -> str:
    """Sorts ISO times newest first."""
    return "".join(chr(0x10FFFF - ord(c)) for c in text)


# --- the CRC's half of the clock ------------------------------------------------------------

def stamp(conn, staff: Staff, notice_id: str, what: str) -> dict:
    """Stamp now as the CRC's arrival (`arrived_at`) or check-in (`checked_in_at`) of a
    notice's drop-off; a stamp already made stays (a second click changes nothing). Returns
    the CRC's half as now stored."""
    if what not in STAMPS:
        raise IntakeError(f"unknown stamp {what!r}")
    if not _is_id(notice_id):
        raise IntakeError("no such notice")
    # Excluding every other writer orders this with them, so two staff clicking at once make
    # one record, never two.
    change_log.exclude_writers(conn)
    found = conn.execute(select(record.c.team, record.c.data).where(
        record.c.id == notice_id, record.c.table_name == "crc_notice",
        record.c.deleted.is_(False))).first()
    if found is None:
        raise IntakeError("no such notice")
    if json.loads(found.data).get("cancelled_at"):
        raise IntakeError("the unit cancelled this notice")
    caller = accounts.Caller(staff.user_id, staff.username, P.INTAKE_ROLE, (found.team,),
                             f"intake:{staff.username}"[:64])
    current = next((r for r in conn.execute(
        select(record.c.id, record.c.data, record.c.version).where(
            record.c.table_name == "crc_checkin", record.c.team == found.team,
            record.c.data.contains(notice_id), record.c.deleted.is_(False)))
        if json.loads(r.data)["notice_id"] == notice_id), None)
    now = now_iso()
    have = json.loads(current.data) if current else {}
    if have.get(what):
        return have
    values = {what: now}
    op = {"op_id": new_id(), "table": "crc_checkin", "hlc": HybridClock(caller.device_id).now()}
    if current is None:
        record_id = new_id()
        op.update(record_id=record_id, kind="create", fields={"notice_id": notice_id, **values},
                  base={}, base_version=0)
    else:
        record_id = current.id
        op.update(record_id=record_id, kind="patch", fields=values,
                  base={k: have.get(k) for k in values}, base_version=current.version)
    [result] = exchange.push(conn, caller, [op])
    if result["status"] not in (P.APPLIED, P.CONFLICT):
        raise IntakeError(result.get("reason", "the stamp was refused"))
    return {**have, **values}
