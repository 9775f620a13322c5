"""The review screen, driven as a sergeant: the flagged queue, the shift's timeline, return
with a comment, approve after an amendment, work sent to the units; and the team's side."""

from datetime import timedelta

from fieldapp import changes, crc, encounters, review, shifts
from fieldapp.timeutil import to_iso, utc_now
from tests.conftest import make_session
from tests.ui.conftest import settle
from ui.qt import QDialogButtonBox, QLabel, QLineEdit, QPlainTextEdit, QPushButton, Qt
from ui.review import AssignmentDialog, ReviewView


def at(minutes_ago):
    return to_iso(utc_now() - timedelta(minutes=minutes_ago))


def worked_shift(session):
    """A shift with a use of force and an involuntary CRC drop-off 12 minutes to check in."""
    shift_id = shifts.start_shift(session, "MHST-12", "4412",
                                  [{"username": "ofc.ramirez", "role": "officer"}], at=at(480))
    encounter_id = encounters.save_encounter(session, {
        "shift_id": shift_id, "started_at": at(300), "presenting_situation": "suicidal_ideation",
        "disposition": "transported_crc_involuntary", "use_of_force": True,
        "use_of_force_type": "physical_control", "police_note": "Resisted transport."})
    dropoff = crc.arrive(session, "involuntary", encounter_id, shift_id, at=at(240))
    crc.hand_off(session, dropoff, at=at(228), delay_reason="intake backed up")
    shifts.end_shift(session, shift_id, at=at(10))
    return shift_id, encounter_id


def click(qtbot, view, name):
    qtbot.mouseClick(view.findChild(QPushButton, name), Qt.MouseButton.LeftButton)


def test_sergeant_returns_then_approves(qtbot, open_window, data_dir):
    sergeant = make_session(data_dir, "sgt.lee", "supervisor")
    shift_id, encounter_id = worked_shift(sergeant)
    window = open_window(sergeant)
    view = window.current_view
    assert isinstance(view, ReviewView)
    settle(qtbot, window)
    assert view.queue_model.rowCount() == 1
    flags = view.queue_model.data(view.queue_model.index(0, 1))
    # Unsynced too: this cache wrote the shift itself and has not synced it yet.
    assert flags == "Force · CRC late · Involuntary · Unsynced"
    records = [(view.timeline_model.data(view.timeline_model.index(r, 1)),
                view.timeline_model.data(view.timeline_model.index(r, 2)))
               for r in range(view.timeline_model.rowCount())]
    assert any(t.startswith("CRC drop-off") and "over target" in d for t, d in records)
    assert any(t.startswith("Encounter") and "Use of force" in d for t, d in records)

    # Returning needs a comment; the click without one writes nothing.
    click(qtbot, view, "returnShift")
    settle(qtbot, window)
    assert "Say what the team should fix" in view.errors.shown()["comment"]
    assert sergeant.db["shift_review"].count == 0
    comment = view.findChild(QPlainTextEdit, "reviewComment")
    qtbot.keyClicks(comment, "Describe the force used.")
    click(qtbot, view, "returnShift")
    settle(qtbot, window)
    [row] = list(sergeant.db.query("SELECT decision, comment, shift_id FROM shift_review"))
    assert row == {"decision": "returned", "comment": "Describe the force used.",
                   "shift_id": shift_id}
    assert view.queue_model.data(view.queue_model.index(0, 0)).endswith("\nReturned")
    assert not view.findChild(QPushButton, "approveShift").isEnabled()

    # The team amends (on their laptop; here the same cache); the shift comes back.
    review.amend(sergeant, "encounter", encounter_id,
                 {"police_note": "Resisted; escort hold by Ofc. Ramirez."}, "Force described.")
    view.refresh()
    settle(qtbot, window)
    assert view.queue_model.data(view.queue_model.index(0, 0)).endswith("\nAmended")
    qtbot.keyClick(view, Qt.Key.Key_A, Qt.KeyboardModifier.AltModifier)
    settle(qtbot, window)
    assert review.review_state(sergeant, shift_id)[0] == "approved"
    assert view.queue_model.rowCount() == 0
    actions = {r["action"] for r in sergeant.db.query("SELECT action FROM audit_event")}
    assert {"shift.return", "shift.approve", "shift.amend"} <= actions
    sergeant.close()


def test_sergeant_sends_an_assignment_and_imports_a_discharge_list(qtbot, open_window,
                                                                   data_dir, tmp_path):
    sergeant = make_session(data_dir, "sgt.lee", "supervisor")
    window = open_window(sergeant)
    view = window.current_view
    click(qtbot, view, "newAssignment")
    dialog = view.findChild(AssignmentDialog)
    dialog.unit.clear()
    qtbot.keyClicks(dialog.unit, "MHST-12")
    qtbot.keyClicks(dialog.summary, "Check on Mr. Tex at Ronstadt Center")
    ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
    settle(qtbot, window)
    [a] = list(sergeant.db.query("SELECT unit, source, summary, status FROM assignment"))
    assert a == {"unit": "MHST-12", "source": "supervisor",
                 "summary": "Check on Mr. Tex at Ronstadt Center", "status": "open"}

    path = tmp_path / "discharges.csv"
    path.write_bytes("last_name,first_name,discharged_on\nNúñez,José,05/14/2026\n,Sam,x\n"
                     .encode("cp1252"))
    view.import_list(str(path))
    settle(qtbot, window)
    notice = view.findChild(QLabel, "reviewNotice")
    assert "1 follow-up(s) created" in notice.text() and "row 3, last_name: required" in \
        notice.text()
    [f] = list(sergeant.db.query("SELECT reason, due_on FROM follow_up"))
    assert f == {"reason": "crc_discharge", "due_on": "2026-05-15"}
    sergeant.close()


def test_team_sees_the_returned_comment_and_answers(qtbot, open_window, data_dir):
    officer = make_session(data_dir, "ofc.ramirez", "officer")
    shift_id, _ = worked_shift(officer)
    # The sergeant's return, as it arrives by sync (written here with a supervisor's profile).
    changes.create(officer, "shift_review", {
        "team": "mhst-1", "shift_id": shift_id, "decision": "returned",
        "comment": "Add the delay reason detail.", "reviewed_at": at(1)})
    window = open_window(officer)
    view = window.current_view
    settle(qtbot, window)
    notice = view.findChild(QLabel, "returnedComment")
    assert notice.isVisible() and "Add the delay reason detail." in notice.text()
    qtbot.keyClicks(view.findChild(QLineEdit, "reviewAnswer"), "Intake had two ahead of us.")
    click(qtbot, view, "sendAnswer")
    settle(qtbot, window)
    [a] = list(officer.db.query("SELECT record_table, reason FROM amendment"))
    assert a == {"record_table": "shift", "reason": "Intake had two ahead of us."}
    assert not notice.isVisible()
    assert review.review_state(officer, shift_id)[0] == "amended"
    officer.close()
