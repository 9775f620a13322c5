"""CRC drop-off: arrive, hand off, clear; the big clock's colours; the delay reason when over."""

from datetime import timedelta

from fieldapp import changes, crc, shifts
from fieldapp.timeutil import utc_now
from tests.ui.conftest import settle
from ui.crc import clock_state, mmss
from ui.qt import Qt


def test_arrive_hand_off_and_clear_within_target(qtbot, open_window, officer):
    shift_id = shifts.start_shift(officer, "2M14")
    window = open_window(officer)
    view = window.show_screen("crc")
    settle(qtbot, window)
    qtbot.mouseClick(view.arrive_button, Qt.MouseButton.LeftButton)
    settle(qtbot, window)
    dropoff = crc.open_dropoff(officer)
    assert dropoff["transport"] == "voluntary" and dropoff["shift_id"] == shift_id
    assert shifts.current_status(officer, shift_id) == "at_crc"
    assert view.pages.currentIndex() == 1 and view.clock.text().startswith("00:0")
    assert view.clock.property("state") == "ok"

    qtbot.keyClick(view, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # handed off
    settle(qtbot, window)
    assert changes.get(officer, "crc_dropoff", dropoff["id"])["handed_off_at"]
    qtbot.mouseClick(view.clear_button, Qt.MouseButton.LeftButton)
    settle(qtbot, window)
    assert changes.get(officer, "crc_dropoff", dropoff["id"])["cleared_at"]
    assert shifts.current_status(officer, shift_id) == "available"
    assert view.pages.currentIndex() == 0


def test_over_target_turns_red_and_asks_the_reason_before_clearing(qtbot, open_window, officer):
    dropoff_id = crc.arrive(officer, "involuntary", at=utc_now() - timedelta(minutes=9))
    window = open_window(officer)
    view = window.show_screen("crc")
    settle(qtbot, window)
    assert view.clock.property("state") == "over"
    assert view.reason.isVisible()
    assert "over" in view.target_label.text()

    qtbot.mouseClick(view.handoff_button, Qt.MouseButton.LeftButton)
    settle(qtbot, window)
    qtbot.mouseClick(view.clear_button, Qt.MouseButton.LeftButton)  # no reason yet
    settle(qtbot, window)
    assert changes.get(officer, "crc_dropoff", dropoff_id)["cleared_at"] is None
    assert "delay_reason" in view.errors.shown()
    assert view.errors.label("delay_reason").isVisible()

    qtbot.keyClicks(view.reason, "Medical clearance at intake")
    qtbot.mouseClick(view.clear_button, Qt.MouseButton.LeftButton)
    settle(qtbot, window)
    cleared = changes.get(officer, "crc_dropoff", dropoff_id)
    assert cleared["cleared_at"] and cleared["delay_reason"] == "Medical clearance at intake"


def test_clock_colours_and_format():
    target = 7 * 60
    assert [clock_state(s, target) for s in (0, 299, 300, 420, 421)] == [
        "ok", "ok", "near", "near", "over"]
    assert mmss(0) == "00:00" and mmss(421.9) == "07:01"


def seconds(text: str) -> int:
    minutes, secs = text.split(":")
    return int(minutes) * 60 + int(secs)


def test_elapsed_and_time_left_add_up_to_the_target(qtbot, open_window, officer):
    """Once 00:10 elapsed showed with 06:49 left (6:59): both were rounded down apart."""
    shift_id = shifts.start_shift(officer, "2M14")
    crc.arrive(officer, "voluntary", shift_id=shift_id, at=utc_now() - timedelta(seconds=10.6))
    window = open_window(officer)
    view = window.show_screen("crc")
    settle(qtbot, window)
    for _ in range(3):
        left = view.target_label.text().split("—")[1].split()[0]
        assert seconds(view.clock.text()) + seconds(left) == 7 * 60, view.target_label.text()
        qtbot.wait(400)
        view._update_clock()
