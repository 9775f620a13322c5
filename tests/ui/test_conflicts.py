"""Conflicts: both values shown; choosing one writes it as a normal change and resolves the row."""

import json

from fieldapp import assignments, changes, review
from fieldapp.timeutil import now_iso
from tests.ui.conftest import settle
from ui.conflicts import ConflictsModel, decode
from ui.qt import QPushButton, Qt


def conflict(session, record_id, field, kept, other):
    with session.db.atomic():  # what the sync engine writes when two devices changed one field
        session.db["conflict"].insert({
            "id": f"c-{field}", "table_name": "assignment", "record_id": record_id,
            "field": field, "kept_value": json.dumps(kept), "other_value": json.dumps(other),
            "detected_at": now_iso()})


def test_choosing_the_other_value_patches_the_record(qtbot, open_window, officer):
    a = assignments.create_assignment(officer, {
        "source": "supervisor", "type": "scheduled_task", "priority": 2,
        "summary": "Check on Tex", "place": "Ronstadt Center"})
    conflict(officer, a, "place", "Ronstadt Center", "Santa Rita Park")
    conflict(officer, a, "priority", 2, 1)
    window = open_window(officer)
    assert window.status.conflicts.text() == "2 conflicts to review"
    qtbot.mouseClick(window.status.conflicts, Qt.MouseButton.LeftButton)
    settle(qtbot, window)
    view = window.current_view
    assert window.current_key == "conflicts" and view.model.rowCount() == 2
    shown = [[view.model.data(view.model.index(r, c)) for c in (1, 2, 3)] for r in range(2)]
    assert ["Place", "Ronstadt Center", "Santa Rita Park"] in shown

    place_row = next(r for r in range(2) if view.model.data(view.model.index(r, 1)) == "Place")
    view.table.selectRow(place_row)
    qtbot.mouseClick(view.findChild(QPushButton, "useOther"), Qt.MouseButton.LeftButton)
    settle(qtbot, window)
    assert changes.get(officer, "assignment", a)["place"] == "Santa Rita Park"
    row = officer.db["conflict"].get("c-place")
    assert row["resolution"] == "other" and row["resolved_at"]

    view.table.selectRow(0)
    qtbot.keyClick(view.table, Qt.Key.Key_K, Qt.KeyboardModifier.AltModifier)  # keep
    settle(qtbot, window)
    assert officer.db["conflict"].get("c-priority")["resolution"] == "kept"
    assert changes.get(officer, "assignment", a)["priority"] == 2
    assert view.model.rowCount() == 0
    assert window.status.conflicts.text() == "No conflicts"


def test_decode_follows_the_field_type():
    assert decode("assignment", "priority", "1") == 1
    assert decode("assignment", "place", "123") == "123"  # a text field keeps text
    assert decode("assignment", "place", '"Main St"') == "Main St"
    assert decode("assignment", "place", None) is None


def test_conflicts_model(qtmodeltester, officer):
    a = assignments.create_assignment(officer, {
        "source": "supervisor", "type": "scheduled_task", "priority": 2, "summary": "x"})
    conflict(officer, a, "summary", "x", None)
    model = ConflictsModel()
    model.set_rows(review.open_conflicts(officer))
    qtmodeltester.check(model)
