"""The end-of-shift summary: end the shift as a crew would, then read the numbers it shows."""

from datetime import timedelta

from fieldapp import crc, encounters, followups, metrics, outreach, persons, shifts
from fieldapp.shift_summary import summarize
from fieldapp.timeutil import utc_now
from tests.ui.conftest import click, end_shift, settle
from ui.qt import QLabel, QPushButton
from ui.shift_summary import ShiftSummaryDialog, duration


def a_worked_shift(officer):
    """A shift started 3 hours ago, with two encounters, two drop-offs, outreach, follow-ups."""
    start = utc_now() - timedelta(hours=3)
    shift = shifts.start_shift(officer, "2M14", "4471", at=start)
    shifts.set_status(officer, shift, "en_route", at=start + timedelta(minutes=10))
    first = encounters.save_encounter(officer, {
        "shift_id": shift, "started_at": start + timedelta(minutes=20),
        "presenting_situation": "mental_health_crisis",
        "disposition": "transported_crc_involuntary", "connected_to_care": True})
    encounters.save_encounter(officer, {
        "shift_id": shift, "started_at": start + timedelta(minutes=100),
        "presenting_situation": "welfare_check", "disposition": "referred"})
    arrived = start + timedelta(minutes=40)
    dropoff = crc.arrive(officer, "involuntary", encounter_id=first, shift_id=shift, at=arrived)
    crc.hand_off(officer, dropoff, at=arrived + timedelta(minutes=6))
    crc.clear(officer, dropoff, at=arrived + timedelta(minutes=25))
    arrived = start + timedelta(minutes=130)
    second = crc.arrive(officer, "voluntary", shift_id=shift, at=arrived)
    crc.hand_off(officer, second, at=arrived + timedelta(minutes=12), delay_reason="queue")
    crc.clear(officer, second, at=arrived + timedelta(minutes=30))
    outreach.log_contact(officer, services_offered=["food"], at=start + timedelta(minutes=150))
    person = persons.add_person(officer, {"kind": "alias", "alias": "Ray"})
    follow_up = followups.create_follow_up(officer, {"person_id": person, "reason": "crc_discharge",
                                                     "due_on": start.date()})
    followups.log_attempt(officer, follow_up, "phone", "no_answer",
                          at=start + timedelta(minutes=60))
    followups.log_attempt(officer, follow_up, "visit", "completed",
                          at=start + timedelta(minutes=170))
    return shift


def shown(dialog) -> dict[str, str]:
    return {key: label.text() for key, label in dialog.values.items()}


def test_ending_the_shift_shows_what_the_crew_did(qtbot, open_window, officer):
    shift = a_worked_shift(officer)
    window = open_window(officer)
    view = window.view("shift")
    end_shift(qtbot, window, view)

    dialog = view.summary_dialog
    assert isinstance(dialog, ShiftSummaryDialog) and dialog.isVisible()
    assert dialog.summary.shift["id"] == shift and dialog.summary.shift["ended_at"]
    values = shown(dialog)
    assert values["calls.mental_health"] == "2"
    assert values["calls.disposition.transported_crc_involuntary"] == "1"
    assert values["calls.disposition.referred"] == "1"
    assert values["crc.dropoffs"] == "2"
    assert values["crc.transport.involuntary"] == "1"
    assert values["crc.check_in.1"] == "6.0 min ✓ within target"
    assert values["crc.check_in.2"] == "12.0 min ▲ 5.0 over"
    assert values["crc.within_target"] == "1 of 2"
    # Baseline 120 minutes: (120 - 25) + (120 - 30) = 185 minutes.
    assert values["patrol.time_saved_minutes"] == "3.1 h (185 min)"
    assert values["care.connected_to_care"] == "1"
    assert values["outreach.engagements"] == "1"
    assert (values["followups.attempts_logged"], values["followups.completed"]) == ("2", "1")
    assert values["status.en_route"] == duration(30)  # 0:10 en route, 0:40 at the CRC
    # Every figure shown is metrics' own over the shift's hours and team.
    summary = summarize(officer, shift)
    want = metrics.compute(officer.db, summary.period, "mhst-1", summary.parameters,
                           as_of=summary.period.end)
    for key in ("calls.mental_health", "crc.dropoffs", "outreach.engagements"):
        assert values[key] == str(want[key].value)
    dialog.findChild(QPushButton).click()
    assert not dialog.isVisible()


def test_the_last_shift_summary_from_the_start_page(qtbot, open_window, officer):
    window = open_window(officer)
    view = window.view("shift")
    click(qtbot, view.last_summary_button)
    settle(qtbot, window)
    assert "No shift of yours has ended" in view.errors.shown()[""]

    shift = a_worked_shift(officer)
    shifts.end_shift(officer, shift)
    click(qtbot, view.last_summary_button)
    settle(qtbot, window)
    dialog = view.summary_dialog
    assert dialog.summary.shift["id"] == shift
    assert shown(dialog)["crc.dropoffs"] == "2"
    assert dialog.findChild(QLabel, "value_followups.completed").text() == "1"
