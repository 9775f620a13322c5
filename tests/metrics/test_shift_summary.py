"""The end-of-shift summary against a shift worked out by hand."""

from datetime import date, timedelta

import pytest

from fieldapp import crc, encounters, followups, outreach, persons, settings, shift_summary, shifts
from fieldapp.errors import NotFound
from fieldapp.metrics import compute

from month_fixture import as_team, local

DAY = date(2026, 11, 4)


def at(hour, minute=0):
    return local(DAY, hour, minute)


def work_a_shift(officer):
    """08:00-16:00 for team mhst-1, with work inside, outside and on the edges of its hours."""
    shift = shifts.start_shift(officer, "2M14", "4471",
                               [{"username": "clin.okafor", "role": "clinician"}], at=at(8))
    # The CRC screen's arrive and clear set "at CRC" and "available" themselves.
    for minute, status in ((30, "en_route"), (45, "on_scene"), (105, "transporting")):
        shifts.set_status(officer, shift, status, at=at(8) + timedelta(minutes=minute))
    first = encounters.save_encounter(officer, {
        "shift_id": shift, "started_at": at(8, 45), "presenting_situation": "suicidal_ideation",
        "disposition": "transported_crc_voluntary", "connected_to_care": True})
    encounters.save_encounter(officer, {
        "shift_id": shift, "started_at": at(11), "presenting_situation": "welfare_check",
        "disposition": "resolved_on_scene", "stabilized_on_scene": True})
    encounters.save_encounter(officer, {  # at the very end: part of the shift
        "shift_id": shift, "started_at": at(16), "presenting_situation": "dispute",
        "disposition": "resolved_on_scene"})
    encounters.save_encounter(officer, {  # before the shift
        "started_at": at(7, 59), "presenting_situation": "other", "disposition": "declined"})
    other_team = as_team(officer, "mhst-2", "ofc.chen", "officer")
    encounters.save_encounter(other_team, {
        "started_at": at(12), "presenting_situation": "other", "disposition": "jail_booking"})

    quick = crc.arrive(officer, "voluntary", encounter_id=first, shift_id=shift, at=at(10, 10))
    crc.hand_off(officer, quick, at=at(10, 15))          # 5 minutes
    crc.clear(officer, quick, at=at(10, 30))             # 20 minutes to back in service
    slow = crc.arrive(officer, "involuntary", shift_id=shift, at=at(13))
    crc.hand_off(officer, slow, at=at(13, 9), delay_reason="intake queue")  # 9 minutes
    crc.arrive(officer, "voluntary", shift_id=shift, at=at(15, 50))         # still waiting

    outreach.log_contact(officer, services_offered=["food", "shelter_info"], referral="CRC walk-in",
                         at=at(12, 30))
    person = persons.add_person(officer, {"kind": "alias", "alias": "Ray"})
    done = followups.create_follow_up(officer, {"person_id": person, "reason": "crc_discharge",
                                                "due_on": DAY})
    followups.log_attempt(officer, done, "phone", "no_answer", at=at(7))      # before the shift
    followups.log_attempt(officer, done, "phone", "no_answer", at=at(9))
    followups.log_attempt(officer, done, "visit", "completed", at=at(14))
    still_open = followups.create_follow_up(officer, {"person_id": person,
                                                      "reason": "post_crisis_check",
                                                      "due_on": DAY + timedelta(days=1)})
    followups.log_attempt(officer, still_open, "phone", "left_message", at=at(15))
    shifts.end_shift(officer, shift, at=at(16))
    return shift


def test_a_shift_by_hand(officer):
    settings.put(officer.db, "crc_target_minutes", 7)
    settings.put(officer.db, "booking_baseline_minutes", 90)
    shift = work_a_shift(officer)
    summary = shift_summary.summarize(officer, shift)

    assert summary.minutes == pytest.approx(480, abs=0.001)
    # in service 08:00, en route 08:30, on scene 08:45, transporting 09:45, at CRC 10:10,
    # available 10:30, at CRC 13:00 and again 15:50, out of service 16:00.
    assert summary.status_minutes == {"in_service": 30, "en_route": 15, "on_scene": 60,
                                      "transporting": 25, "at_crc": 20 + 180, "available": 150,
                                      "out_of_service": 0}
    assert summary.status_changes == 8
    assert summary.value("calls.mental_health") == 3
    assert summary.dispositions == {"resolved_on_scene": 2, "transported_crc_voluntary": 1}
    assert summary.value("care.connected_to_care") == 1
    assert summary.value("care.stabilized_on_scene") == 1
    assert summary.value("crc.dropoffs") == 3
    assert summary.value("crc.transport.involuntary") == 1
    assert summary.check_ins == [5, 9]
    assert summary.check_ins_within_target == 1
    assert summary.parameters.booking_baseline_minutes == 90
    assert summary.value("patrol.time_saved_minutes") == 90 - 20
    assert summary.value("outreach.engagements") == 1
    assert summary.value("outreach.services_offered") == 2
    assert summary.value("outreach.referrals") == 1
    assert (summary.follow_up_attempts, summary.follow_ups_done) == (3, 1)
    # The same figures the monthly report would give over those hours: one definition each.
    assert {k: f.value for k, f in summary.figures.items()} == {
        k: f.value for k, f in compute(officer.db, summary.period, "mhst-1",
                                       summary.parameters, as_of=summary.period.end).items()}


def test_the_last_ended_shift(officer):
    assert shift_summary.summarize_last(officer) is None
    shift = work_a_shift(officer)
    later = shifts.start_shift(officer, "2M14", at=at(17))
    last = shift_summary.summarize_last(officer)
    assert last.shift["id"] == shift   # the open shift has not ended
    shifts.end_shift(officer, later, at=at(18))
    assert shift_summary.summarize_last(officer).shift["id"] == later
    assert shift_summary.summarize_last(officer).value("calls.mental_health") == 0


def test_a_shift_under_way_runs_to_now(officer):
    shift = shifts.start_shift(officer, "2M14", at=at(8))
    summary = shift_summary.summarize(officer, shift, now=at(9))
    assert summary.status_minutes == {"in_service": 60}
    with pytest.raises(NotFound):
        shift_summary.summarize(officer, "no-such-shift")
