"""The review core without a server: flags that the end-to-end test does not reach, amendments
of append-only records, and who may decide."""

from datetime import date, timedelta

import pytest

from fieldapp import changes, followups, persons, review, shifts
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
