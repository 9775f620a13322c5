"""The sergeant's review screen names the team's laptops that need attention: unsynced work
older than the agency's setting, or not heard from for days (issue 23), from a real server."""

from datetime import timedelta

import pytest

from fieldapp.timeutil import to_iso, utc_now
from sync import fleet, online
from sync.credentials import transport_for
from tests.conftest import PASSWORD
from tests.sync.conftest import Agency
from tests.sync.sync_helpers import outreach
from tests.ui.conftest import settle
from ui.qt import QLabel


@pytest.fixture
def agency(tmp_path):
    server = Agency(f"sqlite:///{tmp_path / 'server' / 'agency.db'}")
    yield server
    server.stop()


def test_the_review_screen_flags_a_laptop_holding_old_unsynced_work(
        qtbot, open_window, agency, tmp_path):
    agency.add_user("ofc.ramirez")
    agency.add_user("sgt.morales", "supervisor")
    officer = online.login(tmp_path / "officer", agency.url, "ofc.ramirez", PASSWORD,
                           device_name="MHST-12 laptop")
    outreach(officer, 2)
    with officer.db.atomic():
        officer.db.execute("UPDATE outbox SET created_at = ?",
                           [to_iso(utc_now() - timedelta(hours=30))])
    # the laptop's report at the start of a sync that went no further (its signal dropped)
    fleet.report(officer, transport_for(officer), "started")
    officer.close()
    sergeant = online.login(tmp_path / "sergeant", agency.url, "sgt.morales", PASSWORD)
    window = open_window(sergeant)
    label = window.findChild(QLabel, "reviewFleet")
    qtbot.waitUntil(label.isVisible, timeout=20_000)
    settle(qtbot, window)
    assert "ofc.ramirez's laptop “MHST-12 laptop”: unsynced work older than 12 h" in label.text()
    assert "(2 changes waiting)" in label.text()
