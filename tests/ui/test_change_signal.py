"""One change signal: whatever writes to the cache (a save here, or a sync on the network
worker) says which tables it wrote, and every open screen that shows them redraws, keeping
its selection, with no navigation. First with a real agency server and two laptops, then
screen by screen with the write made on the window's network worker, as a sync makes it."""

from datetime import date, timedelta

import pytest

from fieldapp import (assignments, crc, followups, outreach, persons, review, shifts)
from fieldapp.timeutil import now_iso
from sync import engine, online
from tests.conftest import PASSWORD, make_session
from tests.sync.conftest import Agency
from tests.ui.conftest import settle
from ui.context import DIRECTORY
from ui.qt import Qt


@pytest.fixture
def agency(tmp_path):
    server = Agency(f"sqlite:///{tmp_path / 'server' / 'agency.db'}")
    yield server
    server.stop()


def task(summary, unit="2M14", priority=2):
    return {"source": "supervisor", "type": "scheduled_task", "priority": priority,
            "unit": unit, "summary": summary, "place": "HQ"}


def sync_now(qtbot, window):
    """F5, as the crew does; then wait for the sync and what it set off."""
    qtbot.keyClick(window, Qt.Key.Key_F5)
    assert window.status.syncing
    qtbot.waitUntil(lambda: not window.status.syncing, timeout=30_000)
    settle(qtbot, window)


def test_a_sergeants_assignment_appears_on_the_officers_open_screen_after_a_sync(
        qtbot, open_window, agency, tmp_path):
    """Issue 14, defect 4: the assignment was in the officer's cache after the sync, but the
    open Assignments screen showed nothing new until the officer went elsewhere and back."""
    agency.add_user("ofc.ramirez")
    agency.add_user("sgt.morales", "supervisor")
    officer = online.login(tmp_path / "officer", agency.url, "ofc.ramirez", PASSWORD)
    sergeant = online.login(tmp_path / "sergeant", agency.url, "sgt.morales", PASSWORD)
    shifts.start_shift(officer, "2M14")
    first = assignments.create_assignment(officer, task("Check on Tex"))
    engine.run_sync(officer)
    engine.run_sync(sergeant)
    window = open_window(officer)
    view = window.show_screen("assignments")
    settle(qtbot, window)
    view.table.selectRow(0)
    assert view.selected_id() == first

    urgent = assignments.create_assignment(sergeant, task("Welfare check, Reid Park", priority=1))
    engine.run_sync(sergeant)
    sync_now(qtbot, window)
    assert window.current_key == "assignments"
    assert [r["id"] for r in view.model.rows] == [urgent, first]  # most urgent first
    assert view.selected_id() == first  # the row the officer had selected stays selected
    sergeant.close()


def test_the_roster_a_sync_brings_is_offered_on_the_open_shift_screen(qtbot, open_window,
                                                                      agency, tmp_path):
    """The start page says the team's roster arrives with a sync; when it does, the open page
    offers the partner at once (it kept "No partner" until the officer left it and came
    back), keeping what was picked; a sync that brings the same roster redraws nothing."""
    agency.add_user("ofc.ramirez")
    officer = online.login(tmp_path / "officer", agency.url, "ofc.ramirez", PASSWORD)
    window = open_window(officer)
    view = window.show_screen("shift")
    settle(qtbot, window)
    assert view.partner.count() == 1 and not view.roster_hint.isHidden()

    agency.add_user("clin.okafor", "clinician")
    sync_now(qtbot, window)
    assert window.current_key == "shift"
    assert [view.partner.itemText(n) for n in range(view.partner.count())] == [
        "No partner", "clin.okafor — Clinician (clin.okafor)"]
    assert view.partner.isEnabled() and view.roster_hint.isHidden()
    view.partner.setCurrentIndex(1)

    redrawn = []
    window.ctx.changed.connect(lambda tables: redrawn.append(tables))
    sync_now(qtbot, window)
    assert not any("roster_member" in tables for tables in redrawn)
    assert view.partner.currentData()["username"] == "clin.okafor"


def test_the_review_list_changes_after_sync_now(qtbot, open_window, agency, tmp_path):
    """Issue 14, defect 4: the sergeant's review list did not change after "Sync now"."""
    agency.add_user("ofc.ramirez")
    agency.add_user("sgt.morales", "supervisor")
    officer = online.login(tmp_path / "officer", agency.url, "ofc.ramirez", PASSWORD)
    sergeant = online.login(tmp_path / "sergeant", agency.url, "sgt.morales", PASSWORD)
    earlier = shifts.start_shift(officer, "2M14")
    shifts.end_shift(officer, earlier)
    engine.run_sync(officer)
    engine.run_sync(sergeant)
    window = open_window(sergeant)
    view = window.current_view
    assert window.current_key == "review"
    settle(qtbot, window)
    assert [r["id"] for r in view.queue_model.rows] == [earlier]

    later = shifts.start_shift(officer, "2M14")
    shifts.end_shift(officer, later)
    engine.run_sync(officer)
    sync_now(qtbot, window)
    assert {r["id"] for r in view.queue_model.rows} == {earlier, later}
    assert view.shift_id == earlier  # the shift the sergeant was reading stays open
    officer.close()


# --- screen by screen: a write on the network worker, as a sync makes it -----------------------

def _person(s):
    return persons.add_person(s, {"kind": "alias", "alias": "Tex"})


def _due(days):
    return (date.today() + timedelta(days=days)).isoformat()


def _server_conflict(s, record_id, field):
    review.store_server_conflicts(s, [{
        "id": f"c-{field}", "table_name": "assignment", "record_id": record_id, "field": field,
        "kept_value": '"HQ"', "other_value": '"Park"', "detected_at": now_iso()}])


def _selected_row_id(view):
    rows = view.table.selectionModel().selectedRows()
    return view.model.data(rows[0], view.model.IdRole) if rows else None


def _ended_shift(s, unit):
    shift_id = shifts.start_shift(s, unit)
    shifts.end_shift(s, shift_id)
    return shift_id


# screen: (role, set up before the window opens -> what to select, the write (on the
# network worker) -> what should appear, what the screen shows, what is selected)
SCREENS = {
    "assignments": (
        "officer",
        lambda s: (shifts.start_shift(s, "2M14"),
                   assignments.create_assignment(s, task("first")))[1],
        lambda s: assignments.create_assignment(s, task("second")),
        lambda v: [r["id"] for r in v.model.rows], lambda v: v.selected_id()),
    "followups": (
        "officer",
        lambda s: followups.create_follow_up(s, {"person_id": _person(s),
                                                 "reason": "crc_discharge", "due_on": _due(0)}),
        lambda s: followups.create_follow_up(s, {"person_id": _person(s),
                                                 "reason": "crc_discharge", "due_on": _due(-1)}),
        lambda v: [r["id"] for r in v.model.rows], lambda v: v.selected_id()),
    "conflicts": (
        "officer",
        lambda s: _server_conflict(s, assignments.create_assignment(s, task("x")), "place")
        or "c-place",
        lambda s: _server_conflict(s, s.db.execute("SELECT id FROM assignment").fetchone()[0],
                                   "summary") or "c-summary",
        lambda v: [r["id"] for r in v.model.rows], lambda v: _selected_row_id(v)),
    "review": (
        "supervisor",
        lambda s: _ended_shift(s, "2M14"),
        lambda s: _ended_shift(s, "2M15"),
        lambda v: [r["id"] for r in v.queue_model.rows], lambda v: v.shift_id),
    "outreach": (
        "officer", lambda s: None,
        lambda s: outreach.log_contact(s, supplies=["water"]),
        lambda v: [r["id"] for r in v.recent.rows], lambda v: None),
    "shift": (
        "officer", lambda s: shifts.start_shift(s, "2M14") and None,
        lambda s: shifts.set_status(s, shifts.active_shift(s)["id"], "on_scene"),
        lambda v: [r["id"] for r in v.timeline.rows], lambda v: None),
    "crc": (
        "officer", lambda s: None,
        lambda s: crc.arrive(s, "voluntary"),
        lambda v: [v.dropoff["id"]] if v.dropoff else [], lambda v: None),
    "encounter": (
        "officer",
        lambda s: (shifts.start_shift(s, "2M14"),
                   assignments.create_assignment(s, task("first")))[1],
        lambda s: assignments.create_assignment(s, task("second")),
        lambda v: [v.assignment.itemData(i) for i in range(1, v.assignment.count())],
        lambda v: v.assignment.currentData()),
}


@pytest.mark.parametrize("key", SCREENS)
def test_an_open_screen_redraws_from_the_change_signal_keeping_its_selection(
        qtbot, open_window, data_dir, key):
    role, set_up, write, shown, selected = SCREENS[key]
    session = make_session(data_dir, "user.one", role)
    chosen = set_up(session)
    window = open_window(session)
    view = window.show_screen(key)
    settle(qtbot, window)
    if key in ("assignments", "followups", "conflicts"):
        view.table.selectRow(shown(view).index(chosen))
    elif key == "encounter":
        view.assignment.choose(chosen)
    if chosen is not None:
        assert selected(view) == chosen
    before = shown(view)

    written = []
    window.tasks.net(write).success(written.append).run()  # the sync's thread and connection
    qtbot.waitUntil(lambda: bool(written) and window.tasks.idle, timeout=10_000)
    after = shown(view)
    assert len(after) == len(before) + 1, (before, after)
    if written[0] is not None and key != "shift":
        assert written[0] in after
    if chosen is not None:
        assert selected(view) == chosen
    assert window.current_key == key


def test_a_screen_behind_another_redraws_when_shown_and_not_twice(qtbot, open_window, officer):
    shifts.start_shift(officer, "2M14")
    window = open_window(officer)
    view = window.show_screen("assignments")
    window.show_screen("shift")
    settle(qtbot, window)
    loads = []
    view.model.modelReset.connect(lambda: loads.append(1))
    window.tasks.net(lambda s: assignments.create_assignment(s, task("behind"))).run()
    settle(qtbot, window)
    assert loads == []  # hidden: nothing redrawn yet
    window.show_screen("assignments")
    settle(qtbot, window)
    assert len(loads) == 1 and [r["summary"] for r in view.model.rows] == ["behind"]


def test_the_resource_list_keeps_its_selection_when_the_directory_changes(
        qtbot, open_window, agency, tmp_path):
    import seeds
    from sync.server import directory as server_directory
    agency.add_user("ofc.ramirez")
    officer = online.login(tmp_path / "officer", agency.url, "ofc.ramirez", PASSWORD)
    window = open_window(officer)
    view = window.show_screen("resources")
    settle(qtbot, window)
    assert view.results.rows == []
    server_directory.import_directory(agency.engine, seeds.DIRECTORY_DIR)
    sync_now(qtbot, window)  # the directory arrives: the open list fills in
    assert len(view.results.rows) > 2 and view.category.count() > 1
    view.list.setCurrentIndex(view.results.index(2))
    chosen = view.selected()["id"]
    window.ctx.changed.emit(frozenset({DIRECTORY}))  # as the next sync that changes it
    settle(qtbot, window)
    assert view.selected()["id"] == chosen
