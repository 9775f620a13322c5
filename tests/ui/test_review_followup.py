"""A sergeant sends one follow-up to a unit from the review screen, driven as a user: search the
person, pick them, choose reason and priority, type the due date, OK; what the store holds is
one follow-up record with its outbox op, so it syncs to the team like any record."""

import json

from fieldapp import persons
from tests.conftest import make_session
from tests.ui.conftest import settle
from tests.ui.test_review import click
from ui.encounter import SEARCH_DELAY_MS
from ui.qt import QComboBox, QDialogButtonBox, QLabel, QLineEdit, Qt
from ui.review import FollowUpDialog


def retype(qtbot, widget, text):
    widget.setFocus()
    qtbot.keyClick(widget, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(widget, text)


def matches(dialog):
    return [persons.label(p) for p in dialog.matches.rows]


def search(qtbot, window, dialog, text):
    retype(qtbot, dialog.person_text, text)
    qtbot.wait(SEARCH_DELAY_MS + 50)
    settle(qtbot, window)


def ok(qtbot, window, dialog):
    button = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    settle(qtbot, window)


def test_sergeant_assigns_a_follow_up_to_a_unit(qtbot, open_window, data_dir):
    sergeant = make_session(data_dir, "sgt.lee", "supervisor", ("mhst-1", "mhst-2"))
    jose = persons.add_person(sergeant, {"kind": "named", "first_name": "José",
                                         "last_name": "Núñez", "high_utilizer": True})
    persons.add_person(sergeant, {"kind": "alias", "alias": "Tex"})
    persons.add_person(sergeant, {"kind": "named", "first_name": "Joseph", "last_name": "Nunn",
                                  "team": "mhst-2"})
    window = open_window(sergeant)
    view = window.view("review")
    click(qtbot, view, "newFollowUp")
    settle(qtbot, window)
    dialog = view.findChild(FollowUpDialog)
    assert dialog.isVisible()
    # Before typing, the team's people are listed to choose from; the other team's are not.
    assert sorted(matches(dialog)) == ["José Núñez", "“Tex”"]

    # OK with no one picked and a mistyped date: nothing is written, both fields say why.
    retype(qtbot, dialog.due, "05/20")
    ok(qtbot, window, dialog)
    assert dialog.isVisible()
    shown = dialog.errors.shown()
    assert shown["person_id"] == "required" and "like 2026-11-21" in shown["due_on"]
    assert sergeant.db["follow_up"].count == 0

    search(qtbot, window, dialog, "jos")  # keyClicks types ASCII only
    assert matches(dialog) == ["José Núñez"]
    index = dialog.matches.index(0)
    qtbot.mouseClick(dialog.matches_view.viewport(), Qt.MouseButton.LeftButton,
                     pos=dialog.matches_view.visualRect(index).center())
    assert dialog.findChild(QLabel, "followUpPicked").text() == "Follow-up for José Núñez"
    reason = dialog.reason
    reason.setFocus()
    qtbot.keyClick(reason, Qt.Key.Key_Down)  # crc discharge → court order
    qtbot.keyClick(reason, Qt.Key.Key_Down)  # → high utilizer
    priority = dialog.findChildren(QComboBox)[2]
    assert priority is dialog.priority
    priority.setFocus()
    qtbot.keyClick(priority, Qt.Key.Key_Up)  # 2 → 1 (urgent)
    retype(qtbot, dialog.due, "2026-06-02")
    assignee = dialog.findChild(QLineEdit, "followUpAssignee")
    retype(qtbot, assignee, "MHST-12")
    qtbot.keyClicks(dialog.note, "Missed his clinic appointment twice.")
    ok(qtbot, window, dialog)

    [f] = list(sergeant.db.query(
        "SELECT id, team, person_id, reason, due_on, priority, assignee, status, note, author "
        "FROM follow_up"))
    assert {k: v for k, v in f.items() if k != "id"} == {
        "team": "mhst-1", "person_id": jose, "reason": "high_utilizer", "due_on": "2026-06-02",
        "priority": 1, "assignee": "MHST-12", "status": "open",
        "note": "Missed his clinic appointment twice.", "author": "sgt.lee"}
    [op] = list(sergeant.db.query(
        "SELECT kind, fields, state FROM outbox WHERE table_name = 'follow_up' AND record_id = ?",
        [f["id"]]))
    assert op["kind"] == "create" and op["state"] == "pending"
    assert json.loads(op["fields"])["assignee"] == "MHST-12"
    notice = view.findChild(QLabel, "reviewNotice")
    assert notice.isVisible()
    assert "José Núñez due Tue 02 Jun assigned to MHST-12" in notice.text()
    sergeant.close()


def test_the_other_team_lists_its_own_people(qtbot, open_window, data_dir):
    sergeant = make_session(data_dir, "sgt.lee", "supervisor", ("mhst-1", "mhst-2"))
    persons.add_person(sergeant, {"kind": "named", "first_name": "José", "last_name": "Núñez"})
    joseph = persons.add_person(sergeant, {"kind": "named", "first_name": "Joseph",
                                           "last_name": "Nunn", "team": "mhst-2"})
    window = open_window(sergeant)
    view = window.view("review")
    click(qtbot, view, "newFollowUp")
    settle(qtbot, window)
    dialog = view.findChild(FollowUpDialog)
    dialog.team.setFocus()
    qtbot.keyClick(dialog.team, Qt.Key.Key_Down)
    settle(qtbot, window)
    assert dialog.team.currentText() == "mhst-2" and matches(dialog) == ["Joseph Nunn"]
    dialog.matches_view.setFocus()
    dialog.matches_view.setCurrentIndex(dialog.matches.index(0))
    qtbot.keyClick(dialog.matches_view, Qt.Key.Key_Return)  # Enter picks, as a click does
    settle(qtbot, window)
    assert dialog.isVisible() and sergeant.db["follow_up"].count == 0  # and does not send
    assert dialog.findChild(QLabel, "followUpPicked").text() == "Follow-up for Joseph Nunn"
    ok(qtbot, window, dialog)
    [f] = list(sergeant.db.query("SELECT team, person_id, assignee, reason FROM follow_up"))
    assert f == {"team": "mhst-2", "person_id": joseph, "assignee": None,
                 "reason": "crc_discharge"}
    sergeant.close()
