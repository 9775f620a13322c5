"""Every export of agency data to another system (HMIS, FHIR) leaves an audit event.

`record` is the one call site both exports use. The event is an ordinary audit_event record,
written through the exchange as the server's own caller (like a CAD's assignment), so it is
kept with every other audit event: who ran the export (the account on the server's host),
what was written, how many records, and where to. When the admin audit trail of issue 16
(sync/server/audit.py) lands, this function is the one place to point at it.
"""

import getpass

from fieldapp.ids import new_id
from fieldapp.timeutil import now_iso

from .imports import create_ops, push_or_fail, system_caller


def actor() -> str:
    """Who is exporting: the account running `tandem-server` on the server's host."""
    try:
        return f"host:{getpass.getuser()}"[:64]
    except (KeyError, OSError):  # no name for this uid (a container)
        return "host:unknown"


def record(engine, action: str, team: str, detail: str, outcome: str = "success") -> None:
    """Log an export (action like "export.hmis") in its own transaction."""
    caller = system_caller(f"export:{action}", team)
    [op] = create_ops(caller, [("audit_event", new_id(), {
        "at": now_iso(), "actor": actor(), "action": action, "record_table": None,
        "record_id": None, "outcome": outcome, "detail": detail[:1000]})])
    op["kind"] = "append"  # audit events are append-only
    with engine.begin() as conn:
        push_or_fail(conn, caller, [op])
