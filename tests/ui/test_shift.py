"""Starting a shift, one-tap status changes, and the timeline, driven as a user would."""

from fieldapp import shifts
from tests.ui.conftest import click, end_shift, settle
from ui.qt import Qt
from ui.shift import TimelineModel


def test_start_shift_then_tap_statuses(qtbot, open_window, officer):
    window = open_window(officer)
    view = window.view("shift")
    qtbot.keyClicks(view.unit, "2M14")
    qtbot.keyClicks(view.vehicle, "4471")
    qtbot.keyClicks(view.partner, "clin.okafor")
    click(qtbot, view.start_button)
    settle(qtbot, window)

    shift = shifts.active_shift(officer)
    assert shift["unit"] == "2M14" and shift["vehicle"] == "4471"
    assert {"username": "clin.okafor", "role": "clinician"} in shift["members"]
    assert window.ctx.shift_id == shift["id"]
    assert view.pages.currentIndex() == 1

    click(qtbot, view.status_buttons["en_route"])
    settle(qtbot, window)
    qtbot.keyClick(view, Qt.Key.Key_2, Qt.KeyboardModifier.AltModifier)  # on scene
    settle(qtbot, window)
    statuses = [e["status"] for e in shifts.timeline(officer, shift["id"])]
    assert statuses == ["in_service", "en_route", "on_scene"]
    assert view.current.text().startswith("On scene since")
    assert view.timeline.rowCount() == 3
    assert view.timeline.data(view.timeline.index(0), TimelineModel.StatusRole) == "on_scene"


def test_start_shift_without_a_unit_marks_the_unit_field(qtbot, open_window, officer):
    window = open_window(officer)
    view = window.view("shift")
    qtbot.keyClick(view.unit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot, window)
    assert shifts.active_shift(officer) is None
    assert "unit" in view.errors.shown()
    assert view.errors.label("unit").isVisible()


def test_end_shift_after_confirming(qtbot, open_window, officer):
    shifts.start_shift(officer, "2M14")
    window = open_window(officer)
    view = window.view("shift")
    end_shift(qtbot, window, view)
    assert shifts.active_shift(officer) is None
    assert view.pages.currentIndex() == 0


def test_timeline_model(qtmodeltester):
    model = TimelineModel()
    model.set_events([{"id": "1", "status": "in_service", "at": "2026-11-21T14:00:00.000Z",
                       "note": None},
                      {"id": "2", "status": "en_route", "at": "2026-11-21T14:05:00.000Z",
                       "note": "to 5th and Main"}])
    qtmodeltester.check(model)
