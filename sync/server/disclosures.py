"""Clinical notes beyond clinical staff: which releases of information cover a reader, which
notes the server may therefore send them, and the append-only log of what it sent.

The rules (docs/security.md, "Clinical notes and releases of information"; 42 CFR Part 2):
- A release covers a reader while it is in force (signed_on <= today <= expires_on, by the
  agency's date, in its time zone (fieldapp.agency), expiry day included; not revoked; not
  deleted), its scope lists
  "clinical_notes", and its recipient names the reader: "user:<username>", "role:<role>", or
  "team:<team>" for a team the reader belongs to (fieldapp.records.release_problems).
- A clinical note concerns the people it names (`person_ids`): its encounter's people as the
  clinician's laptop held them when she wrote it. Notes are append-only and only clinicians
  write them, so no later edit of the encounter (its people changed by anyone, another record
  joined to it) changes whom a note concerns. A reader outside CLINICAL_ROLES gets a note only
  while every one of those people has a release covering that reader; a note naming no one,
  or written before notes named their people, reaches no such reader. Team scope stays on
  top: only notes of the reader's own teams.
- Each note sent to such a reader is logged "disclosed" with its legal basis (the release ids).
  Which notes a device holds follows from that log, so when the cover ends the next pull tells
  the device to delete them ("withdrawn", logged too), and a note newly covered after the
  device's cursor passed it is sent with the next pull. Should either answer be lost, the
  end-of-sync count and hash (which count covered notes) differ and the laptop's repair
  fetches the note, or asks about it and is told it is out of scope (sync/server/recovery.py).
"""

import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, insert, or_, select

from fieldapp.timeutil import now_iso

from .. import protocol as P
from . import agency_settings
from .accounts import Caller
from .tables import disclosure, record

NOTE_TABLE = "clinical_note"
RELEASE_TABLE = "release_of_information"
SCOPE = "clinical_notes"
DISCLOSED, WITHDRAWN = "disclosed", "withdrawn"
SYSTEM_ROLE = "system"  # the server acting for an agency tool (imports.system_caller)
_CHUNK = 200  # LIKE terms per query


def today(conn, settings: dict | None = None) -> date:
    """Today in the agency's time zone, for release validity: a release that expires today
    covers its reader until midnight on the agency's clock, not the server's. `settings`:
    the agency's settings when the caller has read them already."""
    return datetime.now(ZoneInfo((settings or agency_settings.read(conn))["time_zone"])).date()


def needs_release(caller: Caller) -> bool:
    """Whether this reader sees clinical notes only under a release."""
    return caller.role not in P.CLINICAL_ROLES and caller.role != "admin"


def covers(release: dict, caller: Caller, on: date) -> bool:
    """Whether a release (its stored fields) is in force on `on` and covers this reader."""
    if release.get("revoked_at"):
        return False
    day = on.isoformat()
    if not (str(release.get("signed_on") or "9999") <= day <= str(release.get("expires_on") or "")):
        return False
    if SCOPE not in [s.strip() for s in str(release.get("scope") or "").split(",")]:
        return False
    kind, _, name = str(release.get("recipient") or "").partition(":")
    return ((kind == "user" and name == caller.username)
            or (kind == "role" and name == caller.role)
            or (kind == "team" and name in caller.teams))


# Read for every pull and summary of a reader who needs a release: built once.
_RELEASES = select(record.c.id, record.c.data).where(record.c.table_name == RELEASE_TABLE,
                                                     record.c.deleted.is_(False))
_HELD = (select(disclosure.c.record_id, disclosure.c.event)
         .where(disclosure.c.reader == bindparam("reader"),
                disclosure.c.device_id == bindparam("device_id"))
         .order_by(disclosure.c.id))


def covered_notes(conn, caller: Caller, settings: dict | None = None) -> dict[str, list[str]]:
    """Clinical notes of the caller's teams that releases let this reader hold now:
    note id -> the ids of the covering releases. Empty for clinical staff (who read every
    note of their teams anyway) and for admins (who read no records)."""
    if not needs_release(caller):
        return {}
    releases = conn.execute(_RELEASES).all()
    if not releases:  # the agency's settings (its day) are read only when a release is there
        return {}
    on = today(conn, settings)
    by_person: dict[str, set[str]] = {}
    for rid, data in releases:
        release = json.loads(data)
        if covers(release, caller, on) and release.get("person_id"):
            by_person.setdefault(release["person_id"], set()).add(rid)
    if not by_person:
        return {}
    out = {}
    for nid, data in _matching(conn, caller, NOTE_TABLE, list(by_person)):
        people = subjects(json.loads(data))
        if people and all(p in by_person for p in people):
            out[nid] = sorted(set().union(*(by_person[p] for p in people)))
    return out


def subjects(note: dict) -> list[str]:
    """Whom a clinical note (its stored fields) is about; [] when it names no one."""
    people = note.get("person_ids") or []
    if isinstance(people, str):
        try:
            people = json.loads(people)
        except ValueError:
            return []
    return [p for p in people if isinstance(p, str)] if isinstance(people, list) else []


def _matching(conn, caller: Caller, table: str, ids: list[str]):
    """(id, data) of live `table` records of the caller's teams whose data mentions any of
    `ids` (a coarse text match; callers check the parsed field)."""
    for start in range(0, len(ids), _CHUNK):
        terms = [record.c.data.contains(i, autoescape=True) for i in ids[start:start + _CHUNK]]
        yield from conn.execute(select(record.c.id, record.c.data).where(
            record.c.table_name == table, record.c.team.in_(caller.teams),
            record.c.deleted.is_(False), or_(*terms)))


def held(conn, caller: Caller) -> set[str]:
    """Notes this log says the caller's device holds: disclosed and not withdrawn since."""
    latest = {}
    for record_id, event in conn.execute(
            _HELD, {"reader": caller.username, "device_id": caller.device_id}):
        latest[record_id] = event
    return {i for i, event in latest.items() if event == DISCLOSED}


def log(conn, caller: Caller, event: str, notes: dict[str, list[str]]) -> None:
    """Append one row per note: what was sent to (or withdrawn from) whom, and on what basis."""
    if not notes:
        return
    at = now_iso()
    conn.execute(insert(disclosure), [
        {"at": at, "event": event, "record_table": NOTE_TABLE, "record_id": i,
         "reader": caller.username, "reader_role": caller.role, "device_id": caller.device_id,
         "release_ids": json.dumps(basis)} for i, basis in notes.items()])


def log_served(conn, caller: Caller, rows, covered: dict[str, list[str]]) -> None:
    """Log every covered note among rows about to be sent to the caller."""
    log(conn, caller, DISCLOSED, {r["id"]: covered[r["id"]] for r in rows
                                  if r["table_name"] == NOTE_TABLE and r["id"] in covered})


def release_write_problem(caller: Caller, kind: str, fields) -> str | None:
    """Why this caller may not make this change to a release, or None. Clinical staff record
    releases (so no one grants themselves access), and so does the server's own import of
    signed forms (`tandem-server releases import`, run by the agency); anyone on the team may
    record that the person revoked one, which only narrows what is disclosed."""
    if caller.role in P.CLINICAL_ROLES or caller.role == SYSTEM_ROLE:
        return None
    if kind == "patch" and isinstance(fields, dict) and set(fields) == {"revoked_at"} \
            and fields["revoked_at"]:
        return None
    return (f"only {' or '.join(sorted(P.CLINICAL_ROLES))} may record or change a release of "
            "information; others may only record its revocation")
