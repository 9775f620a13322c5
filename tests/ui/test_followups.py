"""Follow-ups in working order; an attempt in two clicks; the person's history beside them."""

from datetime import timedelta

from fieldapp import agency, changes, followups, persons
from tests.ui.conftest import settle
from ui.followups import FollowUpsModel, HistoryModel
from ui.qt import Qt


def seed(session):
    today = agency.today(session.db)  # the agency's day, as the screen reads it
    dana = persons.add_person(session, {"kind": "named", "first_name": "Dana",
                                        "last_name": "Whitfield", "safety_cautions": "dog on site"})
    tex = persons.add_person(session, {"kind": "alias", "alias": "Tex"})
    ids = {}
    for name, person, days in (("upcoming", tex, 3), ("overdue", dana, -2), ("today", tex, 0)):
        ids[name] = followups.create_follow_up(session, {
            "person_id": person, "reason": "crc_discharge",
            "due_on": (today + timedelta(days=days)).isoformat()})
    return ids, dana


def row_center(view, row):
    rect = view.table.visualRect(view.model.index(row, 2))
    return rect.center()


def row_selected(qtbot, open_window, officer, row=0):
    """The seeded list on screen with a row selected (the first: Dana, overdue)."""
    ids, dana = seed(officer)
    window = open_window(officer)
    view = window.show_screen("followups")
    settle(qtbot, window)
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=row_center(view, row))
    settle(qtbot, window)
    return ids, dana, window, view


def test_overdue_then_today_then_upcoming_and_two_click_attempt(qtbot, open_window, officer):
    ids, dana = seed(officer)
    window = open_window(officer)
    view = window.show_screen("followups")
    settle(qtbot, window)
    assert [view.model.data(view.model.index(r, 0)) for r in range(3)] == [
        "Overdue", "Today", "Upcoming"]
    assert view.model.data(view.model.index(0, 2)) == "Dana Whitfield"

    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=row_center(view, 0))
    qtbot.mouseClick(view.outcome_buttons["no_answer"], Qt.MouseButton.LeftButton)
    settle(qtbot, window)
    attempts = followups.attempts(officer, ids["overdue"])
    assert [(a["method"], a["outcome"]) for a in attempts] == [("phone", "no_answer")]
    assert "dog on site" in view.person_label.text()
    assert any("phone: no answer" in view.history.data(view.history.index(r)).lower()
               for r in range(view.history.rowCount()))
    # viewing the person's history is an audited view of a sensitive record
    assert officer.db.execute("SELECT count(*) FROM audit_event WHERE action = 'person.view' "
                              "AND record_id = ?", [dana]).fetchone()[0] >= 1


def test_completed_closes_the_follow_up(qtbot, open_window, officer):
    ids, _, window, view = row_selected(qtbot, open_window, officer, row=1)
    qtbot.keyClick(view.table, Qt.Key.Key_4, Qt.KeyboardModifier.AltModifier)  # completed
    settle(qtbot, window)
    assert changes.get(officer, "follow_up", ids["today"])["status"] == "done"
    assert view.model.rowCount() == 2
    # no one stays on show beside the list once their row has left it
    assert view.person_label.text() == "Select a follow-up to see the person's history."
    assert view.history.rowCount() == 0


def test_a_second_press_while_the_first_is_logged_logs_nothing_more(qtbot, open_window,
                                                                    officer):
    """A press and an impatient second one (or Alt+1) before the first is stored."""
    ids, _, window, view = row_selected(qtbot, open_window, officer)
    qtbot.mouseClick(view.outcome_buttons["no_answer"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(view.outcome_buttons["no_answer"], Qt.MouseButton.LeftButton)
    qtbot.keyClick(view.table, Qt.Key.Key_1, Qt.KeyboardModifier.AltModifier)
    settle(qtbot, window)
    assert [a["outcome"] for a in followups.attempts(officer, ids["overdue"])] == ["no_answer"]
    assert view.outcome_buttons["no_answer"].isEnabled()


def test_models(qtmodeltester, officer):
    ids, dana = seed(officer)
    model = FollowUpsModel()
    model.set_rows(followups.worklist(officer))
    qtmodeltester.check(model)
    history = HistoryModel()
    followups.log_attempt(officer, ids["overdue"], "visit", "reached", note="doing better")
    history.set_rows(followups.person_history(officer, dana))
    qtmodeltester.check(history)


def test_an_attempt_takes_a_note_and_the_history_shows_it_in_the_one_date_format(
        qtbot, open_window, officer):
    ids, dana, window, view = row_selected(qtbot, open_window, officer)
    qtbot.keyClicks(view.note, "Sister says he moved to the shelter on 4th Ave")
    qtbot.mouseClick(view.outcome_buttons["left_message"], Qt.MouseButton.LeftButton)
    settle(qtbot, window)

    attempts = followups.attempts(officer, ids["overdue"])
    assert attempts[0]["note"] == "Sister says he moved to the shelter on 4th Ave"
    assert view.note.text() == ""  # ready for the next one
    lines = [view.history.data(view.history.index(r)) for r in range(view.history.rowCount())]
    assert any("moved to the shelter" in line for line in lines)
    due = agency.today(officer.db) - timedelta(days=2)
    shown = " ".join(lines) + " " + " ".join(
        view.model.data(view.model.index(r, 1)) for r in range(view.model.rowCount()))
    assert due.isoformat() not in shown and due.strftime("%a %d %b") in shown
    # long lines wrap inside the history: it never scrolls sideways
    assert view.history_view.wordWrap()
    assert view.history_view.horizontalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff


def test_select_a_follow_up_first_goes_away_once_one_is_selected(qtbot, open_window, officer):
    seed(officer)
    window = open_window(officer)
    view = window.show_screen("followups")
    settle(qtbot, window)
    qtbot.mouseClick(view.outcome_buttons["reached"], Qt.MouseButton.LeftButton)
    assert view.errors.shown() == {"": "Select a follow-up first."}
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=row_center(view, 0))
    settle(qtbot, window)
    assert view.errors.shown() == {}


def test_an_empty_list_says_what_to_do(qtbot, open_window, peer):
    window = open_window(peer)
    view = window.show_screen("followups")
    settle(qtbot, window)
    assert view.model.rowCount() == 0
    assert view.empty.isVisible() and "supervisor assigns" in view.empty.text()
    assert "select it" in view.empty.text()
