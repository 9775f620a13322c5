"""How long the password alone opens this laptop's cache: the agency's `offline_unlock_hours`
after the user's last online sign-in, which is where the second factor is checked (CJIS
advanced authentication). Past that window, offline sign-in and unlocking the app both ask for
an online sign-in; nothing in the cache is touched, so drafts and unsynced changes wait.

The window is read on the laptop's clock, which its user could set back: the latest time the
clock showed at a sign-in or unlock is kept, and a clock that reads more than CLOCK_SLACK
before it asks for an online sign-in too (which starts again from the clock as it then
reads). The server bounds the same sign-in by its own clock (a refresh-token chain lasts as
long), so sync stops on time regardless (docs/security.md).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from . import agency
from .errors import TandemError
from .timeutil import parse_iso, to_iso, utc_now

if TYPE_CHECKING:
    from .session import Session

# How far back the clock may step without asking for an online sign-in: a time service's
# correction, not a clock set back.
CLOCK_SLACK = timedelta(minutes=10)


class OnlineSignInRequired(TandemError):
    """The offline window is over: sign in online (with the second factor) to go on."""


def record_online_sign_in(session: Session, now: datetime | None = None) -> None:
    """An online sign-in succeeded (call inside its transaction)."""
    at = to_iso(now or utc_now())
    session.db.execute("UPDATE sync_state SET signed_in_online_at = ?, clock_seen_at = ? "
                       "WHERE id = 1", [at, at])


def check(session: Session, now: datetime | None = None) -> None:
    """Raise OnlineSignInRequired when the password alone may no longer open the cache."""
    now = now or utc_now()
    hours = agency.get(session.db, "offline_unlock_hours")
    row = session.db.execute(
        "SELECT signed_in_online_at, clock_seen_at FROM sync_state WHERE id = 1").fetchone()
    last = parse_iso(row[0]) if row and row[0] else None
    if last is None:
        raise OnlineSignInRequired("sign in online once (with your second factor) before the "
                                   "password alone opens Tandem offline")
    seen = parse_iso(row[1]) if row[1] else last
    if now < seen - CLOCK_SLACK:
        raise OnlineSignInRequired(
            "this laptop's clock reads earlier than it did at the last sign-in (it was set "
            "back): connect and sign in online with your code; your drafts and unsent work "
            "are kept")
    if max(now, seen) - last > timedelta(hours=hours):
        raise OnlineSignInRequired(
            f"your last online sign-in was over {hours} hours ago: connect and sign in online "
            "with your code; your drafts and unsent work are kept")
    if now > seen:
        with session.db.atomic():
            session.db.execute("UPDATE sync_state SET clock_seen_at = ? WHERE id = 1",
                               [to_iso(now)])
