"""The monthly report from the server's synced records equals the figures on the laptops."""

import json
from datetime import datetime, timedelta, timezone

from fieldapp import crc, encounters, metrics, outreach, shifts
from fieldapp.records import RECORD_TYPES
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

    copied = report.record_tables(
        agency.engine, metrics.Period.month("2026-11", "America/Phoenix"))
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


def as_the_server_holds(engine, session, shift_years: int = 0) -> int:
    """Every record of the laptop's cache as a row of the server's `record` table (its times
    and dates moved back `shift_years`, under new ids); returns how many."""
    from sqlalchemy import insert, select, func

    from sync.server.tables import record

    with engine.begin() as conn:
        seq = conn.execute(select(func.coalesce(func.max(record.c.change_seq), 0))).scalar()
        teams, rows = {}, []
        for table, rt in RECORD_TYPES.items():
            for r in session.db.query(f"SELECT * FROM [{table}]"):
                data = {f: r[f] for f in rt.field_names}
                if shift_years:
                    data = {k: (v.replace("2026-", f"{2026 - shift_years}-", 1)
                                if isinstance(v, str) and v.startswith("2026-") else v)
                            for k, v in data.items()}
                    data = {k: (_moved(v, shift_years) if k.endswith("_id") and v else v)
                            for k, v in data.items()}
                record_id = _moved(r["id"], shift_years) if shift_years else r["id"]
                teams[record_id] = data.get("team")
                seq += 1
                rows.append({"id": record_id, "table_name": table, "team": data.get("team"),
                             "clinical": rt.clinical, "version": 1, "change_seq": seq,
                             "deleted": bool(r["deleted"]), "data": json.dumps(data),
                             "field_hlc": "{}", "created_hlc": r["created_hlc"],
                             "updated_hlc": r["updated_hlc"], "author": r["author"],
                             "device": r["device"]})
        for row in rows:  # a child takes its parent's team
            data = json.loads(row["data"])
            parent = data.get("follow_up_id") or data.get("shift_id") or data.get("encounter_id")
            row["team"] = row["team"] or teams.get(parent) or "mhst-1"
        conn.execute(insert(record), rows)
    return len(rows)


def _moved(record_id: str, shift_years: int) -> str:
    """Another record's id of the same length (the server's ids are 36 characters)."""
    return f"{shift_years}{record_id[1:]}"


def test_a_months_report_copies_the_month_not_the_history(db_url, data_dir):
    """The server lays out only what the month's figures read (of the team asked for), and
    the figures are the laptop's: a month of three teams, with edges just outside the month,
    tombstones and attempts made before the month on follow-ups due in it, plus a year of
    older history."""
    from fieldapp.report import month_period
    from sync.server.db import make_engine, migrate
    from tests.conftest import make_session
    from tests.metrics.month_fixture import MONTH, TEAMS, build_month

    engine = make_engine(db_url)
    migrate(engine)
    sergeant = make_session(data_dir, "sgt.diaz", "supervisor", TEAMS)
    try:
        build_month(sergeant)
        held = as_the_server_holds(engine, sergeant) + as_the_server_holds(engine, sergeant, 1)
        period = month_period(MONTH, "America/Phoenix")
        for team in (*TEAMS, None):
            copy = report.record_tables(engine, period, team)
            try:
                got = metrics.compute(copy, period, team)
                want = metrics.compute(sergeant.db, period, team)
                assert {k: f.value for k, f in got.items()} == \
                    {k: f.value for k, f in want.items()}, team
                copied = sum(copy.execute(f"SELECT count(*) FROM [{t}]").fetchone()[0]
                             for t in RECORD_TYPES)
                assert 0 < copied < held / 2, (team, copied, held)
                assert copy.execute("SELECT count(*) FROM shift").fetchone()[0] == 0
                assert not copy.execute("SELECT 1 FROM encounter WHERE started_at < '2026-10'"
                                        ).fetchone()
            finally:
                copy.close()
    finally:
        sergeant.close()
        engine.dispose()
