"""The program dashboard on a seeded month: the numbers it shows are metrics' own, the charts
hold the month's data, and each export writes a report that parses (and is audited)."""

import csv
import json

import pytest

from fieldapp import agency, settings
from fieldapp.metrics import DEFAULTS, FIGURES, Parameters, compute
from fieldapp.records import DISPOSITIONS
from fieldapp.labels import figure_value, text
from fieldapp.report import KEY_FIGURES
from fieldapp.timeutil import utc_now
from tests.conftest import make_session
from tests.metrics.month_fixture import MONTH, TEAMS, build_month
from tests.ui.conftest import settle
from ui.dashboard import DashboardView, FiguresModel, shift_month
from ui.qt import QFileDialog, Qt

TZ = "America/Phoenix"


@pytest.fixture
def sergeant(data_dir):
    s = make_session(data_dir, "sgt.diaz", "supervisor", TEAMS)
    yield s
    s.close()


@pytest.fixture
def month(sergeant):
    return build_month(sergeant)


def open_dashboard(qtbot, open_window, session) -> tuple:
    with session.db.atomic():  # the agency's zone, as a pull leaves it: the month fixture's
        agency.store(session.db, {"time_zone": TZ})
    window = open_window(session)
    window.nav_buttons["dashboard"].click()
    settle(qtbot, window)
    view = window.current_view
    assert isinstance(view, DashboardView)
    view.set_month(MONTH)
    settle(qtbot, window)
    return window, view


def expected(session, month, team, parameters=DEFAULTS):
    return compute(session.db, month.period, team, parameters,
                   as_of=min(month.period.end, utc_now()))


def test_the_dashboard_shows_metrics_figures(qtbot, open_window, sergeant, month):
    window, view = open_dashboard(qtbot, open_window, sergeant)
    for team in (None, "mhst-1"):
        view.team.setCurrentIndex(view.team.findData(team))
        settle(qtbot, window)
        want = expected(sergeant, month, team)
        oracle = month.oracle.expected(team)
        for key, _label in KEY_FIGURES:
            assert view.cards[key].text() == figure_value(want[key], short=True), key
        assert view.cards["crc.dropoffs"].text() == f"{oracle['crc.dropoffs']:,}"
        rows = {view.figures.index(r, 0).data(FiguresModel.IdRole):
                view.figures.index(r, 2).data() for r in range(view.figures.rowCount())}
        assert list(rows) == list(FIGURES)
        assert rows == {k: figure_value(f) for k, f in want.items()}
        # The charts hold the same month: every timed check-in, every disposition, transports.
        dots = view.check_in_chart.days
        assert len(dots) == 30 and sum(map(len, dots)) == oracle["crc.handed_off"]
        assert sorted(m for day in dots for m in day) == sorted(
            m for t in ((team,) if team else TEAMS) for m in month.oracle.check_ins[t])
        assert view.check_in_chart.target == 7
        assert dict(view.disposition_chart.rows) == {
            text(d): oracle[f"calls.disposition.{d}"] for d in (*DISPOSITIONS, "not_recorded")}
        voluntary, involuntary = (values for _, _, values in view.transport_chart.series)
        assert sum(voluntary) == oracle["crc.transport.voluntary"]
        assert sum(involuntary) == oracle["crc.transport.involuntary"]
    assert "Team mhst-1" in view.subtitle.text() and "November 2026" in view.subtitle.text()


def test_the_booking_baseline_is_a_setting_used_by_the_dashboard(qtbot, open_window, sergeant,
                                                                   month):
    window, view = open_dashboard(qtbot, open_window, sergeant)
    assert view.baseline.value() == 120
    view.baseline.setValue(95)
    view.baseline.editingFinished.emit()
    settle(qtbot, window)
    assert settings.get(sergeant.db, "booking_baseline_minutes") == 95
    want = expected(sergeant, month, None, Parameters(7, 95))
    assert view.cards["patrol.time_saved_minutes"].text() == \
        figure_value(want["patrol.time_saved_minutes"], short=True)
    assert view.report.parameters.booking_baseline_minutes == 95


def test_the_month_picker_steps_through_months(qtbot, open_window, sergeant, month):
    window, view = open_dashboard(qtbot, open_window, sergeant)
    qtbot.keyClick(view, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    settle(qtbot, window)
    assert view.month == "2026-10" and view.month_label.text() == "October 2026"
    assert view.cards["crc.dropoffs"].text() == "0"
    assert sum(map(len, view.check_in_chart.days)) == 0 and len(view.check_in_chart.days) == 31
    assert (shift_month("2026-12", 1), shift_month("2026-01", -1)) == ("2027-01", "2025-12")


@pytest.mark.parametrize("fmt", ["csv", "json", "pdf"])
def test_export_writes_the_report_and_audits_it(qtbot, open_window, sergeant, month, tmp_path,
                                                 fmt):
    window, view = open_dashboard(qtbot, open_window, sergeant)
    view.team.setCurrentIndex(view.team.findData("mhst-2"))
    settle(qtbot, window)
    view.export_buttons[fmt].click()
    dialog = view.save_dialog
    assert isinstance(dialog, QFileDialog) and dialog.isVisible()
    out = tmp_path / f"november.{fmt}"
    dialog.selectFile(str(out))
    dialog.accept()
    settle(qtbot, window)

    assert "Saved the report" in view.message.text()
    want = {k: f.value for k, f in expected(sergeant, month, "mhst-2").items()}
    if fmt == "csv":
        with open(out, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        assert {r["team"] for r in rows} == {"mhst-2"}
        assert {r["figure"]: r["value"] for r in rows}["crc.dropoffs"] == \
            str(want["crc.dropoffs"])
    elif fmt == "json":
        doc = json.loads(out.read_text())
        assert doc["month"] == MONTH and doc["team"] == "mhst-2"
        assert {f["key"]: f["value"] for f in doc["figures"]} == want
    else:
        assert out.read_bytes().startswith(b"%PDF-")
    audit = list(sergeant.db.query(
        "SELECT actor, action, outcome, detail FROM audit_event WHERE action = 'report.export'"))
    assert audit == [{"actor": "sgt.diaz", "action": "report.export", "outcome": "success",
                      "detail": f"{fmt} report {MONTH} for mhst-2 to november.{fmt}"}]


def test_a_failed_export_says_why_and_is_audited(qtbot, open_window, sergeant, tmp_path):
    window, view = open_dashboard(qtbot, open_window, sergeant)
    view.export_to("csv", str(tmp_path / "no-such-folder" / "report.csv"))
    settle(qtbot, window)
    assert view.message.text().startswith("The report was not saved")
    assert view.message.property("attention") is True
    assert all(b.isEnabled() for b in view.export_buttons.values())
    outcome = sergeant.db.execute(
        "SELECT outcome FROM audit_event WHERE action = 'report.export'").fetchone()
    assert outcome == ("failure",)


def test_figures_model(qtmodeltester, sergeant, month):
    model = FiguresModel()
    model.set_figures(compute(sergeant.db, month.period, "mhst-1"))
    qtmodeltester.check(model)
    assert model.rowCount() == len(FIGURES)
