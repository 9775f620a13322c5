"""The CRC's current status as intake staff post it on the board (open, at capacity,
diverting) with an expected wait. Every post is kept; the newest is in force, and every pull
carries it to laptops, which show it with its as-of time."""

from sqlalchemy import insert, select

from fieldapp.timeutil import now_iso

from .tables import crc_status

STATUSES = ("open", "at_capacity", "diverting")
WAIT_MAX = 24 * 60


class StatusError(ValueError):
    """A status the board refuses; the message says which field and why."""


def post(conn, username: str, status: str, wait_minutes: int | None) -> dict:
    if status not in STATUSES:
        raise StatusError(f"status must be one of {', '.join(STATUSES)}")
    if wait_minutes is not None and not 0 <= wait_minutes <= WAIT_MAX:
        raise StatusError(f"expected wait must be 0 to {WAIT_MAX} minutes")
    conn.execute(insert(crc_status).values(status=status, wait_minutes=wait_minutes,
                                           posted_at=now_iso(), posted_by=username))
    return current(conn)


_CURRENT = (select(crc_status.c.status, crc_status.c.wait_minutes, crc_status.c.posted_at)
            .order_by(crc_status.c.id.desc()).limit(1))  # every pull reads it: built once


def current(conn) -> dict | None:
    """The status in force ({status, wait_minutes, posted_at}), or None if none was posted."""
    row = conn.execute(_CURRENT).mappings().first()
    return dict(row) if row else None
