"""The laptop's copy of the team roster (fieldapp/roster.py), fetched whole on every sync (it
rides on the first pull page): a few dozen names, cheaper to send again than to track. A
server too old to have one leaves the laptop's copy as it is."""

from fieldapp import roster
from fieldapp.session import Session

from .transport import SyncFailed, Transport


def pull_roster(session: Session, transport: Transport,
                members: list | None = None) -> tuple[int, bool]:
    """Replace the roster with the server's (`members`, when the pull brought them); returns
    how many members it has, and whether that changed the laptop's copy."""
    if members is None:
        try:
            members = transport.call("GET", "/roster")["members"]
        except SyncFailed as e:
            if e.status == 404:
                return 0, False  # an older server: partners are whoever this laptop knows
            raise
    return len(members), roster.replace(session, members)
