"""The review core without a server: flags that the end-to-end test does not reach, amendments
of append-only records, and who may decide."""

from datetime import date, timedelta

import pytest

from fieldapp import changes, crc, encounters, followups, persons, review, shifts
from fieldapp.errors import TandemError, ValidationError
from fieldapp.timeutil import to_iso, utc_now
from tests.conftest import make_session


def at(minutes_ago):
    return to_iso(utc_now() - timedelta(minutes=minutes_ago))


def mark_synced(session):
    """As if every op had been confirmed by the server."""
    with session.db.atomic():
        session.db.execute("DELETE FROM outbox")


@pytest.fixture
def sergeant(data_dir):
    s = make_session(data_dir, "sgt.lee", "supervisor")
    yield s
    s.close()


def ended_shift(session, unit="MHST-12"):
    shift_id = shifts.start_shift(session, unit, at=at(300))
    return shift_id


def test_overdue_follow_ups_of_the_unit_and_a_missing_dropoff(sergeant):
    shift_id = ended_shift(sergeant)
    shifts.set_status(sergeant, shift_id, "at_crc", at=at(200))  # no drop-off record arrived
    shifts.end_shift(sergeant, shift_id, at=at(5))
    person = persons.add_person(sergeant, {"kind": "alias", "alias": "Blue Jacket"})
    followups.create_follow_up(sergeant, {"person_id": person, "reason": "court_order",
                                          "due_on": date.today() - timedelta(days=2),
                                          "assignee": "MHST-12"})
    mark_synced(sergeant)
    [item] = review.queue(sergeant)
    assert item.flags == ["overdue_follow_ups", "unsynced"]
    assert review.flags(sergeant, item.shift, today=date.today() - timedelta(days=5)) == \
        ["unsynced"]


def test_synced_shift_with_nothing_to_see_has_no_flags(sergeant):
    shift_id = ended_shift(sergeant)
    shifts.end_shift(sergeant, shift_id, at=at(5))
    [item] = review.queue(sergeant)
    assert item.flags == ["unsynced"]  # still in this laptop's outbox
    mark_synced(sergeant)
    assert review.queue(sergeant)[0].flags == []


def test_amending_an_append_only_record_keeps_the_original(sergeant):
    shift_id = ended_shift(sergeant)
    event = shifts.set_status(sergeant, shift_id, "on_scene", at=at(100), note="wrong place")
    shifts.end_shift(sergeant, shift_id, at=at(5))
    review.amend(sergeant, "shift_event", event, {"note": "Reid Park"}, "typo in the place")
    assert changes.get(sergeant, "shift_event", event)["note"] == "wrong place"
    [amendment] = [e for e in review.timeline(sergeant, shift_id) if e["table"] == "amendment"]
    assert amendment["detail"] == "Note: wrong place → Reid Park — typo in the place"
    with pytest.raises(ValidationError, match="reason"):
        review.amend(sergeant, "shift_event", event, {"note": "x"}, " ")


def test_only_supervisors_decide_and_only_on_ended_shifts(data_dir, sergeant):
    open_shift = ended_shift(sergeant)
    with pytest.raises(TandemError, match="not ended"):
        review.approve(sergeant, open_shift)
    shifts.end_shift(sergeant, open_shift, at=at(1))
    with pytest.raises(ValidationError, match="comment"):
        review.return_shift(sergeant, open_shift, "  ")
    officer = make_session(data_dir, "ofc.ramirez", "officer")
    try:
        with pytest.raises(TandemError, match="only a supervisor"):
            review.approve(officer, open_shift)
    finally:
        officer.close()


def test_a_queue_of_many_shifts_flags_each_shift_by_its_own_records(sergeant):
    """Read for all shifts at once, each shift's state and flags come from its records only."""
    want = {}
    for i in range(9):
        start = 100 * (40 - i)  # minutes ago; the first shift is the oldest
        shift_id = shifts.start_shift(sergeant, f"MHST-{i}", at=at(start))
        flags = set()
        if i % 3 == 0:
            encounters.save_encounter(sergeant, {"shift_id": shift_id, "started_at": at(start - 5),
                                                 "presenting_situation": "dispute",
                                                 "use_of_force": True})
            flags.add("use_of_force")
        if i % 4 in (1, 2):  # an involuntary transport, or a check-in of 9 minutes
            kind = "involuntary" if i % 4 == 1 else "voluntary"
            dropoff = crc.arrive(sergeant, kind, shift_id=shift_id, at=at(start - 10))
            crc.hand_off(sergeant, dropoff, at=at(start - 12 if i % 4 == 1 else start - 19),
                         delay_reason="intake busy")
            flags.add("involuntary" if i % 4 == 1 else "crc_over_target")
        if i == 5:
            shifts.set_status(sergeant, shift_id, "at_crc", at=at(start - 20))  # no drop-off
            flags.add("unsynced")
        if i == 7:
            person = persons.add_person(sergeant, {"kind": "alias", "alias": "Blue Jacket"})
            followups.create_follow_up(sergeant, {"person_id": person, "reason": "court_order",
                                                  "due_on": date.today() - timedelta(days=2),
                                                  "assignee": "MHST-7"})
            flags.add("overdue_follow_ups")
        shifts.end_shift(sergeant, shift_id, at=at(start - 60))
        want[shift_id] = flags
    mark_synced(sergeant)
    ids = list(want)
    review.approve(sergeant, ids[2])
    review.return_shift(sergeant, ids[3], "Say what happened.")
    event = sergeant.db.execute("SELECT id FROM shift_event WHERE shift_id = ?",
                                [ids[3]]).fetchone()[0]
    review.amend(sergeant, "shift_event", event, {}, "Answered.")  # in the outbox again
    want[ids[3]].add("unsynced")
    with sergeant.db.atomic():
        sergeant.db["conflict"].insert({"id": "c1", "table_name": "shift_event",
                                        "record_id": event, "field": "note",
                                        "kept_value": '"a"', "other_value": '"b"',
                                        "detected_at": at(1)})
    want[ids[3]].add("conflict")

    items = review.queue(sergeant)
    assert [i.id for i in items] == [sid for sid in reversed(ids) if sid != ids[2]]
    states = {i.id: i.state for i in items}
    assert states[ids[3]] == "amended" and {states[s] for s in ids if s not in ids[2:4]} == \
        {"waiting"}
    assert {i.id: set(i.flags) for i in items} == {s: f for s, f in want.items() if s != ids[2]}
    for item in items:
        assert item.flags == review.flags(sergeant, item.shift)  # the same, alone
    assert review.review_state(sergeant, ids[2])[0] == "approved"


def test_the_timeline_names_an_assignments_source_and_cad_incident_once(sergeant):
    from fieldapp import assignments
    shift_id = ended_shift(sergeant)
    for values in ({"source": "cad", "cad_incident": "T2611210042", "priority": 1},
                   {"source": "supervisor", "cad_incident": "T2611210043", "priority": 2},
                   {"source": "supervisor", "priority": 3}):
        aid = assignments.create_assignment(sergeant, {"type": "call_for_service",
                                                       "summary": "Welfare check", **values})
        assignments.take(sergeant, aid, "MHST-12", shift_id, at=at(250 - values["priority"]))
    titles = [e["title"] for e in review.timeline(sergeant, shift_id) if e["table"] == "assignment"]
    assert titles == ["Assignment P1 (CAD incident T2611210042)",
                      "Assignment P2 (Supervisor, CAD incident T2611210043)",
                      "Assignment P3 (Supervisor)"]
