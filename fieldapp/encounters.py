"""Encounters: what happened on a call, with the police note and the clinical note kept apart.

The police note is a field of the encounter. Clinical notes are their own append-only records
(table `clinical_note`) so the server can withhold them from readers who may not see them;
only clinicians write or read them here, and each read is audited.
"""

from . import changes, drafts
from .errors import TandemError
from .records import record_type
from .session import Session
from .timeutil import now_iso
from .validation import stored_to_python


def save_encounter(session: Session, values: dict, encounter_id: str | None = None) -> str:
    """Create the encounter, or save changes to one not yet finalized; clears its draft."""
    db = session.db
    with db.atomic():
        if encounter_id is None or not _exists(session, encounter_id):
            values = {"team": session.profile.team, "started_at": now_iso(), **values}
            encounter_id = changes.create(session, "encounter", values, record_id=encounter_id)
        else:
            current = changes.get(session, "encounter", encounter_id)
            if current["finalized_at"]:
                raise TandemError("this encounter is finalized; changes to it are amendments")
            changes.patch(session, "encounter", encounter_id, values)
        drafts.discard_draft(session, draft_key(encounter_id))
    return encounter_id


def finalize(session: Session, encounter_id: str) -> None:
    current = changes.get(session, "encounter", encounter_id)
    if current["finalized_at"]:
        return
    changes.patch(session, "encounter", encounter_id, {"finalized_at": now_iso()})


def view_encounter(session: Session, encounter_id: str) -> dict:
    """The encounter for display, audited as a view."""
    encounter = changes.get(session, "encounter", encounter_id)
    changes.audit(session, "encounter.view", "encounter", encounter_id)
    return encounter


def add_clinical_note(session: Session, encounter_id: str, body: str) -> str:
    if not session.profile.can_write_clinical:
        changes.audit(session, "clinical_note.write", outcome="denied")
        raise TandemError("only clinicians may write clinical notes")
    with session.db.atomic():
        team = session.db.execute("SELECT team FROM encounter WHERE id = ?",
                                  [encounter_id]).fetchone()  # a note is its encounter's team's
        note_id = changes.create(session, "clinical_note", {
            "encounter_id": encounter_id, "team": team[0] if team else session.profile.team,
            "body": body, "written_at": now_iso()})
        drafts.discard_draft(session, clinical_draft_key(encounter_id))
    return note_id


def clinical_notes(session: Session, encounter_id: str) -> list[dict]:
    """An encounter's clinical notes, read by clinical staff, or by anyone else only where the
    server disclosed them under a release (it sends no others to this laptop); audited."""
    changes.get(session, "encounter", encounter_id)
    rows = [stored_to_python(record_type("clinical_note"), r) for r in session.db.query(
        "SELECT * FROM clinical_note WHERE encounter_id = ? AND deleted = 0 ORDER BY written_at",
        [encounter_id])]
    if session.profile.can_read_clinical:
        basis = "clinical role"
    elif rows:
        basis = "disclosed under a release of information"
    else:
        changes.audit(session, "clinical_note.read", outcome="denied")
        raise TandemError("only clinical staff may read clinical notes, or a reader a release "
                          "of information covers")
    changes.audit(session, "clinical_note.view", "encounter", encounter_id,
                  detail=f"{len(rows)} notes; {basis}")
    return rows


def encounters_for_shift(session: Session, shift_id: str) -> list[dict]:
    return [stored_to_python(record_type("encounter"), r) for r in session.db.query(
        "SELECT * FROM encounter WHERE shift_id = ? AND deleted = 0 ORDER BY started_at",
        [shift_id])]


def draft_key(encounter_id: str) -> str:
    return f"encounter:{encounter_id}"


def clinical_draft_key(encounter_id: str) -> str:
    return f"clinical_note:{encounter_id}"


def _exists(session: Session, encounter_id: str) -> bool:
    return session.db.execute(
        "SELECT 1 FROM encounter WHERE id = ?", [encounter_id]).fetchone() is not None
