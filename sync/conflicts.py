"""Conflicts the server flagged on other laptops' pushes, brought to this laptop for settling.

A conflict is detected where the losing op was pushed, so only that laptop learns of it from
its push. A supervisor settles conflicts on the team's records from their own laptop: this
copies the server's open conflicts (those on records the user may see) into the laptop's
conflict table; settling one writes a synced conflict_resolution (fieldapp.review).
"""

import requests

from fieldapp import review
from fieldapp.session import Session

from .credentials import transport_for
from .transport import NoServer


def pull_conflicts(session: Session, http: requests.Session | None = None) -> int:
    """Fetch the server's open conflicts; returns how many were new on this laptop."""
    server_url = session.db.execute("SELECT server_url FROM sync_state WHERE id = 1").fetchone()[0]
    if not server_url:
        raise NoServer("this laptop has no agency server yet: run 'tandem login'")
    transport = transport_for(session, server_url, http)
    rows = transport.call("GET", "/conflicts")["conflicts"]
    return review.store_server_conflicts(session, rows)
