"""One laptop in the car, two people: the officer starts the car's shift on the real windows
with his partner picked from the roster; she signs in on the same laptop and carries on the
same shift, and his laptop copy sees her status. A real server (SQLite and PostgreSQL)."""

import pytest

from fieldapp import shifts
from fieldapp.session import unlock
from sync import engine, online
from sync.server import cli
from tests.conftest import PASSWORD
from tests.ui.conftest import OFFSCREEN_ONLY, click, open_window, settle, theme  # noqa: F401
from ui.qt import Qt

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_ONLY)


def test_the_partner_signs_in_on_the_same_laptop_and_carries_on(qtbot, agency, tmp_path,
                                                                open_window):  # noqa: F811
    agency.add_user("ofc.ramirez", "officer")
    agency.add_user("clin.okafor", "clinician")
    assert cli.main(["--db", agency.db_url, "set-car", "clin.okafor", "--unit", "MHST-11",
                     "--vehicle", "V-2214"]) == 0
    laptop = tmp_path / "car-laptop"

    officer = online.login(laptop, agency.url, "ofc.ramirez", PASSWORD)
    window = open_window(officer)
    view = window.view("shift")
    window.status.sync_now()  # brings the roster
    settle(qtbot, window)
    view.partner.setCurrentIndex(view.partner.findText("clin.okafor", Qt.MatchFlag.MatchContains))
    assert view.partner.currentData() == {"username": "clin.okafor", "role": "clinician"}
    assert (view.unit.text(), view.vehicle.text()) == ("MHST-11", "V-2214")
    click(qtbot, view.start_button)
    settle(qtbot, window)
    sid = window.ctx.shift_id
    window.status.sync_now()
    settle(qtbot, window)
    window.close()  # he signs out; the laptop stays in the car
    officer.close()

    clinician = online.login(laptop, agency.url, "clin.okafor", PASSWORD)
    window = open_window(clinician)
    view = window.view("shift")
    window.status.sync_now()
    settle(qtbot, window)
    assert view.pages.currentIndex() == 1 and window.ctx.shift_id == sid
    assert "with ofc.ramirez" in view.summary.text()
    click(qtbot, view.status_buttons["on_scene"])
    settle(qtbot, window)
    window.status.sync_now()
    settle(qtbot, window)
    window.close()
    clinician.close()

    officer = unlock(laptop, "ofc.ramirez", PASSWORD)  # back to him, offline unlock then sync
    try:
        engine.run_sync(officer)
        assert [e["status"] for e in shifts.timeline(officer, sid)] == ["in_service",
                                                                       "on_scene"]
    finally:
        officer.close()
