"""The CRC's monthly law-enforcement drop-off report: both halves joined, the CRC's stamps
preferred, placed and grouped in the agency's time zone, as CSV and PDF."""

import csv
import subprocess
import sys

from fieldapp.ids import new_id
from sync.server import agency_settings, crc_report, imports
from sync.server.accounts import Caller
from sync.server.db import make_engine, migrate

TEAM = "mhst-1"


def _write(engine, table, values, role="officer"):
    caller = Caller(0, "t", role, (TEAM,), "test-device")
    record_id = new_id()
    [op] = imports.create_ops(caller, [(table, record_id, values)])
    with engine.begin() as conn:
        imports.push_or_fail(conn, caller, [op])
    return record_id


def _dropoff(engine, arrived, handed_off=None, notice=None):
    return _write(engine, "crc_dropoff", {
        "team": TEAM, "transport": "voluntary", "arrived_at": arrived,
        "handed_off_at": handed_off, "notice_id": notice})


def _notice(engine, cancelled=None):
    return _write(engine, "crc_notice", {
        "team": TEAM, "unit": "ADAM-12", "transport": "voluntary", "age_group": "adult",
        "eta_at": "2026-03-01T00:00:00Z", "eta_source": "entered",
        "sent_at": "2026-03-01T00:00:00Z", "cancelled_at": cancelled})


def _checkin(engine, notice, arrived, checked_in):
    return _write(engine, "crc_checkin", {"notice_id": notice, "arrived_at": arrived,
                                          "checked_in_at": checked_in}, role="crc_intake")


def test_report_joins_both_halves_in_the_agencys_time_zone(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'agency.db'}")
    migrate(engine)
    with engine.begin() as conn:
        agency_settings.set_value(conn, "time_zone", "America/Phoenix")  # UTC-7, no DST
    # Monday 2 March 2026, 08:10 local: the unit says 10 minutes, the CRC stamped 5.
    notice = _notice(engine)
    _dropoff(engine, "2026-03-02T15:10:00Z", "2026-03-02T15:20:00Z", notice)
    _checkin(engine, notice, "2026-03-02T15:11:00Z", "2026-03-02T15:16:00Z")
    # Monday 08:40 local, the unit's half only: 4 minutes.
    _dropoff(engine, "2026-03-02T15:40:00Z", "2026-03-02T15:44:00Z")
    # Monday 08:50 local: the CRC stamped a notice whose unit never synced a drop-off: 12 min.
    other = _notice(engine)
    _checkin(engine, other, "2026-03-02T15:50:00Z", "2026-03-02T16:02:00Z")
    # Tuesday 23:30 local is 06:30 UTC on Wednesday: still a Tuesday drop-off; no check-in yet.
    _dropoff(engine, "2026-03-04T06:30:00Z")
    # Outside the month in Phoenix (28 Feb 23:59 local), a deleted-free cancelled notice with
    # a stamp, and a stamp only the CRC made on a cancelled notice: none count.
    _dropoff(engine, "2026-03-01T06:59:00Z", "2026-03-01T07:01:00Z")
    _checkin(engine, _notice(engine, cancelled="2026-03-02T15:00:00Z"),
             "2026-03-02T15:00:00Z", "2026-03-02T15:30:00Z")

    with engine.connect() as conn:
        table = {(g, s): f for g, s, f in crc_report.rows(
            conn, "2026-03", crc_report.ZoneInfo("America/Phoenix"), 7.0)}
    month = table[("month", "all")]
    assert month["dropoffs"] == 4 and month["timed"] == 3 and month["crc_timed"] == 2
    assert month["median_minutes"] == 5.0
    assert abs(month["p90_minutes"] - 10.6) < 1e-9  # 5, 4, 12 → inclusive linear p90
    assert abs(month["within_target_share"] - 2 / 3) < 1e-9
    assert table[("hour of day", "08:00–08:59")]["dropoffs"] == 3
    assert table[("hour of day", "23:00–23:59")]["dropoffs"] == 1
    assert table[("hour of day", "23:00–23:59")]["median_minutes"] is None
    assert table[("day of week", "Monday")]["timed"] == 3
    assert table[("day of week", "Tuesday")]["dropoffs"] == 1
    assert table[("day of week", "Wednesday")]["dropoffs"] == 0

    out = tmp_path / "crc.csv"
    url = f"sqlite:///{tmp_path / 'agency.db'}"
    for fmt, name in (("csv", "crc.csv"), ("pdf", "crc.pdf")):
        done = subprocess.run([sys.executable, "-m", "sync.server.cli", "--db", url,
                               "crc-report", "--month", "2026-03", "--format", fmt, "--out",
                               str(tmp_path / name)], capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr
    lines = list(csv.DictReader(out.open()))
    assert len(lines) == 1 + 24 + 7 and lines[0]["median_minutes"] == "5.0"
    assert lines[0]["within_target_share"] == "0.667" and lines[-1]["slot"] == "Sunday"
    assert (tmp_path / "crc.pdf").read_bytes().startswith(b"%PDF")
    text = subprocess.run(["pdftotext", str(tmp_path / "crc.pdf"), "-"], capture_output=True,
                          text=True).stdout
    assert "CRC law-enforcement drop-offs: 2026-03" in text and "America/Phoenix" in text
    bad = subprocess.run([sys.executable, "-m", "sync.server.cli", "--db", url, "crc-report",
                          "--month", "2026-13", "--format", "csv", "--out", str(out)],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "month" in bad.stderr
    engine.dispose()
