"""Issue 7's proof, against a real server (SQLite and PostgreSQL) and three laptop caches: the
officer and clinician work a shift with an involuntary CRC drop-off over target and a use of
force; the supervisor sees it flagged, settles a conflict, returns it with a comment; the
officer sees the comment and amends; the supervisor approves; all three converge."""

import json
from datetime import timedelta

from fieldapp import changes, crc, encounters, review, shifts
from fieldapp.records import RECORD_TYPES
from fieldapp.timeutil import to_iso, utc_now
from sync import engine
from sync import protocol as P
from sync.conflicts import pull_conflicts

TEAM = "mhst-1"


def sync(*sessions):
    for s in sessions:
        summary = engine.run_sync(s)
        assert summary["rejected"] == 0, summary
        assert summary["check"] == "ok", summary


def shared_tables():
    """Tables every one of the three roles may hold."""
    return [t for t in P.PULLED_TABLES
            if all(P.may_read(role, t) for role in ("officer", "clinician", "supervisor"))]


def snapshot(session) -> dict:
    rows = {}
    for table in shared_tables():
        names = RECORD_TYPES[table].field_names
        for row in session.db.execute(
                f"SELECT id, server_version, deleted, {', '.join(f'[{n}]' for n in names)} "
                f"FROM [{table}]"):
            rows[(table, row[0])] = (row[1], row[2], dict(zip(names, row[3:])))
    return rows


def server_snapshot(agency) -> dict:
    tables = shared_tables()
    return {(r["table_name"], r["id"]): r["version"] for r in agency.rows(
        "SELECT table_name, id, version FROM record WHERE team = :t", t=TEAM)
        if r["table_name"] in tables}


def at(minutes_ago: float) -> str:
    return to_iso(utc_now() - timedelta(minutes=minutes_ago))


def test_shift_review_round_trip(agency, laptop):
    officer = laptop("ofc.ramirez", "officer")
    clinician = laptop("clin.okafor", "clinician")
    sergeant = laptop("sgt.lee", "supervisor")

    # The pair works a shift: an involuntary transport after a use of force, a slow check-in.
    shift_id = shifts.start_shift(officer, "MHST-12", "4412",
                                  [{"username": "clin.okafor", "role": "clinician"}], at=at(480))
    encounter_id = encounters.save_encounter(officer, {
        "shift_id": shift_id, "started_at": at(300), "presenting_situation": "suicidal_ideation",
        "disposition": "transported_crc_involuntary", "use_of_force": True,
        "use_of_force_type": "physical_control", "police_note": "Subject resisted transport."})
    dropoff_id = crc.arrive(officer, "involuntary", encounter_id, shift_id, at=at(240))
    crc.hand_off(officer, dropoff_id, at=at(228), delay_reason="intake backed up")
    crc.clear(officer, dropoff_id, at=at(220))
    sync(officer, clinician)
    encounters.add_clinical_note(clinician, encounter_id, "Expressed intent; safety plan started.")

    # Both change the drop-off's delay reason offline: a conflict, flagged on the later push.
    changes.patch(officer, "crc_dropoff", dropoff_id, {"delay_reason": "two ahead of us"})
    changes.patch(clinician, "crc_dropoff", dropoff_id, {"delay_reason": "nurse on break"})
    shifts.end_shift(officer, shift_id, at=at(10))
    sync(officer, clinician)
    assert len(review.open_conflicts(clinician)) == 1

    # The supervisor pulls the team's logs and the server's open conflicts.
    sync(sergeant)
    assert pull_conflicts(sergeant) == 1
    [item] = review.queue(sergeant)
    assert item.id == shift_id and item.state == "waiting"
    assert {"use_of_force", "crc_over_target", "involuntary", "conflict"} <= set(item.flags)
    entries = review.timeline(sergeant, shift_id)
    tables = [e["table"] for e in entries]
    assert "clinical_note" not in tables  # a sergeant never receives clinical notes
    assert {"shift_event", "encounter", "crc_dropoff"} <= set(tables)
    assert [e["at"] for e in entries] == sorted(e["at"] for e in entries)

    # The supervisor settles the conflict (keeping the officer's reason) and returns the shift.
    [conflict] = review.open_conflicts(sergeant)
    chosen = conflict["kept_value"] if json.loads(conflict["kept_value"]) == "two ahead of us" \
        else conflict["other_value"]
    choice = "kept" if chosen == conflict["kept_value"] else "other"
    review.resolve_conflict(sergeant, conflict["id"], choice)
    review.return_shift(sergeant, shift_id, "Describe the force used and who applied it.")
    sync(sergeant)
    [item] = review.queue(sergeant)
    assert item.state == "returned" and "conflict" not in item.flags
    assert agency.scalar("SELECT count(*) FROM conflict WHERE resolved_at IS NULL") == 0

    # The team sees the comment after sync; the conflict is settled on the clinician's laptop.
    sync(officer, clinician)
    [returned] = review.my_returned_shifts(officer)
    assert returned["review"]["comment"] == "Describe the force used and who applied it."
    assert review.my_returned_shifts(clinician)[0]["shift"]["id"] == shift_id
    assert review.open_conflicts(clinician) == []
    assert changes.get(clinician, "crc_dropoff", dropoff_id)["delay_reason"] == "two ahead of us"

    # The officer answers by amending the encounter (never a silent edit).
    review.amend(officer, "encounter", encounter_id,
                 {"police_note": "Subject resisted transport; Ofc. Ramirez used an escort hold."},
                 "Force described as asked.")
    assert review.review_state(officer, shift_id)[0] == "amended"
    sync(officer)
    assert review.my_returned_shifts(officer) == []

    sync(sergeant)
    [item] = review.queue(sergeant)
    assert item.state == "amended"
    amendment = [e for e in review.timeline(sergeant, shift_id) if e["table"] == "amendment"]
    assert "escort hold" in amendment[0]["detail"] and "Force described" in amendment[0]["detail"]
    review.approve(sergeant, shift_id)
    assert review.queue(sergeant) == []
    sync(sergeant, officer, clinician)
    sync(sergeant, officer, clinician)  # everyone sees everyone's last change

    # Converged: the same rows at the same versions on all three laptops and the server.
    expected = server_snapshot(agency)
    views = [snapshot(s) for s in (officer, clinician, sergeant)]
    for view in views:
        assert {k: v[0] for k, v in view.items()} == expected
        assert view == views[0]
    for s in (officer, clinician, sergeant):
        assert review.review_state(s, shift_id)[0] == "approved"
        assert changes.pending_ops(s) == 0
    # Review actions left audit events on the server.
    actions = {json.loads(r["data"])["action"] for r in agency.rows(
        "SELECT data FROM record WHERE table_name = 'audit_event'")}
    assert {"shift.return", "shift.approve", "shift.amend", "conflict.resolve"} <= actions


def test_only_supervisors_may_sign_off(agency, laptop):
    officer = laptop("ofc.ramirez", "officer")
    shift_id = shifts.start_shift(officer, "MHST-12", at=at(60))
    shifts.end_shift(officer, shift_id, at=at(1))
    # Written past the service's own check, as a tampered laptop could.
    changes.create(officer, "shift_review", {
        "team": TEAM, "shift_id": shift_id, "decision": "approved", "reviewed_at": at(0)})
    summary = engine.run_sync(officer)
    assert summary["rejected"] == 1
    reason = officer.db.execute(
        "SELECT last_error FROM outbox WHERE state = 'rejected'").fetchone()[0]
    assert "only supervisors" in reason
    assert agency.scalar("SELECT count(*) FROM record WHERE table_name = 'shift_review'") == 0
