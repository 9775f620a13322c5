"""Encounters: what happened on a call, with the police note and the clinical note kept apart.

The police note is a field of the encounter, with who last wrote it and when. Clinical notes
are their own append-only records (table `clinical_note`) so the server can withhold them from
readers who may not see them; only clinicians write them, and each read is audited.

The pair in the car document one call together. An encounter started from an assignment takes
an id derived from it, so two laptops that start it offline write one record (the server
merges the second create, sync/server/exchange.py); an encounter without an assignment can be
joined to another record of the same call later. The encounter's disposition clears its
assignment.
"""

import uuid
from datetime import timedelta

from . import assignments, changes, drafts, persons
from .errors import TandemError, ValidationError
from .records import record_type
from .session import Session
from .timeutil import now_iso, to_iso, utc_now
from .validation import normalise, stored_to_python

_IDS = uuid.UUID("0f1d9a52-3c1e-4b8e-9a57-6f2d1c0e7b44")  # namespace of derived encounter ids
RECENT_DAYS = 14  # the team's encounters the list offers besides this shift's
LIST_LIMIT = 200
NOT_HERE = "someone not on this laptop"
# Fields one record of a call lends another when they are joined and the other lacks them.
_JOIN_FILL = ("assignment_id", "place", "lat", "lon", "disposition", "use_of_force_type",
              "cad_incident", "call_summary")
_SIGNATURE = ("police_note_by", "police_note_at")
_FLAGS = tuple(f.name for f in record_type("encounter").fields if f.type is bool)


def id_for_assignment(assignment_id: str) -> str:
    """The encounter id every laptop derives for an assignment's call."""
    return str(uuid.uuid5(_IDS, f"encounter:{assignment_id}"))


def save_encounter(session: Session, values: dict, encounter_id: str | None = None) -> str:
    """Create the encounter, or save changes to one not yet finalized; clears its draft. A
    changed police note is signed with who wrote it and when."""
    db = session.db
    with db.atomic():
        if encounter_id is None or not _exists(session, encounter_id):
            values = {"team": session.profile.team, "started_at": now_iso(), **values}
            if values.get("police_note"):
                values.update(police_note_by=session.username, police_note_at=now_iso())
            encounter_id = changes.create(session, "encounter", values, record_id=encounter_id)
        else:
            current = changes.get(session, "encounter", encounter_id)
            if current["finalized_at"]:
                ended = " belongs to a shift that ended and" if current["shift_id"] else ""
                raise TandemError(f"this encounter{ended} is finalized; change it with an "
                                  "amendment, which the supervisor sees")
            if "police_note" in values and (values["police_note"] or None) != current["police_note"]:
                values = {**values, "police_note_by": session.username,
                          "police_note_at": now_iso()}
            changes.patch(session, "encounter", encounter_id, values)
        drafts.discard_draft(session, draft_key(encounter_id))
    return encounter_id


def save_documentation(session: Session, encounter_id: str, values: dict, people: list[dict],
                       note: str = "", base: dict | None = None) -> str:
    """One save of the encounter form, all or nothing: people new to the file, the encounter
    (created, or only the fields changed since the form loaded `base`, so a partner's edits
    that arrived meanwhile stand), the clinician's note, and the assignment it clears."""
    values = {k: v for k, v in values.items() if k not in _SIGNATURE}  # save_encounter's
    with session.db.atomic():
        person_ids = [p["id"] if p.get("id") else persons.add_person(session, p) for p in people]
        values = {**values, "person_ids": person_ids}
        if base is not None and _exists(session, encounter_id):
            values = {k: v for k, v in values.items() if _stored(k, v) != _stored(k, base.get(k))}
        save_encounter(session, values, encounter_id)
        if note.strip():
            add_clinical_note(session, encounter_id, note)
        _clear_assignment(session, changes.get(session, "encounter", encounter_id))
    return encounter_id


def _stored(name: str, value):
    """A form value as stored, for comparing: no value, an unchecked flag, an empty list and
    no people are all the same nothing."""
    if isinstance(value, (list, tuple, bool)) and not value:
        value = None
    return normalise(record_type("encounter"), {name: value}, partial=True).get(name)


def _clear_assignment(session: Session, encounter: dict) -> None:
    """The disposition is entered once: it clears the encounter's assignment too."""
    aid, disposition = encounter["assignment_id"], encounter["disposition"]
    if not (aid and disposition):
        return
    row = session.db.execute("SELECT status FROM assignment WHERE id = ? AND deleted = 0",
                             [aid]).fetchone()
    if row and row[0] != "cleared":
        assignments.clear(session, aid, disposition)


def form_for_assignment(session: Session, assignment_id: str) -> dict:
    """The encounter form for an assignment's call: what was being typed for it, else the
    call's encounter if this laptop has it (the partner's, synced), else a new one starting
    with the assignment's place, summary and CAD number."""
    encounter_id = id_for_assignment(assignment_id)
    if drafts.load_draft(session, draft_key(encounter_id)) or _exists(session, encounter_id):
        return form_for(session, encounter_id)
    a = changes.get(session, "assignment", assignment_id)
    values = {"assignment_id": assignment_id, "place": a["place"], "lat": a["lat"],
              "lon": a["lon"], "cad_incident": a["cad_incident"], "call_summary": a["summary"]}
    return {"id": encounter_id, "values": values, "people": [], "base": None,
            "clinical_note": "", "call": None}


def form_for(session: Session, encounter_id: str) -> dict:
    """An encounter opened to add to it: what was being typed for it if a draft is waiting,
    else the one on file (audited as a view). Its values, its people, `base` (the values as
    first loaded, which a save compares against; None for a new one), `clinical_note` (a
    clinician's unsaved note) and `call`, every note written on it so far (record_of_call)."""
    draft = drafts.load_draft(session, draft_key(encounter_id))
    if draft:
        clinical = drafts.load_draft(session, clinical_draft_key(encounter_id)) or {}
        on_file = draft.get("base") is not None and _exists(session, encounter_id)
        return {**draft, "clinical_note": clinical.get("body", ""), "restored": True,
                "call": record_of_call(session, encounter_id) if on_file else None}
    call = record_of_call(session, encounter_id)
    values = {f: call["encounter"][f] for f in record_type("encounter").field_names}
    people = [{k: p.get(k) for k in persons.ON_FILE_FIELDS} for p in call["people"]]
    return {"id": encounter_id, "values": values, "people": people, "base": dict(values),
            "clinical_note": "", "call": call}


def save_form_draft(session: Session, form: dict, clinical_note: str | None) -> None:
    """What is typed in the encounter form (id, values, people, base), and a clinician's note
    apart from it, kept until the form is saved."""
    drafts.save_draft(session, draft_key(form["id"]), "encounter", form)
    if clinical_note is not None:
        drafts.save_draft(session, clinical_draft_key(form["id"]), "clinical_note",
                          {"body": clinical_note})


def latest_form(session: Session) -> dict | None:
    """The encounter form last being typed, to reopen after a restart (form_for), if any."""
    found = drafts.drafts(session, "encounter")
    return form_for(session, found[0]["body"]["id"]) if found else None


def discard_form_draft(session: Session, encounter_id: str) -> None:
    """Drop what was typed for an encounter the form moved away from (its id changed)."""
    with session.db.atomic():
        drafts.discard_draft(session, draft_key(encounter_id))
        drafts.discard_draft(session, clinical_draft_key(encounter_id))


def view_encounter(session: Session, encounter_id: str) -> dict:
    """The encounter for display, audited as a view."""
    encounter = changes.get(session, "encounter", encounter_id)
    changes.audit(session, "encounter.view", "encounter", encounter_id)
    return encounter


def add_clinical_note(session: Session, encounter_id: str, body: str) -> str:
    """A clinician's note on the encounter, naming whom it is about: the encounter's people
    as they are now, which no later edit of the encounter changes."""
    if not session.profile.can_write_clinical:
        changes.audit(session, "clinical_note.write", outcome="denied")
        raise TandemError("only clinicians may write clinical notes")
    with session.db.atomic():
        encounter = changes.get(session, "encounter", encounter_id)
        note_id = changes.create(session, "clinical_note", {
            "encounter_id": encounter_id, "team": encounter["team"], "body": body,
            "written_at": now_iso(), "person_ids": encounter["person_ids"] or []})
        drafts.discard_draft(session, clinical_draft_key(encounter_id))
    return note_id


def clinical_notes(session: Session, encounter_id: str) -> list[dict]:
    """An encounter's clinical notes (those of records joined to it too), read by clinical
    staff, or by anyone else only where the server disclosed them under a release (it sends
    no others to this laptop); audited."""
    rows = _notes_of(session, call_ids(session, encounter_id))
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


def _notes_of(session: Session, encounter_ids: list[str]) -> list[dict]:
    marks = ", ".join("?" for _ in encounter_ids)
    return [stored_to_python(record_type("clinical_note"), r) for r in session.db.query(
        f"SELECT * FROM clinical_note WHERE encounter_id IN ({marks}) AND deleted = 0 "
        "ORDER BY written_at", encounter_ids)]


def call_ids(session: Session, encounter_id: str) -> list[str]:
    """The encounter and the records of the same call joined to it, oldest first."""
    changes.get(session, "encounter", encounter_id)
    return [encounter_id] + [r[0] for r in session.db.execute(
        "SELECT id FROM encounter WHERE joined_to = ? AND deleted = 0 ORDER BY started_at",
        [encounter_id])]


def record_of_call(session: Session, encounter_id: str) -> dict:
    """Everything the pair wrote about one call, for reading (audited as a view): the
    encounter, its people, each police note and each clinical note the reader may read, with
    who wrote it and when."""
    encounter = view_encounter(session, encounter_id)
    ids = call_ids(session, encounter_id)
    records = [encounter] + [changes.get(session, "encounter", i) for i in ids[1:]]
    police = [{"encounter_id": r["id"], "by": r["police_note_by"] or r["author"],
               "at": r["police_note_at"], "body": r["police_note"]}
              for r in records if r["police_note"]]
    notes = _notes_of(session, ids)
    if notes or session.profile.can_read_clinical:
        changes.audit(session, "clinical_note.view", "encounter", encounter_id,
                      detail=f"{len(notes)} notes; " + ("clinical role"
                              if session.profile.can_read_clinical
                              else "disclosed under a release of information"))
    people = _people(session, encounter["person_ids"] or [])
    return {"encounter": encounter, "joined": records[1:], "people": people,
            "police_notes": police,
            "clinical_notes": [{"by": n["author"], "at": n["written_at"], "body": n["body"]}
                               for n in notes],
            "clinical_withheld": not session.profile.can_read_clinical}


def listing(session: Session, text: str = "", shift_id: str | None = None,
            days: int = RECENT_DAYS) -> list[dict]:
    """Encounters to come back to, newest first: this shift's (with `shift_id`) or the team's
    of the last `days` days. Every typed word must match a person on it (name, alias,
    description), its place, or its CAD number. Records joined to another show as that one.
    A list, not a view: opening one (record_of_call) is audited."""
    teams = list(session.profile.teams)
    sql = (f"""SELECT e.*, coalesce(e.cad_incident, a.cad_incident) AS cad,
        (SELECT count(*) FROM encounter j WHERE j.joined_to = e.id AND j.deleted = 0) AS joined
        FROM encounter e LEFT JOIN assignment a ON a.id = e.assignment_id
        WHERE e.deleted = 0 AND e.joined_to IS NULL
          AND e.team IN ({', '.join('?' for _ in teams)})""")
    params: list = [*teams]
    if shift_id:
        sql += " AND e.shift_id = ?"
        params.append(shift_id)
    else:
        sql += " AND e.started_at >= ?"
        params.append(to_iso(utc_now() - timedelta(days=days)))
    for word in text.split():
        like = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        sql += r""" AND (coalesce(e.place, '') LIKE ? ESCAPE '\'
            OR coalesce(e.cad_incident, a.cad_incident, '') LIKE ? ESCAPE '\'
            OR EXISTS (SELECT 1 FROM json_each(coalesce(e.person_ids, '[]')) j
                       JOIN person p ON p.id = j.value
                       WHERE (coalesce(p.first_name, '') || ' ' || coalesce(p.last_name, '')
                              || ' ' || coalesce(p.alias, '') || ' '
                              || coalesce(p.description, '')) LIKE ? ESCAPE '\'))"""
        params += [like, like, like]
    sql += " ORDER BY e.started_at DESC LIMIT ?"
    rows = list(session.db.query(sql, [*params, LIST_LIMIT]))
    labels = _labels(session, {p for r in rows for p in stored_to_python(
        record_type("encounter"), r)["person_ids"] or []})
    notes = _note_counts(session, [r["id"] for r in rows])
    out = []
    for row in rows:
        item = stored_to_python(record_type("encounter"), row)
        item["people"] = [labels.get(p, NOT_HERE)
                          for p in item["person_ids"] or []]
        item["clinical_notes"] = notes.get(row["id"], 0)
        out.append(item)
    return out


def _people(session: Session, person_ids: list[str]) -> list[dict]:
    """The encounter's people in its order; one no longer here (deleted since, or never
    synced to this laptop) stays linked, shown as such."""
    found = {r["id"]: stored_to_python(record_type("person"), r) for r in session.db.query(
        f"SELECT * FROM person WHERE id IN ({', '.join('?' for _ in person_ids)})", person_ids)}
    return [found.get(p) or {"id": p, "kind": "anonymous", "description": NOT_HERE}
            for p in person_ids]


def _labels(session: Session, person_ids: set[str]) -> dict[str, str]:
    if not person_ids:
        return {}
    ids = sorted(person_ids)
    return {r["id"]: persons.label(r) for r in session.db.query(
        f"SELECT * FROM person WHERE id IN ({', '.join('?' for _ in ids)})", ids)}


def _note_counts(session: Session, encounter_ids: list[str]) -> dict[str, int]:
    """Clinical notes on this laptop per listed encounter (joined records' included)."""
    if not encounter_ids:
        return {}
    marks = ", ".join("?" for _ in encounter_ids)
    return dict(session.db.execute(
        f"""SELECT coalesce(e.joined_to, e.id), count(*) FROM clinical_note n
            JOIN encounter e ON e.id = n.encounter_id
            WHERE n.deleted = 0 AND (e.id IN ({marks}) OR e.joined_to IN ({marks}))
            GROUP BY 1""", [*encounter_ids, *encounter_ids]).fetchall())


def join(session: Session, one_id: str, other_id: str) -> str:
    """Record that two encounters document the same call, keeping both and every note: the
    later one joins the earlier, which takes what only the later one holds (its assignment,
    place, disposition, flags, people). Returns the id of the one the call is now read from."""
    if one_id == other_id:
        raise TandemError("pick another encounter: an encounter is already the same call as itself")
    one, other = (changes.get(session, "encounter", i) for i in (one_id, other_id))
    for e in (one, other):
        if e["joined_to"]:
            raise TandemError("that encounter is already part of another call's record; "
                              "join with that one instead")
    if one["assignment_id"] and other["assignment_id"] and \
            one["assignment_id"] != other["assignment_id"]:
        raise ValidationError("encounter", {"assignment_id": "these encounters belong to "
                                            "different assignments, so they are different calls"})
    keep, later = sorted((one, other), key=lambda e: (e["started_at"], e["id"]))
    lent = {f: later[f] for f in _JOIN_FILL if keep[f] is None and later[f] is not None}
    lent |= {f: True for f in _FLAGS if later[f] and not keep[f]}
    people = list(keep["person_ids"] or [])
    people += [p for p in later["person_ids"] or [] if p not in people]
    if people != (keep["person_ids"] or []):
        lent["person_ids"] = people
    with session.db.atomic():
        if lent:
            changes.patch(session, "encounter", keep["id"], lent)
        changes.patch(session, "encounter", later["id"], {"joined_to": keep["id"]})
    return keep["id"]


def draft_key(encounter_id: str) -> str:
    return f"encounter:{encounter_id}"


def clinical_draft_key(encounter_id: str) -> str:
    return f"clinical_note:{encounter_id}"


def _exists(session: Session, encounter_id: str) -> bool:
    return session.db.execute(
        "SELECT 1 FROM encounter WHERE id = ?", [encounter_id]).fetchone() is not None
