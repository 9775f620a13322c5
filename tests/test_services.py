"""The field workflows, through the services the UI calls."""

from datetime import date, datetime, timedelta, timezone

import pytest

from fieldapp import (assignments, changes, crc, drafts, encounters, followups, outreach,
                      persons, releases, settings, shifts)
from fieldapp.errors import NotFound, TandemError, ValidationError

T0 = datetime(2026, 11, 21, 2, 0, tzinfo=timezone.utc)


def _outbox(session):
    return session.db.execute("SELECT count(*) FROM outbox").fetchone()[0]


# shifts
def test_shift_start_status_end(officer):
    sid = shifts.start_shift(officer, "MHST-11", "V-201",
                             [{"username": "clin.okafor", "role": "clinician"}], at=T0)
    shift = shifts.active_shift(officer)
    assert shift["id"] == sid and shift["unit"] == "MHST-11"
    assert [m["username"] for m in shift["members"]] == ["ofc.ramirez", "clin.okafor"]
    shifts.set_status(officer, sid, "en_route", at=T0 + timedelta(minutes=5))
    shifts.set_status(officer, sid, "on_scene", at=T0 + timedelta(minutes=12))
    assert shifts.current_status(officer, sid) == "on_scene"
    shifts.end_shift(officer, sid, at=T0 + timedelta(hours=10))
    assert shifts.active_shift(officer) is None
    assert [e["status"] for e in shifts.timeline(officer, sid)] == [
        "in_service", "en_route", "on_scene", "out_of_service"]
    with pytest.raises(TandemError, match="ended"):
        shifts.set_status(officer, sid, "available")


def test_a_second_tap_on_the_current_status_adds_nothing(officer):
    sid = shifts.start_shift(officer, "MHST-11", "V-201", [])
    first = shifts.set_status(officer, sid, "on_scene")
    waiting = _outbox(officer)
    assert shifts.set_status(officer, sid, "on_scene") == first
    assert _outbox(officer) == waiting  # nothing new to sync either
    shifts.set_status(officer, sid, "available")
    shifts.set_status(officer, sid, "on_scene")
    assert [e["status"] for e in shifts.timeline(officer, sid)] == [
        "in_service", "on_scene", "available", "on_scene"]


def test_ending_a_shift_finalizes_its_encounters_only(officer):
    """A shift is submitted when it ends: its encounters become final (amendments from then
    on, and old enough ones leave the laptop with retention); another shift's stay open."""
    sid = shifts.start_shift(officer, "MHST-11", at=T0)
    ours = encounters.save_encounter(officer, {"presenting_situation": "welfare_check",
                                               "shift_id": sid})
    other = encounters.save_encounter(officer, {"presenting_situation": "welfare_check"})
    shifts.end_shift(officer, sid, at=T0 + timedelta(hours=10))
    assert changes.get(officer, "encounter", ours)["finalized_at"] is not None
    assert changes.get(officer, "encounter", other)["finalized_at"] is None
    with pytest.raises(TandemError, match="amendment"):
        encounters.save_encounter(officer, {"police_note": "edited later"}, ours)
    encounters.save_encounter(officer, {"police_note": "still open"}, other)


def test_shift_bad_input(officer):
    with pytest.raises(ValidationError) as e:
        shifts.start_shift(officer, "", at="yesterday-ish")
    assert "started_at" in e.value.problems
    with pytest.raises(ValidationError) as e:
        shifts.start_shift(officer, "", at=T0)
    assert e.value.problems == {"unit": "required"}
    sid = shifts.start_shift(officer, "MHST-11", at=T0)
    with pytest.raises(ValidationError) as e:
        shifts.set_status(officer, sid, "napping")
    assert "status" in e.value.problems
    with pytest.raises(TandemError, match="already on a shift"):
        shifts.start_shift(officer, "MHST-12")
    with pytest.raises(ValidationError):
        shifts.end_shift(officer, sid, at=T0 - timedelta(hours=1))
    with pytest.raises(NotFound):
        shifts.set_status(officer, "no-such-shift", "available")
    assert len(shifts.timeline(officer, sid)) == 1


# assignments
def test_assignment_lifecycle(officer):
    sid = shifts.start_shift(officer, "MHST-11", at=T0)
    aid = assignments.create_assignment(officer, {
        "source": "cad", "cad_incident": "T2611210042", "type": "call_for_service",
        "priority": 1, "summary": "Welfare check, man in distress at bus stop",
        "received_at": T0})
    low = assignments.create_assignment(officer, {
        "source": "supervisor", "type": "scheduled_task", "priority": 3,
        "summary": "Visit encampment"})
    listed = assignments.open_assignments(officer)
    assert [a["id"] for a in listed] == [aid, low]
    assert listed[0]["age_minutes"] > 0
    assignments.acknowledge(officer, aid, at=T0 + timedelta(minutes=1))
    with pytest.raises(TandemError):
        assignments.acknowledge(officer, aid)
    assignments.take(officer, aid, "MHST-11", sid)
    assignments.clear(officer, aid, "resolved_on_scene")
    done = changes.get(officer, "assignment", aid)
    assert done["status"] == "cleared" and done["disposition"] == "resolved_on_scene"
    assert done["unit"] == "MHST-11" and done["shift_id"] == sid
    assert [a["id"] for a in assignments.open_assignments(officer)] == [low]
    with pytest.raises(ValidationError):
        assignments.clear(officer, low, "")
    with pytest.raises(ValidationError):
        assignments.clear(officer, low, "vanished")
    assert changes.get(officer, "assignment", low)["status"] == "open"


# encounters and clinical notes
def test_encounter_with_people_and_flags(officer):
    named = persons.add_person(officer, {"kind": "named", "first_name": "Dana", "last_name": "Q"})
    anon = persons.add_person(officer, {"kind": "anonymous", "description": "man, 40s, red cap"})
    eid = encounters.save_encounter(officer, {
        "presenting_situation": "suicidal_ideation", "person_ids": [named, anon],
        "police_note": "Calm on arrival."})
    encounters.save_encounter(officer, {"disposition": "transported_crc_voluntary",
                                        "connected_to_care": True}, eid)
    e = encounters.view_encounter(officer, eid)
    assert e["person_ids"] == [named, anon] and e["connected_to_care"] is True
    actions = [r["action"] for r in officer.db.query("SELECT action FROM audit_event")]
    assert "encounter.view" in actions and "encounter.create" in actions


def test_encounter_bad_input_leaves_store_unchanged(officer):
    before = _outbox(officer)
    for bad in ({"presenting_situation": "bored"}, {"person_ids": ["ghost"],
                "presenting_situation": "other"}, {"presenting_situation": "other",
                "use_of_force": "maybe"}, {"presenting_situation": "other", "lat": 200.0}):
        with pytest.raises(ValidationError):
            encounters.save_encounter(officer, bad)
    assert _outbox(officer) == before


def test_clinical_notes_are_for_clinicians_only(clinician, officer):
    eid = encounters.save_encounter(clinician, {"presenting_situation": "mental_health_crisis"})
    encounters.add_clinical_note(clinician, eid, "MSE: oriented x3, denies SI.")
    notes = encounters.clinical_notes(clinician, eid)
    assert [n["body"] for n in notes] == ["MSE: oriented x3, denies SI."]
    assert clinician.db.execute(
        "SELECT count(*) FROM audit_event WHERE action = 'clinical_note.view'").fetchone()[0] == 1
    own = encounters.save_encounter(officer, {"presenting_situation": "other"})
    with pytest.raises(TandemError, match="only clinicians"):
        encounters.add_clinical_note(officer, own, "x")
    with pytest.raises(TandemError, match="only clinical staff"):
        encounters.clinical_notes(officer, own)
    assert officer.db.execute("SELECT count(*) FROM clinical_note").fetchone()[0] == 0
    denied = officer.db.execute(
        "SELECT count(*) FROM audit_event WHERE outcome = 'denied'").fetchone()[0]
    assert denied == 2


def test_police_note_and_clinical_note_kept_apart(clinician):
    eid = encounters.save_encounter(clinician, {"presenting_situation": "other",
                                                "police_note": "police side"})
    encounters.add_clinical_note(clinician, eid, "clinical side")
    row = clinician.db["encounter"].get(eid)
    assert "clinical side" not in str(row)


# drafts
def test_drafts_survive_reopen(officer, data_dir):
    from fieldapp.session import unlock
    from tests.conftest import PASSWORD
    key = encounters.draft_key("new-1")
    drafts.save_draft(officer, key, "encounter", {"police_note": "He said he was ti"})
    drafts.save_draft(officer, key, "encounter", {"police_note": "He said he was tired"})
    officer.close()
    again = unlock(data_dir, "ofc.ramirez", PASSWORD)
    assert drafts.load_draft(again, key) == {"police_note": "He said he was tired"}
    assert [d["key"] for d in drafts.drafts(again, "encounter")] == [key]
    eid = encounters.save_encounter(again, {"presenting_situation": "other",
                                            "police_note": "He said he was tired"},
                                    encounter_id=None)
    drafts.save_draft(again, encounters.draft_key(eid), "encounter", {"x": 1})
    encounters.save_encounter(again, {"police_note": "final"}, eid)
    assert drafts.load_draft(again, encounters.draft_key(eid)) is None
    again.close()


def test_draft_saved_then_process_killed(data_dir):
    """SIGKILL right after a draft save: the draft is there on restart."""
    import subprocess
    import sys
    import textwrap
    from pathlib import Path
    from fieldapp.session import unlock
    from tests.conftest import PASSWORD, make_session
    make_session(data_dir).close()
    code = textwrap.dedent(f"""
        import os, signal
        from fieldapp import drafts, keys
        from fieldapp.session import unlock
        keys.DEFAULT_KDF = keys.KdfParams(2**10, 8, 1)
        s = unlock({str(data_dir)!r}, "ofc.ramirez", {PASSWORD!r})
        drafts.save_draft(s, "encounter:k", "encounter", {{"police_note": "mid-sentence"}})
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parents[1])
    assert proc.returncode == -9
    s = unlock(data_dir, "ofc.ramirez", PASSWORD)
    assert drafts.load_draft(s, "encounter:k") == {"police_note": "mid-sentence"}
    s.close()


# persons and releases
def test_person_kinds_and_views_are_audited(officer):
    with pytest.raises(ValidationError) as e:
        persons.add_person(officer, {"kind": "named"})
    assert "first_name" in e.value.problems
    with pytest.raises(ValidationError):
        persons.add_person(officer, {"kind": "alias"})
    with pytest.raises(ValidationError):
        persons.add_person(officer, {"kind": "named", "first_name": "A", "date_of_birth": "31/01/1990"})
    pid = persons.add_person(officer, {"kind": "alias", "alias": "Blue Jacket",
                                       "safety_cautions": "Startles when approached from behind",
                                       "active_court_order": True})
    p = persons.view_person(officer, pid)
    assert persons.label(p) == "“Blue Jacket”" and p["active_court_order"] is True
    assert [r["id"] for r in persons.search_people(officer, "blue")] == [pid]
    actions = [r["action"] for r in officer.db.query(
        "SELECT action FROM audit_event WHERE record_id = ? ORDER BY at, id", [pid])]
    assert actions == ["person.create", "person.view"]


def test_release_of_information(clinician, officer):
    pid = persons.add_person(clinician, {"kind": "named", "first_name": "R"})
    release = {"discloser": "CRC clinician", "scope": "clinical_notes",
               "recipient": "team:mhst-1", "purpose": "coordinated follow-up",
               "signed_on": date(2026, 11, 1), "expires_on": date(2027, 5, 1)}
    rid = releases.add_release(clinician, pid, release)
    assert [r["id"] for r in releases.active_releases(clinician, pid, on=date(2026, 11, 21))] == [rid]
    assert releases.active_releases(clinician, pid, on=date(2027, 6, 1)) == []
    releases.revoke_release(clinician, rid)
    assert releases.active_releases(clinician, pid, on=date(2026, 11, 21)) == []
    with pytest.raises(ValidationError) as bad:
        releases.add_release(clinician, pid, {**release, "scope": "everything",
                                             "recipient": "MHST officers",
                                             "expires_on": "2026-10-01"})
    assert set(bad.value.problems) == {"scope", "recipient", "expires_on"}
    officers_person = persons.add_person(officer, {"kind": "named", "first_name": "S"})
    with pytest.raises(TandemError, match="clinical staff"):
        releases.add_release(officer, officers_person, release)


# outreach
def test_outreach_contact_anonymous_and_with_person(peer):
    cid = outreach.log_contact(peer, services_offered=["shelter_info", "food"],
                               supplies=["water", "socks"], referral="CRC walk-in")
    row = changes.get(peer, "outreach_contact", cid)
    assert row["person_id"] is None and row["supplies"] == ["water", "socks"]
    assert row["team"] == "outreach-1"
    pid = persons.add_person(peer, {"kind": "alias", "alias": "Sky"})
    outreach.log_contact(peer, person_id=pid, outcome="accepted water")
    assert len(outreach.recent_contacts(peer)) == 2
    with pytest.raises(ValidationError):
        outreach.log_contact(peer, services_offered="food")
    with pytest.raises(ValidationError):
        outreach.log_contact(peer, person_id="ghost")


# follow-ups
def test_follow_up_lists_and_attempts(officer):
    today = date(2026, 11, 21)
    pid = persons.add_person(officer, {"kind": "named", "first_name": "Lee"})
    due = followups.create_follow_up(officer, {"person_id": pid, "reason": "crc_discharge",
                                               "due_on": today})
    late = followups.create_follow_up(officer, {"person_id": pid, "reason": "court_order",
                                                "due_on": today - timedelta(days=2), "priority": 1})
    soon = followups.create_follow_up(officer, {"person_id": pid, "reason": "high_utilizer",
                                                "due_on": today + timedelta(days=3)})
    assert [f["id"] for f in followups.due_today(officer, today)] == [due]
    assert [f["id"] for f in followups.overdue(officer, today)] == [late]
    assert [f["id"] for f in followups.upcoming(officer, today)] == [soon]
    followups.log_attempt(officer, late, "phone", "no_answer")
    followups.log_attempt(officer, late, "visit", "completed", note="Seen at camp")
    assert followups.overdue(officer, today) == []
    assert [a["outcome"] for a in followups.attempts(officer, late)] == ["no_answer", "completed"]
    with pytest.raises(TandemError, match="done"):
        followups.log_attempt(officer, late, "phone", "reached")
    with pytest.raises(ValidationError):
        followups.log_attempt(officer, due, "carrier pigeon", "reached")
    history = followups.person_history(officer, pid)
    assert {h["kind"] for h in history} == {"follow_up", "follow_up_attempt"}
    summaries = {h["summary"] for h in history}  # in words, each code through labels
    assert "follow-up due (CRC discharge), open" in summaries
    assert "phone: no answer" in summaries and not any("_" in s for s in summaries)


# CRC drop-offs
def test_crc_dropoff_under_target(officer):
    sid = shifts.start_shift(officer, "MHST-11", at=T0)
    did = crc.arrive(officer, "voluntary", shift_id=sid, at=T0 + timedelta(minutes=30))
    crc.hand_off(officer, did, at=T0 + timedelta(minutes=35))
    crc.clear(officer, did, at=T0 + timedelta(minutes=41))
    t = crc.timing(officer, changes.get(officer, "crc_dropoff", did))
    assert t.check_in_seconds == 300 and t.back_in_service_seconds == 660
    assert not t.over_target
    assert [e["status"] for e in shifts.timeline(officer, sid)][-2:] == ["at_crc", "available"]


def test_crc_over_target_needs_a_reason(officer):
    did = crc.arrive(officer, "involuntary", at=T0)
    assert crc.open_dropoff(officer)["id"] == did
    running = crc.timing(officer, changes.get(officer, "crc_dropoff", did), now=T0 + timedelta(minutes=8))
    assert running.over_target and not running.handed_off
    crc.hand_off(officer, did, at=T0 + timedelta(minutes=9, seconds=30))
    with pytest.raises(ValidationError) as e:
        crc.clear(officer, did, at=T0 + timedelta(minutes=12))
    assert "7-minute target" in e.value.problems["delay_reason"]
    crc.clear(officer, did, at=T0 + timedelta(minutes=12), delay_reason="Sally port full")
    assert crc.open_dropoff(officer) is None


def test_crc_target_is_a_setting(officer):
    settings.put(officer.db, "crc_target_minutes", 10)
    did = crc.arrive(officer, "voluntary", at=T0)
    crc.hand_off(officer, did, at=T0 + timedelta(minutes=9))
    crc.clear(officer, did, at=T0 + timedelta(minutes=10))
    with pytest.raises(ValidationError):
        settings.put(officer.db, "crc_target_minutes", 0)
    with pytest.raises(ValidationError):
        settings.put(officer.db, "lock_after_minutes", 31)


def test_crc_times_must_be_in_order(officer):
    did = crc.arrive(officer, "voluntary", at=T0)
    with pytest.raises(ValidationError):
        crc.hand_off(officer, did, at=T0 - timedelta(minutes=1))
    with pytest.raises(TandemError, match="hand-off"):
        crc.clear(officer, did)
    with pytest.raises(ValidationError):
        crc.arrive(officer, "by helicopter")
