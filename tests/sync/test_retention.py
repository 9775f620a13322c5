"""Only what is needed on the laptop: after the agency's retention window a cache opened with
its key holds no closed record older than the window (rows counted), keeps open follow-ups,
active releases and unsynced work, and its file shrinks; the end-of-sync check still matches.
A role or team change shrinks the copy to the new scope on the next sync. Real server, real
encrypted cache, SQLite and PostgreSQL."""

import json
import os
from datetime import timedelta

from fieldapp import changes, encounters, followups, persons, releases
from fieldapp.session import unlock
from fieldapp.timeutil import to_iso, utc_now
from sync import engine
from sync.server import accounts, agency_settings
from tests.conftest import PASSWORD

OLD = to_iso(utc_now() - timedelta(days=100))
OLD_DAY = (utc_now() - timedelta(days=100)).date().isoformat()
RECENT = to_iso(utc_now() - timedelta(days=2))


def cache_size(session) -> int:
    session.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return os.path.getsize(session.cache_path)


def test_closed_records_past_the_window_leave_the_laptop_and_the_file_shrinks(agency, laptop):
    officer = laptop("clin.ramirez", "clinician")
    team = officer.profile.team
    old_contacts = [changes.create(officer, "outreach_contact", {
        "team": team, "contacted_at": OLD, "note": "old contact " + "x" * 3000})
        for _ in range(300)]
    recent = changes.create(officer, "outreach_contact", {"team": team, "contacted_at": RECENT})
    shift = changes.create(officer, "shift", {
        "team": team, "unit": "MHST-1", "members": [{"username": "ofc.ramirez", "role": "officer"}],
        "started_at": OLD, "ended_at": OLD})
    changes.create(officer, "shift_event", {"shift_id": shift, "status": "en_route", "at": OLD})
    person = persons.add_person(officer, {"kind": "alias", "alias": "Blue Jacket"})
    done = followups.create_follow_up(officer, {"person_id": person, "reason":
                                                "post_crisis_check", "due_on": OLD_DAY})
    followups.log_attempt(officer, done, "phone", "completed", at=OLD)
    still_open = followups.create_follow_up(officer, {"person_id": person, "reason":
                                                      "court_order", "due_on": OLD_DAY})
    encounter = encounters.save_encounter(officer, {"presenting_situation": "welfare_check",
                                                    "started_at": OLD})
    encounters.add_clinical_note(officer, encounter, "old note")
    changes.patch(officer, "encounter", encounter, {"finalized_at": OLD})  # its shift ended
    release = {"discloser": "self", "scope": "clinical_notes", "recipient": "role:officer",
               "purpose": "care"}
    expired = releases.add_release(officer, person, {**release, "signed_on": "2025-01-01",
                                                    "expires_on": "2025-06-01"})
    active = releases.add_release(officer, person, {**release, "signed_on": OLD_DAY,
                                                   "expires_on": "2099-01-01"})
    assert engine.run_sync(officer)["check"] == "ok"
    officer.db.execute("INSERT INTO outbox (op_id, table_name, record_id, kind, fields, base, "
                       "base_version, hlc, created_at, state) VALUES ('stuck', "
                       "'outreach_contact', 'unsynced-1', 'append', ?, '{}', 0, ?, ?, "
                       "'rejected')", [json.dumps({"team": team}), officer.stamp(), OLD])
    officer.db.execute("INSERT INTO outreach_contact (id, created_hlc, updated_hlc, author, "
                       "device, team, contacted_at) VALUES ('unsynced-1', '0', '0', 'me', 'd', "
                       "?, ?)", [team, OLD])  # an old contact the server has not taken yet
    officer.db.conn.commit()
    before = cache_size(officer)

    with agency.engine.begin() as conn:
        agency_settings.set_value(conn, "retention_days", "30")
    summary = engine.run_sync(officer)
    assert summary["check"] == "ok" and summary["purged"] >= 300, summary
    officer.close()

    cache = unlock(officer.data_dir, officer.username, PASSWORD)  # opened with its key
    count = lambda sql, *a: cache.db.execute(sql, a).fetchone()[0]  # noqa: E731
    cutoff = to_iso(utc_now() - timedelta(days=30))
    assert count("SELECT count(*) FROM outreach_contact WHERE contacted_at < ?", cutoff) == 1
    assert count("SELECT id FROM outreach_contact WHERE contacted_at < ?", cutoff) == "unsynced-1"
    assert count("SELECT count(*) FROM outreach_contact WHERE id = ?", recent) == 1
    assert count("SELECT count(*) FROM shift WHERE ended_at < ?", cutoff) == 0
    assert count("SELECT count(*) FROM shift_event") == 0
    assert count("SELECT count(*) FROM encounter WHERE finalized_at IS NOT NULL "
                 "AND started_at < ?", cutoff) == 0
    assert count("SELECT count(*) FROM clinical_note") == 0
    assert count("SELECT count(*) FROM follow_up WHERE status = 'done'") == 0
    assert count("SELECT count(*) FROM follow_up_attempt") == 0
    assert count("SELECT id FROM follow_up") == still_open  # open follow-ups stay, however old
    assert count("SELECT count(*) FROM release_of_information WHERE id = ?", expired) == 0
    assert count("SELECT count(*) FROM release_of_information WHERE id = ?", active) == 1
    assert count("SELECT count(*) FROM person") == 1  # named by the open follow-up
    assert count("SELECT count(*) FROM purged") >= 300 and not any(
        old in [r[0] for r in cache.db.execute("SELECT id FROM outreach_contact")]
        for old in old_contacts)
    assert cache_size(cache) < before * 0.5, (before, cache_size(cache))
    # the next sync matches without fetching any of it back
    again = engine.run_sync(cache)
    assert again["check"] == "ok" and again["pulled"] == 0 and again["repaired_rows"] == 0
    cache.close()


def test_a_role_or_team_change_shrinks_the_copy_on_the_next_sync(agency, laptop):
    clinician = laptop("clin.b", "clinician", teams=("mhst-2",))
    encounter = encounters.save_encounter(clinician, {"presenting_situation": "welfare_check"})
    encounters.add_clinical_note(clinician, encounter, "team two's note")
    engine.run_sync(clinician)
    both = laptop("clin.ab", "clinician", teams=("mhst-1", "mhst-2"))
    changes.create(both, "outreach_contact", {"team": "mhst-1", "contacted_at": RECENT})
    engine.run_sync(both)
    assert both.db.execute("SELECT count(*) FROM clinical_note").fetchone()[0] == 1
    with agency.engine.begin() as conn:  # the agency moves them to officer, team one only
        accounts.change_scope(conn, "clin.ab", "officer", ["mhst-1"], actor="cli:test")
    summary = engine.run_sync(both)
    assert summary["scope_changed"] and summary["check"] == "ok", summary
    assert both.profile.role == "officer" and both.profile.teams == ("mhst-1",)
    held = {t: both.db.execute(f"SELECT count(*) FROM [{t}]").fetchone()[0]
            for t in ("clinical_note", "encounter", "outreach_contact")}
    assert held == {"clinical_note": 0, "encounter": 0, "outreach_contact": 1}, held
    assert json.loads(both.db.execute("SELECT teams FROM profile").fetchone()[0]) == ["mhst-1"]
    with agency.engine.begin() as conn:  # and back: the copy grows again
        accounts.change_scope(conn, "clin.ab", "clinician", ["mhst-1", "mhst-2"], actor="cli:t")
    summary = engine.run_sync(both)
    assert summary["scope_changed"] and summary["check"] == "ok"
    assert both.db.execute("SELECT count(*) FROM clinical_note").fetchone()[0] == 1
    assert agency.scalar("SELECT count(*) FROM admin_audit WHERE action = "
                         "'user.scope_changed'") == 2
