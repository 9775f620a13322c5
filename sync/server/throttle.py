"""Sign-in throttling at the server, by account and by client address (CJIS: limit
unsuccessful logon attempts).

Each attempt is charged as a failure before its password is checked (`admit`), so guesses
sent in parallel see each other; a right password then takes the charge back (`settle`), a
wrong one starts its wait (`failed`).
The first failure of an account costs nothing, each later one doubles the wait before the
next attempt (1, 2, 4 … seconds), and the agency's `signin_lockout_failures` locks the
account for `signin_lockout_minutes`, doubled by each further failure (at most a day), until a
right password or an administrator (`tandem-server throttle clear`). An address gets
ADDRESS_FREE failures before any wait and locks at ADDRESS_LOCKOUT, so one machine cannot
spray many accounts. A count fades after a day with no failure. An attempt that must wait is
refused (429 with Retry-After) before any password is checked, and only the first refusal of
each wait is written (to the audit trail), so a flood of guesses costs the server a read each.
"""

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from fieldapp.timeutil import parse_iso, to_iso, utc_now

from .tables import signin_throttle

ADDRESS_FREE = 20
ADDRESS_LOCKOUT = 100
BACKOFF_CAP_S = 60
LOCK_CAP_S = 86_400
FADE = timedelta(days=1)


@dataclass(frozen=True)
class Policy:
    free: int  # failures that cost no wait
    lockout: int  # failures that lock
    lock_s: int  # the first lock's length


class Throttled(Exception):
    """This attempt must wait `retry_after` seconds; `key` is what is throttled. `first`: the
    first refusal of this wait (the audit trail records one event per wait, so a flood of
    refused guesses writes nothing)."""

    def __init__(self, key: str, retry_after: int, locked: bool, first: bool):
        super().__init__(f"{key} must wait {retry_after} s")
        self.key, self.retry_after, self.locked, self.first = key, retry_after, locked, first


def account_key(username: str, exists: bool) -> str:
    """A known account by name; a name with no account only by its hash, since people type
    their password into the user name field."""
    if exists:
        return f"user:{username}"
    return "user?" + hashlib.sha256(username.encode()).hexdigest()[:24]


def address_key(address: str) -> str:
    return f"address:{address}"


def policy(key: str, settings: dict) -> Policy:
    lock_s = settings["signin_lockout_minutes"] * 60
    if key.startswith("address:"):
        return Policy(ADDRESS_FREE, ADDRESS_LOCKOUT, lock_s)
    return Policy(1, settings["signin_lockout_failures"], lock_s)


def wait_s(failures: int, rule: Policy) -> int:
    """Seconds to wait after this many consecutive failures."""
    if failures <= rule.free:
        return 0
    if failures < rule.lockout:
        return min(2 ** (failures - rule.free - 1), BACKOFF_CAP_S)
    return min(rule.lock_s * 2 ** (failures - rule.lockout), LOCK_CAP_S)


def admit(conn, keys: list[str], settings: dict, now: datetime | None = None) -> None:
    """Charge one failure to each key, or raise Throttled (charging nothing) if any must
    still wait. Call in a short transaction of its own, before checking the password. A
    refusal only reads, but for the first of a wait, which marks it audited."""
    now = now or utc_now()
    _refuse_if_waiting(conn, keys, settings, now, locked=False)
    for key in keys:
        _ensure(conn, key, now)
    rows = _refuse_if_waiting(conn, keys, settings, now, locked=True)  # a parallel attempt
    for key, r in rows.items():
        faded = parse_iso(r["last_failure_at"]) < now - FADE
        failures = (0 if faded else r["failures"]) + 1
        wait = wait_s(failures, policy(key, settings))
        conn.execute(update(signin_throttle).where(signin_throttle.c.key == key).values(
            failures=failures, last_failure_at=to_iso(now),
            blocked_until=to_iso(now + timedelta(seconds=wait)) if wait else None))


def _refuse_if_waiting(conn, keys: list[str], settings: dict, now: datetime,
                       locked: bool) -> dict:
    query = select(signin_throttle).where(signin_throttle.c.key.in_(keys))
    rows = {r["key"]: r for r in conn.execute(query.with_for_update() if locked else query
                                              ).mappings()}
    waits = [(math.ceil((parse_iso(r["blocked_until"]) - now).total_seconds()), key)
             for key, r in rows.items()
             if r["blocked_until"] and parse_iso(r["blocked_until"]) > now]
    if not waits:
        return rows
    retry_after, key = max(waits)
    row = rows[key]
    first = row["audited_until"] != row["blocked_until"]
    if first:
        conn.execute(update(signin_throttle).where(signin_throttle.c.key == key)
                     .values(audited_until=row["blocked_until"]))
    raise Throttled(key, retry_after, row["failures"] >= policy(key, settings).lockout, first)


def failed(conn, keys: list[str], settings: dict, now: datetime | None = None) -> None:
    """The attempt failed: its wait runs from now, not from when it was admitted (checking
    the password took part of it)."""
    now = now or utc_now()
    for key in keys:
        row = conn.execute(select(signin_throttle.c.failures).where(
            signin_throttle.c.key == key)).first()
        wait = wait_s(row.failures, policy(key, settings)) if row else 0
        if wait:
            conn.execute(update(signin_throttle).where(signin_throttle.c.key == key).values(
                blocked_until=to_iso(now + timedelta(seconds=wait))))


def settle(conn, keys: list[str], right: bool) -> None:
    """The password (and code) were right: the account starts afresh, the address's charge
    is taken back. `right=False` with the password right but the code still to come: only
    the charge is taken back."""
    for key in keys:
        if right and not key.startswith("address:"):
            conn.execute(delete(signin_throttle).where(signin_throttle.c.key == key))
            continue
        conn.execute(update(signin_throttle).where(signin_throttle.c.key == key).values(
            failures=signin_throttle.c.failures - 1, blocked_until=None))


def state(conn, key: str, settings: dict) -> dict:
    """{failures, blocked_until, locked} for one key, after a failure (for the audit)."""
    row = conn.execute(select(signin_throttle).where(signin_throttle.c.key == key)
                       ).mappings().first()
    if row is None:
        return {"failures": 0, "blocked_until": None, "locked": False}
    return {"failures": row["failures"], "blocked_until": row["blocked_until"],
            "locked": row["failures"] >= policy(key, settings).lockout}


def listing(conn) -> list[dict]:
    """Every account and address with failures, most failures first."""
    return [dict(r) for r in conn.execute(select(signin_throttle).where(
        signin_throttle.c.failures > 0).order_by(signin_throttle.c.failures.desc(),
                                                 signin_throttle.c.key)).mappings()]


def clear(conn, key: str) -> bool:
    """An administrator releases an account or address; True if it had failures."""
    return conn.execute(delete(signin_throttle).where(signin_throttle.c.key == key)
                        ).rowcount > 0


def forget_faded(conn, now: datetime | None = None) -> int:
    """Drop counts whose last failure is older than a day and that are not locked."""
    cutoff = to_iso((now or utc_now()) - FADE)
    return conn.execute(delete(signin_throttle).where(
        signin_throttle.c.last_failure_at < cutoff,
        (signin_throttle.c.blocked_until.is_(None))
        | (signin_throttle.c.blocked_until < to_iso(now or utc_now())))).rowcount


def _ensure(conn, key: str, now: datetime) -> None:
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    conn.execute(insert(signin_throttle).values(key=key, failures=0, last_failure_at=to_iso(now))
                 .on_conflict_do_nothing())
