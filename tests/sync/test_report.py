"""The monthly report from the server's synced records equals the figures on the laptops."""

import json
from datetime import datetime, timedelta, timezone

from fieldapp import crc, encounters, metrics, outreach, shifts
from sync import engine
from sync.server import report

T0 = datetime(2026, 11, 10, 3, 0, tzinfo=timezone.utc)


def test_server_report_matches_laptop_figures_and_holds_no_clinical_note(agency, laptop, tmp_path):
    officer = laptop("ofc.ramirez")
    clinician = laptop("clin.okafor", "clinician")
    sid = shifts.start_shift(officer, "MHST-11", at=T0)
    eid = encounters.save_encounter(officer, {
        "shift_id": sid, "presenting_situation": "suicidal_ideation", "started_at": T0,
        "disposition": "transported_crc_voluntary", "connected_to_care": True})
    did = crc.arrive(officer, "voluntary", encounter_id=eid, shift_id=sid,
                     at=T0 + timedelta(minutes=30))
    crc.hand_off(officer, did, at=T0 + timedelta(minutes=36))
    crc.clear(officer, did, at=T0 + timedelta(minutes=45))
    outreach.log_contact(officer, services_offered=["food"], at=T0 + timedelta(hours=2))
    engine.run_sync(officer)
    engine.run_sync(clinician)
    encounters.add_clinical_note(clinician, eid, "clinical detail that must not be copied")
    engine.run_sync(clinician)

    copied = report.record_tables(agency.engine)
    assert copied.execute("SELECT count(*) FROM clinical_note").fetchone()[0] == 0
    assert copied.execute("SELECT count(*) FROM crc_dropoff").fetchone()[0] == 1

    out = report.write(agency.engine, "2026-11", "mhst-1", "json", tmp_path / "r.json",
                       tz="America/Phoenix", parameters=metrics.DEFAULTS)
    figures = json.loads(out.read_text())
    period = metrics.Period.month("2026-11", "America/Phoenix")
    expected = metrics.compute(officer.db, period, "mhst-1")
    text = json.dumps(figures)
    assert "clinical detail" not in text
    flat = {f["key"]: f["value"] for f in figures["figures"]}
    assert flat == {key: figure.value for key, figure in expected.items()}
    assert flat["crc.dropoffs"] == 1 and flat["outreach.engagements"] == 1
    assert flat["crc.check_in_median_minutes"] == 6


def test_report_command_writes_each_format_and_refuses_bad_input(agency, laptop, tmp_path):
    import subprocess
    import sys
    officer = laptop("ofc.ramirez")
    did = crc.arrive(officer, "involuntary", at=T0)
    crc.hand_off(officer, did, at=T0 + timedelta(minutes=5))
    crc.clear(officer, did, at=T0 + timedelta(minutes=20))
    engine.run_sync(officer)

    def run(*args):
        return subprocess.run([sys.executable, "-m", "sync.server.cli", "report", "--db",
                               agency.db_url, *args], capture_output=True, text=True)

    for fmt in ("csv", "json", "pdf"):
        out = tmp_path / f"november.{fmt}"
        done = run("--month", "2026-11", "--team", "mhst-1", "--format", fmt, "--out", str(out))
        assert done.returncode == 0, done.stderr
        assert out.stat().st_size > 0
    assert "crc.dropoffs" in (tmp_path / "november.csv").read_text()
    assert (tmp_path / "november.pdf").read_bytes().startswith(b"%PDF")
    bad = run("--month", "November", "--format", "csv", "--out", str(tmp_path / "x.csv"))
    assert bad.returncode == 2 and "month" in bad.stderr
    assert not (tmp_path / "x.csv").exists()
    nowhere = run("--month", "2026-11", "--format", "csv", "--out", str(tmp_path / "no" / "x.csv"))
    assert nowhere.returncode == 2 and "cannot write" in nowhere.stderr
