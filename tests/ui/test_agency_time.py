"""The agency's time zone, never the laptop's: on a laptop whose clock is set to Tokyo, every
time shown, computed or reported reads on the agency's clock (a server setting that reaches
the laptop by sync), and a new zone redraws the open screens."""

import json
import os
import time
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from fieldapp import agency, followups, persons, shifts
from fieldapp.timeutil import parse_iso
from sync import engine, online
from sync.server import cli
from tests.conftest import PASSWORD, make_session
from tests.sync.conftest import Agency
from tests.ui.conftest import settle
from ui import timefmt
from ui.qt import Qt

STARTED = "2026-11-21T02:00:00.000Z"  # Fri 20 Nov 19:00 in Phoenix, Sat 21 Nov 11:00 in Tokyo
ON_SCENE = "2026-11-21T02:40:00.000Z"


@pytest.fixture
def laptop_clock(request):
    """The laptop's own time zone (TZ), for the length of a test."""
    before = os.environ.get("TZ")

    def set_to(name):
        os.environ["TZ"] = name
        time.tzset()
    yield set_to
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()
    timefmt.set_zone(agency.SETTINGS["time_zone"].default)


@pytest.fixture
def agency_server(tmp_path):
    server = Agency(f"sqlite:///{tmp_path / 'server' / 'agency.db'}")
    yield server
    server.stop()


def test_times_read_on_the_agency_clock_and_follow_its_setting(
        qtbot, open_window, agency_server, tmp_path, laptop_clock, capsys):
    """Issue 14, defect 9: timelines used the laptop's zone while open-now used the agency's."""
    laptop_clock("Asia/Tokyo")
    agency_server.add_user("ofc.ramirez")
    officer = online.login(tmp_path / "officer", agency_server.url, "ofc.ramirez", PASSWORD)
    shift = shifts.start_shift(officer, "2M14", at=STARTED)
    shifts.set_status(officer, shift, "on_scene", at=ON_SCENE)
    engine.run_sync(officer)  # the agency's zone arrives: never set, so its default (Phoenix)
    window = open_window(officer)
    view = window.show_screen("shift")
    settle(qtbot, window)
    shown = [view.timeline.data(view.timeline.index(r)) for r in range(view.timeline.rowCount())]
    assert [s.split()[0] for s in shown] == ["19:40", "19:00"]  # Phoenix, not Tokyo's 11:40
    assert view.summary.text().endswith("since 19:00")

    assert cli.main(["--db", agency_server.db_url, "settings", "set", "time_zone",
                     "America/New_York"]) == 0
    qtbot.keyClick(window, Qt.Key.Key_F5)  # the next sync brings it, and the open screen redraws
    qtbot.waitUntil(lambda: view.summary.text().endswith("since 21:00"), timeout=30_000)
    shown = [view.timeline.data(view.timeline.index(r)) for r in range(view.timeline.rowCount())]
    assert [s.split()[0] for s in shown] == ["21:40", "21:00"]
    last = officer.db.execute("SELECT last_sync_at FROM sync_state WHERE id = 1").fetchone()[0]
    assert window.status.last_sync.text() == (
        f"Last sync {parse_iso(last).astimezone(ZoneInfo('America/New_York')):%a %H:%M}")
    capsys.readouterr()


def test_the_dashboard_the_report_and_the_review_queue_use_the_agency_zone(
        qtbot, open_window, data_dir, laptop_clock, tmp_path):
    """Issue 14, defect 9: the monthly report printed "(Etc/UTC)", the laptop's zone."""
    laptop_clock("Asia/Tokyo")
    sergeant = make_session(data_dir, "sgt.diaz", "supervisor")
    with sergeant.db.atomic():  # as a pull leaves it
        agency.store(sergeant.db, {"time_zone": "America/New_York"})
    shift = shifts.start_shift(sergeant, "2M14", at=STARTED)
    shifts.end_shift(sergeant, shift, at=ON_SCENE)
    window = open_window(sergeant)
    review = window.current_view
    settle(qtbot, window)
    assert review.queue_model.data(review.queue_model.index(0, 0)).startswith("2M14 · Fri 20 Nov")
    assert review.title_label.text().startswith("2M14 · Fri 20 Nov 21:00 – 21:40")

    dashboard = window.show_screen("dashboard")
    settle(qtbot, window)
    assert "(America/New_York)" in dashboard.subtitle.text()
    assert dashboard.month == timefmt.today().strftime("%Y-%m")
    out = tmp_path / "report.json"
    dashboard.export_to("json", str(out))
    settle(qtbot, window)
    assert json.loads(out.read_text())["period"]["time_zone"] == "America/New_York"


def test_what_is_due_today_is_the_agencys_today(officer, laptop_clock):
    """Dates 25 hours apart: the laptop's today is never the agency's."""
    laptop_clock("Pacific/Pago_Pago")  # UTC-11
    with officer.db.atomic():
        agency.store(officer.db, {"time_zone": "Pacific/Kiritimati"})  # UTC+14
    agency_today = datetime.now(ZoneInfo("Pacific/Kiritimati")).date()
    assert agency_today != date.today()
    person = persons.add_person(officer, {"kind": "alias", "alias": "Tex"})
    due = followups.create_follow_up(officer, {"person_id": person, "reason": "crc_discharge",
                                                "due_on": agency_today.isoformat()})
    assert [f["id"] for f in followups.due_today(officer)] == [due]
    assert followups.overdue(officer) == []
