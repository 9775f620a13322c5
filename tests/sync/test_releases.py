"""Clinical notes reach a non-clinician only under a release that covers them, and leave their
laptop when it ends: proved with a real server (SQLite and PostgreSQL) and real caches."""

import json
from datetime import timedelta

import pytest
from sqlalchemy.exc import DBAPIError

from fieldapp import changes, encounters, persons, releases
from fieldapp.errors import TandemError, ValidationError
from sync import credentials, engine
from sync.server import disclosures

PHI = "PHI: disclosed opioid use, on methadone"


def _agency_today():
    """Today on the agency's clock (its default zone), which release validity reads."""
    return releases.today()


def _case(clinician):
    """A person, an encounter naming them, and a clinical note on it (synced)."""
    person = persons.add_person(clinician, {"kind": "alias", "alias": "Blue Jacket"})
    encounter = encounters.save_encounter(clinician, {
        "presenting_situation": "substance_use", "person_ids": [person]})
    note = encounters.add_clinical_note(clinician, encounter, PHI)
    engine.run_sync(clinician)
    return person, note


def _release(clinician, person, recipient, expires_on=None, scope="clinical_notes"):
    today = _agency_today()
    rid = releases.add_release(clinician, person, {
        "discloser": "Crisis clinician, Connections Health", "scope": scope,
        "recipient": recipient, "purpose": "coordinated follow-up",
        "signed_on": today - timedelta(days=1),
        "expires_on": expires_on or today + timedelta(days=30)})
    summary = engine.run_sync(clinician)
    assert summary["rejected"] == 0
    return rid


def _notes(session):
    return [r[0] for r in session.db.execute("SELECT body FROM clinical_note").fetchall()]


def _outbox(session):
    return session.db.execute("SELECT count(*) FROM outbox").fetchone()[0]


def _raw_pull(agency, session):
    link = credentials.transport_for(session)
    return json.dumps(link.call("GET", "/pull", params={"after": 0}))


def test_officer_gets_a_note_only_under_a_release_and_loses_it_on_revocation(agency, laptop):
    clinician = laptop("clin.okafor", "clinician")
    officer = laptop("ofc.ramirez", "officer")
    other = laptop("ofc.chen", "officer")
    person, note = _case(clinician)

    assert engine.run_sync(officer)["check"] == "ok"
    assert _notes(officer) == [] and PHI not in _raw_pull(agency, officer)
    assert agency.scalar("SELECT count(*) FROM disclosure") == 0

    rid = _release(clinician, person, "user:ofc.ramirez")
    summary = engine.run_sync(officer)
    assert summary["check"] == "ok"  # the note came with the pull, not through a repair
    assert _notes(officer) == [PHI]
    logged = agency.rows("SELECT * FROM disclosure")
    assert [(r["event"], r["record_id"], r["reader"], json.loads(r["release_ids"]))
            for r in logged] == [("disclosed", note, "ofc.ramirez", [rid])]
    assert logged[0]["device_id"] == officer.device_id
    encounter_id = officer.db.execute("SELECT encounter_id FROM clinical_note").fetchone()[0]
    assert [n["body"] for n in encounters.clinical_notes(officer, encounter_id)] == [PHI]
    assert officer.db.execute(  # the read is audited with its basis
        "SELECT detail FROM audit_event WHERE action = 'clinical_note.view'").fetchone()[0] \
        == "1 notes; disclosed under a release of information"
    # a reader the release does not name still gets nothing
    assert engine.run_sync(other)["check"] == "ok"
    assert _notes(other) == [] and PHI not in _raw_pull(agency, other)

    releases.revoke_release(clinician, rid)
    engine.run_sync(clinician)
    outbox_before = _outbox(officer)
    summary = engine.run_sync(officer)
    assert (summary["check"], summary["withdrawn"]) == ("ok", 1)
    assert _notes(officer) == []
    # deleted locally, nothing to push back: only the pending read audit went out
    assert summary["pushed"] == outbox_before and _outbox(officer) == 0
    assert [r["event"] for r in agency.rows("SELECT event FROM disclosure ORDER BY id")] == [
        "disclosed", "withdrawn"]
    assert PHI not in _raw_pull(agency, officer)
    # the clinician still has it
    assert _notes(clinician) == [PHI]


def test_a_note_leaves_the_laptop_when_its_release_expires(agency, laptop, monkeypatch):
    clinician = laptop("clin.okafor", "clinician")
    officer = laptop("ofc.ramirez", "officer")
    person, _note = _case(clinician)
    engine.run_sync(officer)  # the cursor passes the note before any release exists
    rid = _release(clinician, person, "role:officer", expires_on=_agency_today())
    assert engine.run_sync(officer)["check"] == "ok"
    assert _notes(officer) == [PHI]

    tomorrow = _agency_today() + timedelta(days=1)
    monkeypatch.setattr(disclosures, "today", lambda *_: tomorrow)
    summary = engine.run_sync(officer)
    assert (summary["check"], summary["withdrawn"]) == ("ok", 1)
    assert _notes(officer) == []
    rows = agency.rows("SELECT event, release_ids FROM disclosure ORDER BY id")
    assert [(r["event"], json.loads(r["release_ids"])) for r in rows] == [
        ("disclosed", [rid]), ("withdrawn", [])]
    # nothing more to withdraw on the next contact
    assert engine.run_sync(officer)["withdrawn"] == 0


def test_team_boundary_and_every_named_person_need_cover(agency, laptop):
    clinician = laptop("clin.okafor", "clinician")
    elsewhere = laptop("ofc.diaz", "officer", teams=("mhst-2",))
    officer = laptop("ofc.ramirez", "officer")
    person, _note = _case(clinician)
    second = persons.add_person(clinician, {"kind": "alias", "alias": "Red Cap"})
    both = encounters.save_encounter(clinician, {
        "presenting_situation": "dispute", "person_ids": [person, second]})
    encounters.add_clinical_note(clinician, both, "about two people")
    engine.run_sync(clinician)
    _release(clinician, person, "role:officer")

    engine.run_sync(officer)
    assert _notes(officer) == [PHI]  # the two-person note needs a release from each
    engine.run_sync(elsewhere)
    assert _notes(elsewhere) == [] and PHI not in _raw_pull(agency, elsewhere)

    _release(clinician, second, "team:mhst-1")
    assert engine.run_sync(officer)["check"] == "ok"
    assert sorted(_notes(officer)) == sorted([PHI, "about two people"])


def test_clinical_supervisor_reads_the_notes_of_their_teams(agency, laptop):
    clinician = laptop("clin.okafor", "clinician")
    supervisor = laptop("csup.ng", "clinical_supervisor", teams=("mhst-1",))
    stranger = laptop("csup.li", "clinical_supervisor", teams=("mhst-2",))
    _case(clinician)
    assert engine.run_sync(supervisor)["check"] == "ok"
    assert _notes(supervisor) == [PHI]
    engine.run_sync(stranger)
    assert _notes(stranger) == []
    assert agency.scalar("SELECT count(*) FROM disclosure") == 0  # not across a boundary


def test_releases_are_validated_and_recorded_by_clinical_staff_only(agency, laptop):
    clinician = laptop("clin.okafor", "clinician")
    officer = laptop("ofc.ramirez", "officer")
    person, _note = _case(clinician)
    engine.run_sync(officer)
    today = _agency_today()
    values = {"discloser": "x", "scope": "clinical_notes", "recipient": "user:ofc.ramirez",
              "purpose": "x", "signed_on": today, "expires_on": today + timedelta(days=9)}

    with pytest.raises(TandemError, match="clinical staff"):  # the laptop says so first
        releases.add_release(officer, person, values)
    # a laptop that skipped the check (an old version, a crafted op) meets the server's
    def create_release(session, **changed):
        changes.create(session, "release_of_information", {"person_id": person, **values,
                                                            **changed})

    create_release(officer)  # an officer granting themselves access
    assert engine.run_sync(officer)["rejected"] == 1
    error = officer.db.execute("SELECT last_error FROM outbox WHERE state = 'rejected'"
                               ).fetchone()[0]
    assert "only clinical_supervisor or clinician may record" in error
    assert _notes(officer) == []

    with pytest.raises(ValidationError):
        releases.add_release(clinician, person, {**values, "recipient": "MHST officers"})
    create_release(clinician, recipient="MHST officers")
    create_release(clinician, scope="everything")
    create_release(clinician, recipient="role:mayor")
    assert engine.run_sync(clinician)["rejected"] == 3
    errors = sorted(r[0] for r in clinician.db.execute(
        "SELECT last_error FROM outbox WHERE state = 'rejected'"))
    assert any("recipient: must be user:<username>, role:<role> or team:<team>" in e
               for e in errors), errors
    assert any("scope: must list record categories" in e for e in errors), errors
    assert any("unknown role 'mayor'" in e for e in errors), errors
    assert agency.scalar("SELECT count(*) FROM record WHERE table_name = "
                         "'release_of_information'") == 0


def test_disclosure_log_refuses_update_and_delete(agency, laptop):
    clinician = laptop("clin.okafor", "clinician")
    officer = laptop("ofc.ramirez", "officer")
    person, _note = _case(clinician)
    _release(clinician, person, "user:ofc.ramirez")
    engine.run_sync(officer)
    for sql in ("UPDATE disclosure SET reader = 'someone'", "DELETE FROM disclosure"):
        try:
            with agency.engine.begin() as conn:
                conn.exec_driver_sql(sql)
        except DBAPIError as e:
            assert "append-only" in str(e)
        else:
            raise AssertionError(f"{sql} was allowed")
    assert agency.scalar("SELECT count(*) FROM disclosure WHERE reader = 'ofc.ramirez'") == 1
