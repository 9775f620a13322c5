"""The team answers a returned shift by amending one of its records, driven as the officer does:
open the dialog from the notice, pick the record, change fields, say why, Ctrl+S. And an edit
of an ended shift's record anywhere else is refused with the plain message, not a bug report."""

import json
from datetime import timedelta

from fieldapp import assignments, changes, crc, drafts, encounters, review, shifts
from fieldapp.timeutil import parse_iso, to_iso
from tests.conftest import make_session
from tests.ui.conftest import settle
from tests.ui.test_review import at, click, worked_shift
from ui import timefmt
from ui.amend import TIME_FORMAT, AmendDialog
from ui.qt import QApplication, QComboBox, QLabel, QLineEdit, QMessageBox, QPlainTextEdit, Qt

ENDED = "belongs to a shift that ended"


def returned(session, shift_id, comment):
    """The sergeant's return, as it arrives by sync."""
    changes.create(session, "shift_review", {
        "team": "mhst-1", "shift_id": shift_id, "decision": "returned", "comment": comment,
        "reviewed_at": at(1)})


def open_dialog(qtbot, window) -> AmendDialog:
    view = window.view("shift")
    assert view.findChild(QLabel, "returnedComment").isVisible()
    click(qtbot, view, "amendRecord")
    settle(qtbot, window)
    dialog = window.findChild(AmendDialog)
    assert dialog.isVisible()
    return dialog


def pick(qtbot, window, dialog, title_start):
    view = dialog.records_view
    [row] = [n for n, e in enumerate(dialog.records.rows) if e["title"].startswith(title_start)]
    rect = view.visualRect(dialog.records.index(row))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    settle(qtbot, window)
    assert dialog.picked["title"].startswith(title_start)


def retype(qtbot, widget, text):
    widget.setFocus()
    qtbot.keyClick(widget, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(widget, text)


def bug_reports():
    return [w for w in QApplication.topLevelWidgets()
            if isinstance(w, QMessageBox) and w.objectName() == "bugReport" and w.isVisible()]


def test_officer_amends_the_encounter_the_sergeant_asked_about(qtbot, open_window, data_dir):
    officer = make_session(data_dir, "ofc.ramirez", "officer")
    shift_id, encounter_id = worked_shift(officer)
    returned(officer, shift_id, "Describe the force used.")
    window = open_window(officer)
    dialog = open_dialog(qtbot, window)
    titles = [e["title"] for e in dialog.records.rows]
    assert titles == ["Encounter: suicidal ideation", "CRC drop-off (involuntary)"]

    pick(qtbot, window, dialog, "Encounter")
    note = dialog.findChild(QPlainTextEdit, "amend_police_note")
    assert note.toPlainText() == "Resisted transport."
    retype(qtbot, note, "Resisted transport; escort hold by Ofc. Ramirez, no injuries.")
    disposition = dialog.findChild(QComboBox, "amend_disposition")
    disposition.setFocus()
    qtbot.keyClick(disposition, Qt.Key.Key_Up)  # one up the list: transported CRC voluntary
    assert disposition.currentData() == "transported_crc_voluntary"

    # No reason: nothing is written, the reason field says what is missing.
    dialog.activateWindow()
    qtbot.waitActive(dialog)
    qtbot.keyClick(dialog, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot, window)
    assert "Say why" in dialog.errors.shown()["reason"]
    assert officer.db["amendment"].count == 0

    qtbot.keyClicks(dialog.findChild(QLineEdit, "amendReason"), "Sergeant asked for detail.")
    qtbot.keyClick(dialog, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot, window)
    [a] = list(officer.db.query("SELECT * FROM amendment"))
    assert (a["record_table"], a["record_id"], a["reason"]) == (
        "encounter", encounter_id, "Sergeant asked for detail.")
    assert sorted(c["field"] for c in json.loads(a["changes"])) == ["disposition",
                                                                     "police_note"]
    stored = changes.get(officer, "encounter", encounter_id)
    assert stored["police_note"] == "Resisted transport; escort hold by Ofc. Ramirez, no injuries."
    assert stored["disposition"] == "transported_crc_voluntary"
    assert stored["use_of_force"] is True  # untouched fields stay as they were
    actions = [r["action"] for r in officer.db.query("SELECT action FROM audit_event")]
    assert "encounter.view" in actions and "shift.amend" in actions
    assert review.review_state(officer, shift_id)[0] == "amended"
    assert "The supervisor sees it" in dialog.findChild(QLabel, "amendSaved").text()
    # The form shows what is stored now, so saving again without a change writes nothing.
    assert dialog.findChild(QComboBox, "amend_disposition").currentData() == \
        "transported_crc_voluntary"
    qtbot.keyClick(dialog, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot, window)
    assert "Nothing changed" in dialog.errors.shown()[""]
    assert officer.db["amendment"].count == 1

    click(qtbot, dialog, "closeAmend")
    settle(qtbot, window)
    assert not window.view("shift").findChild(QLabel, "returnedComment").isVisible()
    assert not bug_reports()
    officer.close()


def test_a_mistyped_time_is_named_and_a_corrected_one_clears_the_flag(qtbot, open_window,
                                                                      data_dir):
    officer = make_session(data_dir, "ofc.ramirez", "officer")
    shift_id, _ = worked_shift(officer)
    assert "crc_over_target" in review.flags(officer, changes.get(officer, "shift", shift_id))
    returned(officer, shift_id, "Check-in 12 minutes? Check the hand-off time.")
    window = open_window(officer)
    dialog = open_dialog(qtbot, window)
    pick(qtbot, window, dialog, "CRC drop-off")
    [dropoff_id] = [e["id"] for e in dialog.records.rows if e["table"] == "crc_dropoff"]
    dropoff = changes.get(officer, "crc_dropoff", dropoff_id)
    handed = dialog.findChild(QLineEdit, "amend_handed_off_at")
    assert handed.text() == timefmt.local(dropoff["handed_off_at"]).strftime(TIME_FORMAT)

    retype(qtbot, handed, "14:05")
    qtbot.keyClicks(dialog.findChild(QLineEdit, "amendReason"), "Wrote the clear time.")
    click(qtbot, dialog, "saveAmendment")
    settle(qtbot, window)
    assert "like 2026-05-14 14:05" in dialog.errors.shown()["handed_off_at"]
    assert officer.db["amendment"].count == 0

    real = (parse_iso(dropoff["arrived_at"]) + timedelta(minutes=5)).astimezone(timefmt.zone())
    retype(qtbot, handed, real.strftime(TIME_FORMAT))
    click(qtbot, dialog, "saveAmendment")
    settle(qtbot, window)
    assert dialog.errors.shown() == {}
    stored = changes.get(officer, "crc_dropoff", dropoff_id)
    assert stored["handed_off_at"] == to_iso(real.replace(second=0, microsecond=0))
    assert stored["delay_reason"] == "intake backed up"
    assert "crc_over_target" not in review.flags(officer, changes.get(officer, "shift", shift_id))
    officer.close()


def test_editing_an_ended_shifts_records_elsewhere_says_amend(qtbot, open_window, data_dir):
    """The encounter form, the CRC screen and the assignments screen each show the core's
    refusal where they show errors; nothing is written and no bug report opens."""
    officer = make_session(data_dir, "ofc.ramirez", "officer")
    shift_id = shifts.start_shift(officer, "MHST-12", "4412", [], at=at(300))
    encounter_id = encounters.save_encounter(officer, {
        "shift_id": shift_id, "started_at": at(290), "presenting_situation": "welfare_check"})
    assignment_id = assignments.create_assignment(officer, {
        "source": "supervisor", "type": "scheduled_task", "priority": 2,
        "summary": "Check on Mr. Tex", "received_at": at(295)})
    assignments.take(officer, assignment_id, "MHST-12", shift_id, at=at(294))
    crc.arrive(officer, "voluntary", encounter_id, shift_id, at=at(60))
    shifts.end_shift(officer, shift_id, at=at(5))
    # An encounter draft left from before the shift ended, for the saved encounter.
    drafts.save_draft(officer, encounters.draft_key(encounter_id), "encounter", {
        "id": encounter_id, "values": {"presenting_situation": "welfare_check",
                                       "place": "Reid Park", "shift_id": shift_id}})
    outbox = officer.db["outbox"].count
    window = open_window(officer)

    encounter = window.show_screen("encounter")
    settle(qtbot, window)
    assert encounter.place.text() == "Reid Park"
    qtbot.keyClick(encounter, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot, window)
    assert ENDED in encounter.errors.shown()[""] and "amendment" in encounter.errors.shown()[""]

    crc_view = window.show_screen("crc")
    settle(qtbot, window)
    click(qtbot, crc_view, "handOff")
    settle(qtbot, window)
    assert ENDED in crc_view.errors.shown()[""]

    view = window.show_screen("assignments")
    settle(qtbot, window)
    view.table.selectRow(0)
    view.disposition.setCurrentIndex(view.disposition.findData("completed"))
    click(qtbot, view, "clear")
    settle(qtbot, window)
    assert ENDED in view.errors.shown()[""]

    assert changes.get(officer, "encounter", encounter_id)["place"] is None
    assert changes.get(officer, "assignment", assignment_id)["status"] == "taken"
    assert officer.db["outbox"].count == outbox  # nothing written
    assert not bug_reports()
    officer.close()
