"""The encounter form: drafts as you type (surviving a restart), saving, and the notes' audience."""

from fieldapp import drafts, encounters, shifts
from tests.ui.conftest import click, close_window, settle, sign_in_again
from ui.encounter import PeopleModel
from ui.qt import Qt


def situation(view, value):
    return next(b for b in view.situation.buttons() if b.property("value") == value)


def wait_for_draft(qtbot, window, session, key):
    qtbot.waitUntil(lambda: drafts.load_draft(session, key) is not None, timeout=5000)
    settle(qtbot, window)


def test_draft_is_saved_while_typing_and_reopens_after_restart(qtbot, open_window, officer):
    window = open_window(officer)
    view = window.show_screen("encounter")
    settle(qtbot, window)
    click(qtbot, situation(view, "welfare_check"))
    qtbot.keyClicks(view.police_note, "Subject calm, sitting on curb.")
    encounter_id = view.encounter_id
    key = encounters.draft_key(encounter_id)
    wait_for_draft(qtbot, window, officer, key)
    assert drafts.load_draft(officer, key)["values"]["police_note"] == "Subject calm, sitting on curb."

    close_window(qtbot, window)  # and start again: the draft is all there is
    again = open_window(sign_in_again(officer)).show_screen("encounter")
    settle(qtbot, again.window())
    assert again.encounter_id == encounter_id
    assert again.police_note.toPlainText() == "Subject calm, sitting on curb."
    assert situation(again, "welfare_check").isChecked()


def test_save_writes_people_encounter_and_flags_and_drops_the_draft(qtbot, open_window, officer):
    shift_id = shifts.start_shift(officer, "2M14")
    window = open_window(officer)
    view = window.show_screen("encounter")
    settle(qtbot, window)
    click(qtbot, situation(view, "mental_health_crisis"))
    qtbot.keyClicks(view.place, "Reid Park, east ramada")
    qtbot.keyClicks(view.person_text, "Dana Whitfield")
    click(qtbot, view.findChild(type(view.save_button), "addPerson"))
    view.person_kind.setCurrentIndex(view.person_kind.findData("anonymous"))
    qtbot.keyClicks(view.person_text, "man in red jacket")
    qtbot.keyClick(view.person_text, Qt.Key.Key_Return)
    view.disposition.setCurrentIndex(view.disposition.findData("transported_crc_voluntary"))
    click(qtbot, view.flags["connected_to_care"])
    qtbot.keyClicks(view.police_note, "Voluntary transport to CRC.")
    encounter_id = view.encounter_id
    qtbot.keyClick(view.police_note, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot, window)

    saved = encounters.view_encounter(officer, encounter_id)
    assert saved["presenting_situation"] == "mental_health_crisis"
    assert saved["place"] == "Reid Park, east ramada"
    assert saved["disposition"] == "transported_crc_voluntary"
    assert saved["connected_to_care"] is True and saved["use_of_force"] is False
    assert saved["shift_id"] == shift_id
    people = [officer.db["person"].get(p) for p in saved["person_ids"]]
    assert [(p["kind"], p["first_name"], p["last_name"], p["description"]) for p in people] == [
        ("named", "Dana", "Whitfield", None), ("anonymous", None, None, "man in red jacket")]
    assert drafts.drafts(officer, "encounter") == []
    assert view.encounter_id != encounter_id and view.police_note.toPlainText() == ""


def test_missing_situation_is_marked_next_to_it(qtbot, open_window, officer):
    window = open_window(officer)
    view = window.show_screen("encounter")
    settle(qtbot, window)
    qtbot.keyClicks(view.police_note, "note")
    click(qtbot, view.save_button)
    settle(qtbot, window)
    assert view.errors.shown()["presenting_situation"] == "required"
    assert view.errors.label("presenting_situation").isVisible()
    assert officer.db["encounter"].count == 0


def test_clinician_saves_a_clinical_note_with_its_own_draft(qtbot, open_window, clinician):
    window = open_window(clinician)
    view = window.show_screen("encounter")
    settle(qtbot, window)
    click(qtbot, situation(view, "suicidal_ideation"))
    qtbot.keyClicks(view.clinical_note, "PHQ-9 deferred; safety plan reviewed.")
    encounter_id = view.encounter_id
    wait_for_draft(qtbot, window, clinician, encounters.clinical_draft_key(encounter_id))
    click(qtbot, view.save_button)
    settle(qtbot, window)
    notes = encounters.clinical_notes(clinician, encounter_id)
    assert [n["body"] for n in notes] == ["PHQ-9 deferred; safety plan reviewed."]
    assert drafts.drafts(clinician) == []


def test_people_model(qtmodeltester):
    model = PeopleModel()
    model.add({"kind": "alias", "alias": "Tex"})
    model.add({"kind": "anonymous", "description": None})
    qtmodeltester.check(model)
