"""The pre-arrival notice on the CRC drop-off screen, both halves of the clock, and the CRC's
status on that screen and in the directory entry of the CRC."""

from datetime import timedelta

import seeds
from fieldapp import changes, crc, crc_notice, directory, hsds, shifts
from fieldapp.timeutil import now_iso, to_iso, utc_now
from tests.ui.conftest import settle
from ui.qt import Qt


def _pull_status(session, status, wait):
    with session.db.atomic():
        crc_notice.store_status(session.db, {"status": status, "wait_minutes": wait,
                                             "posted_at": now_iso()})


def _pull_checkin(session, notice_id, arrived, checked_in):
    """The CRC's half as a pull writes it (a row the server made)."""
    session.db["crc_checkin"].insert({
        "id": "0" * 8 + notice_id[8:], "created_hlc": "1", "updated_hlc": "1", "author": "crc",
        "device": "intake", "server_version": 1, "deleted": 0, "notice_id": notice_id,
        "arrived_at": arrived, "checked_in_at": checked_in})


def test_send_update_cancel_then_arrive_with_both_halves(qtbot, open_window, officer):
    shift_id = shifts.start_shift(officer, "2M14")
    _pull_status(officer, "at_capacity", 25)
    window = open_window(officer)
    view = window.show_screen("crc")
    settle(qtbot, window)
    assert "At capacity, expected wait 25 min" in view.status.text()
    panel = view.notice_panel
    assert not panel.name.isVisible()  # the agency sends no names by default

    # No position known and no ETA typed: the screen says what to enter.
    qtbot.mouseClick(panel.send_button, Qt.MouseButton.LeftButton)
    settle(qtbot, window)
    assert "eta_at" in panel.errors.shown() and crc_notice.open_notice(officer) is None

    panel.eta.setValue(9)
    qtbot.keyClicks(panel.cautions, "spits")
    qtbot.keyClick(panel.petition, Qt.Key.Key_Space)
    qtbot.mouseClick(panel.send_button, Qt.MouseButton.LeftButton)
    settle(qtbot, window)
    notice = crc_notice.open_notice(officer)
    assert notice["safety_cautions"] == "spits" and notice["emergency_petition"]
    assert notice["eta_source"] == "entered" and not notice["sent"]
    assert "waiting to send" in panel.state.text() and panel.cancel_button.isVisible()
    assert shifts.current_status(officer, shift_id) == "transporting"

    panel.cautions.setText("spits; hides blades")
    qtbot.mouseClick(panel.send_button, Qt.MouseButton.LeftButton)  # now "Update notice"
    settle(qtbot, window)
    updated = changes.get(officer, "crc_notice", notice["id"])
    assert updated["safety_cautions"] == "spits; hides blades"
    assert updated["eta_at"] == notice["eta_at"]  # no new ETA typed: the one sent stays

    qtbot.mouseClick(view.arrive_button, Qt.MouseButton.LeftButton)
    settle(qtbot, window)
    dropoff = crc.open_dropoff(officer)
    assert dropoff["notice_id"] == notice["id"]

    arrived = utc_now()
    _pull_checkin(officer, notice["id"], to_iso(arrived), None)
    crc.hand_off(officer, dropoff["id"])
    changes.patch(officer, "crc_dropoff", dropoff["id"],
                  {"arrived_at": to_iso(arrived - timedelta(minutes=3))})
    view.refresh()
    settle(qtbot, window)
    text = view.halves.text()
    assert "Arrived: unit" in text and "CRC" in text and "later" in text
    assert "Checked in: unit" in text and "CRC —" in text


def test_a_cancelled_notice_leaves_the_screen(qtbot, open_window, officer):
    shifts.start_shift(officer, "2M14")
    notice = crc_notice.send(officer, transport="voluntary", age_group="adult", eta_minutes=5)
    window = open_window(officer)
    view = window.show_screen("crc")
    settle(qtbot, window)
    qtbot.mouseClick(view.notice_panel.cancel_button, Qt.MouseButton.LeftButton)
    settle(qtbot, window)
    assert changes.get(officer, "crc_notice", notice)["cancelled_at"]
    assert view.notice_panel.state.text() == "No pre-arrival notice sent"


def test_the_directory_entry_of_the_crc_shows_its_status(qtbot, open_window, officer):
    directory.replace_directory(officer.db, hsds.read_directory(seeds.DIRECTORY_DIR))
    _pull_status(officer, "diverting", None)
    window = open_window(officer)
    view = window.show_screen("resources")
    settle(qtbot, window)
    qtbot.mouseClick(view.le_dropoff, Qt.MouseButton.LeftButton)
    settle(qtbot, window)
    assert view.results.rowCount() >= 1
    assert "CRC status: Diverting (as of" in view.detail.text()
