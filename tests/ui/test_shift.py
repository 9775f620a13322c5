"""Starting a shift, one-tap status changes, and the timeline, driven as a user would."""

from fieldapp import roster, shifts
from tests.ui.conftest import click, end_shift, settle
from ui.qt import Qt
from ui.shift import TimelineModel


ROSTER = [{"username": "clin.okafor", "display_name": "Adaeze Okafor, LPC",
           "role": "clinician", "teams": ["mhst-1"], "unit": "MHST-11", "vehicle": "V-2214"},
          {"username": "ofc.whitfield", "display_name": "Ofc. Casey Whitfield",
           "role": "officer", "teams": ["mhst-1"], "unit": None, "vehicle": None}]


def test_start_shift_with_a_partner_from_the_roster_then_tap_statuses(qtbot, open_window,
                                                                       officer):
    roster.replace(officer, ROSTER)
    window = open_window(officer)
    view = window.view("shift")
    assert [view.partner.itemText(n) for n in range(view.partner.count())] == [
        "No partner", "Adaeze Okafor, LPC — Clinician (clin.okafor)",
        "Ofc. Casey Whitfield — Officer (ofc.whitfield)"]  # clinicians first, for an officer
    view.partner.setCurrentIndex(1)
    assert (view.unit.text(), view.vehicle.text()) == ("MHST-11", "V-2214")  # her usual car
    view.vehicle.clear()
    qtbot.keyClicks(view.vehicle, "4471")  # a different car tonight
    view.partner.setCurrentIndex(2)
    view.partner.setCurrentIndex(1)
    assert view.vehicle.text() == "4471"  # what is typed stays
    click(qtbot, view.start_button)
    settle(qtbot, window)

    shift = shifts.active_shift(officer)
    assert shift["unit"] == "MHST-11" and shift["vehicle"] == "4471"
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


def test_without_a_roster_the_shift_starts_alone_and_says_why(qtbot, open_window, officer):
    window = open_window(officer)
    view = window.view("shift")
    assert not view.partner.isEnabled() and view.roster_hint.isVisible()
    qtbot.keyClicks(view.unit, "2M14")
    click(qtbot, view.start_button)
    settle(qtbot, window)
    assert [m["username"] for m in shifts.active_shift(officer)["members"]] == ["ofc.ramirez"]


def test_the_partners_shift_appears_after_a_sync(qtbot, open_window, officer, clinician):
    """The clinician's own laptop: the officer's shift naming her arrives (here written as a
    pull would) and the sync's change signal turns the start page into the shift."""
    window = open_window(clinician)
    view = window.view("shift")
    assert view.pages.currentIndex() == 0
    sid = shifts.start_shift(officer, "MHST-11", partners=[{"username": "clin.okafor",
                                                            "role": "clinician"}])
    shift = officer.db["shift"].get(sid)
    event = next(iter(officer.db.query("SELECT * FROM shift_event")))
    with clinician.db.atomic():  # as sync.engine applies a pulled page
        clinician.db["shift"].insert({**shift, "server_version": 1})
        clinician.db["shift_event"].insert({**event, "server_version": 1})
    window.ctx.changed.emit(frozenset({"shift", "shift_event"}))  # what that sync wrote
    settle(qtbot, window)
    assert view.pages.currentIndex() == 1 and window.ctx.shift_id == sid
    assert "with ofc.ramirez" in view.summary.text()
    click(qtbot, view.status_buttons["on_scene"])
    settle(qtbot, window)
    assert [e["status"] for e in shifts.timeline(clinician, sid)] == ["in_service", "on_scene"]
