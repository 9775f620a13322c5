"""The monthly report in each format, from a month written through the services."""

import csv
import json
import shutil
import subprocess
from datetime import datetime, timezone

import pytest

from fieldapp import crc
from fieldapp.errors import ValidationError
from fieldapp.metrics import FIGURES, Parameters, compute
from fieldapp.report import build_report, csv_cell, to_csv, write_report

from month_fixture import MONTH, as_team, build_month, local

NOW = datetime(2026, 12, 3, 16, 0, tzinfo=timezone.utc)


def needs(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} (poppler-utils) is not installed; tests/run installs it")


def pdf_text(path) -> str:
    needs("pdftotext")
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout


def test_every_format_from_a_month(officer, tmp_path):
    month = build_month(officer)
    want = {k: f.value for k, f in compute(officer.db, month.period, "mhst-1",
                                           as_of=month.period.end).items()}
    written = {fmt: write_report(officer.db, MONTH, "mhst-1", fmt, tmp_path / f"nov.{fmt}",
                                 tz="America/Phoenix", now=NOW)
               for fmt in ("csv", "json", "pdf")}

    with open(written["csv"], newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    rows, coded = rows[:len(FIGURES)], rows[len(FIGURES):]
    assert [r["figure"] for r in rows] == list(FIGURES)
    by_code = {r["figure"]: int(r["value"]) for r in coded}
    types, dispositions = month.oracle.apco_types["mhst-1"], month.oracle.apco_dispositions[
        "mhst-1"]
    assert by_code == {**{f"calls.apco_incident_type.{c or 'unmapped'}": n
                          for c, n in types.items()},
                       **{f"calls.apco_disposition.{c or 'unmapped'}": n
                          for c, n in dispositions.items()}}
    assert by_code["calls.apco_incident_type.unmapped"] == types[""] > 0  # the CAD's own code
    assert sum(types.values()) == want["calls.patrol_taken"]
    assert {r["group"] for r in coded} == {"Calls by APCO incident type",
                                           "Calls by APCO disposition"}
    for r in rows:
        assert r["month"] == MONTH and r["team"] == "mhst-1" and r["definition"], r
        expected = want[r["figure"]]
        assert (r["value"] == "") if expected is None else \
            float(r["value"]) == pytest.approx(expected, abs=1e-4), r

    doc = json.loads(written["json"].read_text())
    assert doc["month"] == MONTH and doc["team"] == "mhst-1"
    assert doc["period"] == {"start": "2026-11-01T00:00:00-07:00",
                             "end": "2026-12-01T00:00:00-07:00", "time_zone": "America/Phoenix"}
    assert doc["parameters"] == {"crc_target_minutes": 7, "booking_baseline_minutes": 120}
    assert {f["key"]: f["value"] for f in doc["figures"]} == want
    assert {f["key"]: f["value"] for f in doc["apco"]} == by_code
    assert "MNTL Mental Person Non-Violent" in {f["label"] for f in doc["apco"]}
    assert len(doc["daily"]) == 30
    assert sum(d["crc.dropoffs"] for d in doc["daily"]) == want["crc.dropoffs"]
    assert sum(d["calls.mental_health"] for d in doc["daily"]) == want["calls.mental_health"]

    pdf = written["pdf"].read_bytes()
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(written["pdf"])
    assert "Program report: November 2026" in text and "Team mhst-1" in text
    assert "CRC check-in target 7 minutes" in text
    assert "Calls by APCO incident type" in text and "WELFARE Man Down Check" in text
    for key in ("crc.dropoffs", "calls.patrol_taken", "followups.due"):
        assert f"{FIGURES[key][1]}" in text and f"{want[key]:,}" in text, key
    needs("pdftoppm")
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(written["pdf"]), str(tmp_path / "page")],
                   check=True)
    assert len(list(tmp_path.glob("page-*.png"))) >= 3


def test_whole_program_and_parameters(officer, tmp_path):
    build_month(officer)
    out = write_report(officer.db, MONTH, None, "json", tmp_path / "all.json",
                       tz="America/Phoenix", now=NOW,
                       parameters=Parameters(crc_target_minutes=10, booking_baseline_minutes=90))
    doc = json.loads(out.read_text())
    assert doc["team"] is None and doc["parameters"]["booking_baseline_minutes"] == 90
    figures = {f["key"]: f for f in doc["figures"]}
    assert "90-minute jail booking" in figures["patrol.time_saved_minutes"]["definition"]
    teams = [json.loads(write_report(officer.db, MONTH, t, "json", tmp_path / f"{t}.json",
                                     tz="America/Phoenix", now=NOW).read_text())
             for t in ("mhst-1", "mhst-2", "outreach-1")]
    for key in ("crc.dropoffs", "calls.mental_health", "outreach.engagements", "followups.due"):
        assert figures[key]["value"] == sum(
            next(f["value"] for f in t["figures"] if f["key"] == key) for t in teams), key


def test_an_empty_month_still_renders(officer, tmp_path):
    out = write_report(officer.db, "2027-02", "mhst-1", "pdf", tmp_path / "empty.pdf", now=NOW)
    text = pdf_text(out)
    assert "February 2027" in text and "No check-in was timed this month." in text
    csv_text = to_csv(build_report(officer.db, "2027-02", "mhst-1", now=NOW))
    row = next(r for r in csv.DictReader(csv_text.splitlines())
               if r["figure"] == "crc.check_in_median_minutes")
    assert row["value"] == ""


def test_csv_cells_cannot_run_as_formulas(officer):
    hostile = as_team(officer, "=HYPERLINK(\"http://x\",\"y\")", "ofc.x", "officer")
    arrived = local(datetime(2026, 11, 5).date(), 10)
    dropoff = crc.arrive(hostile, "voluntary", at=arrived)
    crc.hand_off(hostile, dropoff, at=local(arrived.date(), 10, 15))
    crc.clear(hostile, dropoff, at=local(arrived.date(), 13), delay_reason="busy")
    report = build_report(officer.db, MONTH, hostile.profile.team, tz="America/Phoenix", now=NOW)
    rows = list(csv.DictReader(to_csv(report).splitlines()))
    assert {r["team"] for r in rows} == {"'=HYPERLINK(\"http://x\",\"y\")"}
    saved = next(r for r in rows if r["figure"] == "patrol.time_saved_minutes")
    assert float(saved["value"]) == -60  # 120 minutes of booking less 180 at the CRC

    for text in ("=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx"):
        assert csv_cell(text) == "'" + text
    for safe in ("Team 1", "a=b", "", "'quoted"):
        assert csv_cell(safe) == safe
    assert csv_cell(-60.0) == -60.0 and csv_cell(None) == ""


@pytest.mark.parametrize("month, fmt, tz, team, field", [
    ("2026-13", "csv", "UTC", None, "month"),
    ("November", "pdf", "UTC", None, "month"),
    ("2026-11", "xlsx", "UTC", None, "format"),
    ("2026-11", "json", "Mars/Olympus", None, "tz"),
    ("2026-11", "json", "UTC", "  ", "team"),
])
def test_bad_requests_name_the_field(officer, tmp_path, month, fmt, tz, team, field):
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "report.out"
    with pytest.raises(ValidationError) as caught:
        write_report(officer.db, month, team, fmt, out, tz=tz, now=NOW)
    assert caught.value.table == "report" and field in caught.value.problems
    assert list(out.parent.iterdir()) == []  # no file, not even a half-written one
