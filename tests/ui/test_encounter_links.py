"""The encounter form links people already on file and the unit's assignment, as a user does it:
type to search, click a match, pick the assignment (or start from the assignments screen)."""

from fieldapp import assignments, encounters, persons, shifts
from tests.ui.conftest import click, close_window, settle, sign_in_again
from ui.qt import QPushButton, Qt


def click_row(qtbot, view, row):
    rect = view.visualRect(view.model().index(row, 0))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def choose_situation(qtbot, view, value):
    click(qtbot, next(b for b in view.situation.buttons() if b.property("value") == value))


def search(qtbot, window, view, text):
    view.person_text.clear()
    qtbot.keyClicks(view.person_text, text)
    qtbot.waitUntil(lambda: view.matches_view.isVisible() or not text, timeout=5000)
    settle(qtbot, window)
    return [persons.label(r) for r in view.matches.rows]


def views_of(session, person_id):
    return session.db.execute(
        "SELECT count(*) FROM audit_event WHERE action = 'person.view' AND record_id = ?",
        [person_id]).fetchone()[0]


def test_a_person_on_file_is_found_by_name_or_alias_and_linked_not_copied(
        qtbot, open_window, officer):
    dana = persons.add_person(officer, {"kind": "named", "first_name": "Dana",
                                        "last_name": "Whitfield",
                                        "safety_cautions": "startles at sirens"})
    shorty = persons.add_person(officer, {"kind": "alias", "alias": "Shorty Dee"})
    persons.add_person(officer, {"kind": "named", "first_name": "Dana", "last_name": "Elsewhere",
                                 "team": "other-team"})  # another team's: never offered
    people_before = officer.db["person"].count
    window = open_window(officer)
    view = window.show_screen("encounter")
    settle(qtbot, window)

    assert search(qtbot, window, view, "dana whit") == ["Dana Whitfield"]
    assert search(qtbot, window, view, "dana") == ["Dana Whitfield"]
    assert views_of(officer, dana) == 0  # a list of names is not a view of a record
    click_row(qtbot, view.matches_view, 0)
    settle(qtbot, window)
    assert view.person_text.text() == "" and not view.matches_view.isVisible()
    assert "startles at sirens" in view.people.display(view.people.rows[0])

    assert search(qtbot, window, view, "shorty") == ["“Shorty Dee”"]
    view.matches_view.setFocus()
    view.matches_view.setCurrentIndex(view.matches.index(0))
    qtbot.keyClick(view.matches_view, Qt.Key.Key_Return)
    settle(qtbot, window)
    qtbot.keyClicks(view.person_text, "Robin Vale")  # no match: added as someone new
    click(qtbot, view.findChild(QPushButton, "addPerson"))

    choose_situation(qtbot, view, "welfare_check")
    encounter_id = view.encounter_id
    qtbot.keyClick(view.police_note, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot, window)

    saved = encounters.view_encounter(officer, encounter_id)
    assert saved["person_ids"][:2] == [dana, shorty]
    assert officer.db["person"].count == people_before + 1
    new = officer.db["person"].get(saved["person_ids"][2])
    assert (new["first_name"], new["last_name"]) == ("Robin", "Vale")
    assert views_of(officer, dana) == 1 and views_of(officer, shorty) == 1


def test_the_unit_s_assignment_is_chosen_and_stored_and_survives_a_restart(
        qtbot, open_window, officer):
    shifts.start_shift(officer, "2M14")
    call = assignments.create_assignment(officer, {
        "source": "cad", "cad_incident": "T26-0412", "type": "call_for_service", "priority": 1,
        "summary": "Man on overpass railing", "place": "Grant Rd & I-10"})
    done = assignments.create_assignment(officer, {
        "source": "supervisor", "type": "scheduled_task", "priority": 2,
        "summary": "Already handled", "place": "HQ"})
    assignments.clear(officer, done, "completed")
    window = open_window(officer)
    view = window.show_screen("encounter")
    settle(qtbot, window)
    offered = [view.assignment.itemData(i) for i in range(view.assignment.count())]
    assert offered == [None, call]  # cleared assignments are not offered

    view.assignment.setFocus()
    qtbot.keyClick(view.assignment, Qt.Key.Key_Down)
    assert view.assignment.currentData() == call
    settle(qtbot, window)
    encounter_id = view.encounter_id  # the call's: a partner's laptop writes the same record
    assert encounter_id == encounters.id_for_assignment(call)
    assert view.call_label.text() == "CAD T26-0412 — Man on overpass railing"
    choose_situation(qtbot, view, "suicidal_ideation")
    qtbot.waitUntil(lambda: officer.db["draft"].count == 1, timeout=5000)
    settle(qtbot, window)

    close_window(qtbot, window)  # and start again: the draft keeps the link
    officer = sign_in_again(officer)
    again = open_window(officer).show_screen("encounter")
    settle(qtbot, again.window())
    assert again.encounter_id == encounter_id and again.assignment.currentData() == call
    qtbot.keyClick(again.police_note, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot, again.window())
    assert encounters.view_encounter(officer, encounter_id)["assignment_id"] == call
    assert again.assignment.currentData() is None  # the next encounter starts unlinked


def test_an_encounter_started_from_the_assignments_screen_is_linked_to_it(
        qtbot, open_window, officer):
    shifts.start_shift(officer, "2M14")
    call = assignments.create_assignment(officer, {
        "source": "cad", "cad_incident": "T26-0413", "type": "call_for_service", "priority": 2,
        "summary": "Welfare check, elderly man", "place": "Himmel Park"})
    window = open_window(officer)
    listing = window.show_screen("assignments")
    settle(qtbot, window)
    click_row(qtbot, listing.table, 0)
    click(qtbot, listing.encounter_button)
    settle(qtbot, window)
    assert window.current_key == "encounter"
    view = window.views["encounter"]
    assert view.assignment.currentData() == call

    choose_situation(qtbot, view, "welfare_check")
    encounter_id = view.encounter_id
    click(qtbot, view.save_button)
    settle(qtbot, window)
    assert encounters.view_encounter(officer, encounter_id)["assignment_id"] == call
