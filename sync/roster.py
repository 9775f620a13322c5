"""The laptop's copy of the team roster (fieldapp/roster.py), fetched whole on every sync: a
few dozen names, cheaper to send again than to track. A server too old to have one leaves
the laptop's copy as it is."""

from fieldapp import roster
from fieldapp.session import Session

from .transport import SyncFailed, Transport


def pull_roster(session: Session, transport: Transport) -> tuple[int, bool]:
    """Replace the roster with the server's; returns how many members it has, and whether
    that changed the laptop's copy."""
    try:
        members = transport.call("GET", "/roster")["members"]
    except SyncFailed as e:
        if e.status == 404:
            return 0, False  # an older server: partners are whoever this laptop already knows
        raise
    return len(members), roster.replace(session, members)
