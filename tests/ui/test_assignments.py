"""Assignments: acknowledge, take and clear with a disposition, by click and by shortcut."""

from fieldapp import assignments, changes, shifts
from tests.ui.conftest import settle
from ui.assignments import AssignmentsModel
from ui.qt import Qt


def add(session, summary, priority=2):
    return assignments.create_assignment(session, {
        "source": "cad", "cad_incident": "T26-1", "type": "call_for_service",
        "priority": priority, "summary": summary, "place": "5th and Main"})


def test_acknowledge_take_and_clear(qtbot, open_window, officer):
    shift_id = shifts.start_shift(officer, "2M14")
    urgent = add(officer, "Man on overpass, suicidal statements", priority=1)
    add(officer, "Welfare check on elderly woman", priority=3)
    window = open_window(officer)
    view = window.show_screen("assignments")
    settle(qtbot, window)
    assert view.model.rowCount() == 2
    assert view.model.data(view.model.index(0, 0)) == "P1"  # most urgent first
    view.table.selectRow(0)

    qtbot.mouseClick(view.ack_button, Qt.MouseButton.LeftButton)
    settle(qtbot, window)
    assert changes.get(officer, "assignment", urgent)["status"] == "acknowledged"

    qtbot.keyClick(view.table, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot, window)
    taken = changes.get(officer, "assignment", urgent)
    assert (taken["status"], taken["unit"], taken["shift_id"]) == ("taken", "2M14", shift_id)

    qtbot.mouseClick(view.clear_button, Qt.MouseButton.LeftButton)  # no disposition yet
    settle(qtbot, window)
    assert changes.get(officer, "assignment", urgent)["status"] == "taken"
    assert "disposition" in view.errors.shown() and view.errors.label("disposition").isVisible()

    view.disposition.setCurrentIndex(view.disposition.findData("transported_crc_voluntary"))
    qtbot.keyClick(view.table, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot, window)
    cleared = changes.get(officer, "assignment", urgent)
    assert (cleared["status"], cleared["disposition"]) == ("cleared", "transported_crc_voluntary")
    assert view.model.rowCount() == 1


def test_acting_with_nothing_selected_says_so(qtbot, open_window, officer):
    add(officer, "Welfare check")
    window = open_window(officer)
    view = window.show_screen("assignments")
    settle(qtbot, window)
    view.table.clearSelection()
    qtbot.mouseClick(view.ack_button, Qt.MouseButton.LeftButton)
    assert view.errors.shown() == {"": "Select an assignment first."}


def test_assignments_model(qtmodeltester, officer):
    add(officer, "Welfare check", 1)
    model = AssignmentsModel()
    model.set_rows(assignments.open_assignments(officer))
    qtmodeltester.check(model)


def test_the_list_shows_and_groups_by_apco_type(qtbot, open_window, officer):
    for summary, kind in (("Shouting at cars", "mental_health_crisis"),
                          ("Neighbor not seen in days", "welfare_check"),
                          ("Man on the bridge rail", "mental_health_crisis"),
                          ("Bike stolen", "BIKE")):
        assignments.create_assignment(officer, {
            "source": "cad", "type": "call_for_service", "priority": 2, "summary": summary,
            "incident_type": kind})
    window = open_window(officer)
    view = window.show_screen("assignments")
    settle(qtbot, window)
    column = AssignmentsModel.COLUMNS.index("Type")
    assert {view.model.data(view.model.index(r, column)) for r in range(4)} == {
        "MNTL", "WELFARE", "unmapped"}
    assert not view.groups.isVisible()
    qtbot.mouseClick(view.group, Qt.MouseButton.LeftButton)
    settle(qtbot, window)
    assert [view.model.data(view.model.index(r, column)) for r in range(4)] == [
        "MNTL", "MNTL", "WELFARE", "unmapped"]
    assert view.groups.text() == ("MNTL Mental Person Non-Violent: 2   ·   WELFARE Man Down "
                                  "Check, Welfare Check: 1   ·   unmapped: 1")
