"""Each figure against small cases worked out by hand, written through the real services."""

import os
import re
import shutil
import sqlite3
import uuid
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from fieldapp import assignments, changes, crc, encounters, followups, metrics, outreach, persons
from fieldapp.metrics import FIGURES, Parameters, Period, apco_breakdown, compute

from month_fixture import as_team, build_month, local

# Monday 2 November to Monday 9 November 2026, Tucson time (UTC-7, no daylight saving).
WEEK = Period(local(date(2026, 11, 2), 0), local(date(2026, 11, 9), 0))


def day(n: int, hour: int = 10, minute: int = 0) -> datetime:
    """Local time on the nth of November 2026."""
    return local(date(2026, 11, n), hour, minute)


def values(db, period=WEEK, team=None, **kw) -> dict:
    return {k: f.value for k, f in compute(db, period, team, **kw).items()}


def dropoff(s, transport, arrived, check_in=None, in_service=None, delay="CRC intake busy"):
    dropoff_id = crc.arrive(s, transport, at=arrived)
    if check_in is not None:
        crc.hand_off(s, dropoff_id, at=arrived + timedelta(minutes=check_in))
    if in_service is not None:
        crc.clear(s, dropoff_id, at=arrived + timedelta(minutes=in_service),
                  delay_reason=delay if check_in > 7 else None)
    return dropoff_id


def test_crc_dropoffs_and_patrol_time_saved(officer):
    dropoff(officer, "voluntary", day(2, 0), 3, 20)  # exactly at the period's start: counts
    dropoff(officer, "voluntary", day(3), 5, 25)
    dropoff(officer, "involuntary", day(4), 6, 30)
    dropoff(officer, "involuntary", day(5), 9, 45)
    dropoff(officer, "voluntary", day(6), 12, 150)  # slower than the booking baseline
    dropoff(officer, "involuntary", day(7))  # still at the sally port
    dropoff(officer, "voluntary", day(8), 7)  # exactly on target; not yet cleared
    changes.delete(officer, "crc_dropoff", dropoff(officer, "voluntary", day(4, 12), 2, 10))
    dropoff(officer, "voluntary", day(1, 23, 59), 1, 5)  # the night before
    dropoff(officer, "voluntary", day(9, 0), 1, 5)  # the period's end is not in it

    v = values(officer.db)
    assert v["crc.dropoffs"] == 7
    assert (v["crc.transport.voluntary"], v["crc.transport.involuntary"]) == (4, 3)
    assert v["crc.handed_off"] == 6
    # check-ins 3 5 6 7 9 12: median (6+7)/2; p90 at rank 4.5 = 9 + 0.5 * (12 - 9)
    assert v["crc.check_in_median_minutes"] == pytest.approx(6.5)
    assert v["crc.check_in_p90_minutes"] == pytest.approx(10.5)
    assert v["crc.check_in_within_target_share"] == pytest.approx(4 / 6)
    # back in service 20 25 30 45 150: p90 at rank 3.6 = 45 + 0.6 * (150 - 45)
    assert v["crc.cleared"] == 5
    assert v["crc.back_in_service_median_minutes"] == pytest.approx(30)
    assert v["crc.back_in_service_p90_minutes"] == pytest.approx(108)
    # 120 minutes of booking each, less 20+25+30+45+150
    assert v["patrol.time_saved_minutes"] == pytest.approx(100 + 95 + 90 + 75 - 30)

    other = values(officer.db, parameters=Parameters(crc_target_minutes=10,
                                                     booking_baseline_minutes=60))
    assert other["crc.check_in_within_target_share"] == pytest.approx(5 / 6)
    assert other["patrol.time_saved_minutes"] == pytest.approx(40 + 35 + 30 + 15 - 90)
    figures = compute(officer.db, WEEK, parameters=Parameters(10, 60))
    assert "10-minute target" in figures["crc.check_in_within_target_share"].definition
    assert "60-minute jail booking" in figures["patrol.time_saved_minutes"].definition


def test_nothing_to_measure_is_none_not_zero(officer):
    v = values(officer.db)
    assert v["crc.dropoffs"] == 0 and v["patrol.time_saved_minutes"] == 0
    for key in ("crc.check_in_median_minutes", "crc.check_in_p90_minutes",
                "crc.check_in_within_target_share", "care.connected_to_care_share",
                "outreach.engagements_per_person", "followups.attempts_per_follow_up"):
        assert v[key] is None, key


def call(s, taken, cleared=None, kind="call_for_service"):
    call_id = assignments.create_assignment(s, {
        "source": "cad", "type": kind, "priority": 2, "summary": "check welfare",
        "received_at": taken - timedelta(minutes=5)})
    assignments.take(s, call_id, unit="MHST1", at=taken)
    if cleared:
        assignments.clear(s, call_id, "completed", at=cleared)
    return call_id


def encounter(s, started, situation="mental_health_crisis", **values):
    return encounters.save_encounter(s, {"started_at": started,
                                         "presenting_situation": situation, **values})


def test_calls_court_orders_force_and_care(officer):
    call(officer, day(2, 9), day(2, 10))
    call(officer, day(1, 23), day(2, 1))  # taken before the period, cleared in it
    call(officer, day(8, 23))
    call(officer, day(8, 23, 30), day(9, 0, 30))  # cleared after it
    call(officer, day(3, 9), day(3, 10), kind="scheduled_task")  # not a call
    changes.delete(officer, "assignment", call(officer, day(4, 9), day(4, 10)))

    encounter(officer, day(2), disposition="transported_crc_involuntary",
              pickup_order_attempted=True, pickup_order_served=True, use_of_force=True,
              use_of_force_type="physical_control", emergency_petition=True)
    encounter(officer, day(3), "suicidal_ideation", disposition="resolved_on_scene",
              stabilized_on_scene=True, warm_handoff_crisis_line=True, connected_to_care=True)
    encounter(officer, day(4), "welfare_check", pickup_order_attempted=True)
    encounter(officer, day(5), disposition="referred", connected_to_care=True,
              use_of_force=True, use_of_force_type="restraint")
    encounter(officer, day(6), "substance_use", disposition="jail_booking",
              pickup_order_served=True, use_of_force=True)  # served implies attempted
    changes.delete(officer, "encounter", encounter(officer, day(6), "other", use_of_force=True))
    encounter(officer, day(1, 12), "dispute", connected_to_care=True)  # before the period

    v = values(officer.db)
    assert (v["calls.patrol_taken"], v["calls.patrol_cleared"]) == (3, 2)
    assert v["calls.mental_health"] == 5
    assert {k.rsplit(".", 1)[1]: n for k, n in v.items()
            if k.startswith("calls.situation.") and n} == {
        "mental_health_crisis": 2, "suicidal_ideation": 1, "welfare_check": 1, "substance_use": 1}
    assert {k.rsplit(".", 1)[1]: n for k, n in v.items()
            if k.startswith("calls.disposition.") and n} == {
        "transported_crc_involuntary": 1, "resolved_on_scene": 1, "referred": 1,
        "jail_booking": 1, "not_recorded": 1}
    assert v["court.pickup_orders_attempted"] == 3
    assert v["court.pickup_orders_served"] == 2
    assert v["court.emergency_petitions"] == 1
    assert v["force.uses"] == 3
    assert v["force.during_pickup_orders"] == 2
    assert v["care.connected_to_care"] == 2
    assert v["care.connected_to_care_share"] == pytest.approx(2 / 5)
    assert v["care.stabilized_on_scene"] == 1
    assert v["care.warm_handoffs_crisis_line"] == 1


def test_deflections_and_outreach_count_people_once(officer, peer):
    a, b, c = (persons.add_person(officer, {"kind": "alias", "alias": n}) for n in "ABC")
    encounter(officer, day(2), person_ids=[a], deflection=True)
    encounter(officer, day(3), person_ids=[a, b], deflection=True)
    encounter(officer, day(4), deflection=True)  # anonymous: a deflection, nobody deflected
    encounter(officer, day(5), person_ids=[b])  # not a deflection
    changes.delete(officer, "encounter", encounter(officer, day(6), person_ids=[c],
                                                   deflection=True))

    outreach.log_contact(officer, person_id=a, services_offered=["food", "shelter_info"],
                         referral="CRC walk-in", at=day(2))
    outreach.log_contact(officer, person_id=a, at=day(3))
    outreach.log_contact(officer, services_offered=["food"], at=day(3, 11))  # anonymous
    outreach.log_contact(officer, person_id=b, services_offered=["shelter_info"],
                         referral="Shelter intake", at=day(4))
    outreach.log_contact(officer, person_id=b, referral="   ", at=day(1, 8))  # before
    pulled_tombstone = outreach.log_contact(officer, person_id=b, referral="x", at=day(5))
    with officer.db.atomic():
        officer.db.execute("UPDATE outreach_contact SET deleted = 1 WHERE id = ?",
                           [pulled_tombstone])

    v = values(officer.db)
    assert v["diversion.deflections"] == 3
    assert v["diversion.anonymous_deflections"] == 1
    assert v["diversion.people_deflected"] == 2
    assert v["diversion.people_deflected_repeat"] == 1
    assert v["outreach.engagements"] == 4
    assert v["outreach.anonymous_engagements"] == 1
    assert v["outreach.people_engaged"] == 2
    assert v["outreach.engagements_per_person"] == pytest.approx(1.5)
    assert v["outreach.people_engaged_repeat"] == 1
    assert v["outreach.services_offered"] == 4
    assert v["outreach.referrals"] == 2


def test_follow_ups_due_done_on_time_late_overdue(officer):
    person = persons.add_person(officer, {"kind": "alias", "alias": "Red"})

    def follow_up(due, *attempts):
        fid = followups.create_follow_up(officer, {"person_id": person, "reason": "crc_discharge",
                                                   "due_on": date(2026, 11, due)})
        for at, outcome in attempts:
            followups.log_attempt(officer, fid, "phone", outcome, at=at)
        return fid

    follow_up(3, (day(2), "no_answer"), (day(3, 11), "completed"))  # on time
    follow_up(4, (day(5), "completed"))  # late
    follow_up(5, (day(4), "no_answer"))  # overdue on the 6th
    follow_up(7)  # not yet due on the 6th
    follow_up(6)  # due on the as-of day itself: not overdue yet
    changes.patch(officer, "follow_up", follow_up(4), {"status": "cancelled"})
    follow_up(9, (day(8), "completed"))  # due on the period's end day: another period
    changes.delete(officer, "follow_up", follow_up(2))
    follow_up(8, (day(1), "completed"))  # done early
    follow_up(3, (day(3, 22), "completed"))  # 22:00 in Tucson is the 4th in UTC: on time

    v = values(officer.db, as_of=day(6, 12))
    assert v["followups.due"] == 7
    assert v["followups.done_on_time"] == 3
    assert v["followups.done_late"] == 1
    assert v["followups.overdue"] == 1
    assert v["followups.not_yet_due"] == 2
    assert v["followups.on_time_share"] == pytest.approx(3 / 7)
    assert v["followups.attempts"] == 6
    assert v["followups.attempts_per_follow_up"] == pytest.approx(6 / 7)
    assert values(officer.db, as_of=WEEK.end)["followups.overdue"] == 3


def test_team_or_whole_program(officer):
    other = as_team(officer, "mhst-2", "ofc.chen", "officer")
    dropoff(officer, "voluntary", day(2), 4, 20)
    dropoff(officer, "voluntary", day(3), 6, 30)
    dropoff(other, "involuntary", day(3), 10, 50)
    assert values(officer.db, team="mhst-1")["crc.dropoffs"] == 2
    assert values(officer.db, team="mhst-1")["crc.check_in_median_minutes"] == pytest.approx(5)
    assert values(officer.db, team="mhst-2")["crc.transport.involuntary"] == 1
    assert values(officer.db)["crc.dropoffs"] == 3
    nobody = values(officer.db, team="no-such-team")
    assert nobody["crc.dropoffs"] == 0 and nobody["crc.check_in_median_minutes"] is None


def test_a_month_matches_what_was_written(officer):
    month = build_month(officer)
    for team in ("mhst-1", "mhst-2", "outreach-1", None):
        expected = month.oracle.expected(team)
        got = values(officer.db, month.period, team, as_of=month.period.end)
        assert set(got) == set(expected), team
        for key, want in expected.items():
            assert got[key] == (pytest.approx(want) if want is not None else None), (team, key)
    program = values(officer.db, month.period, as_of=month.period.end)
    assert program["crc.dropoffs"] > 10 and program["outreach.engagements"] > 60
    assert program["patrol.time_saved_minutes"] > 0


def test_plain_sqlite_copy_reads_the_same(officer, tmp_path):
    """The SQL runs on any DB-API connection: here an unencrypted export read by sqlite3."""
    dropoff(officer, "voluntary", day(2), 4, 20)
    encounter(officer, day(3), deflection=True, connected_to_care=True)
    plain = tmp_path / "plain.db"
    officer.db.execute(f"ATTACH DATABASE '{plain}' AS plain KEY ''")
    officer.db.execute("SELECT sqlcipher_export('plain')")
    officer.db.execute("DETACH DATABASE plain")
    conn = sqlite3.connect(plain)
    try:
        assert values(conn) == values(officer.db)
    finally:
        conn.close()


def test_period_of_a_month():
    november = Period.month("2026-11", "America/Phoenix")
    assert november.start.isoformat() == "2026-11-01T00:00:00-07:00"
    assert november.end.isoformat() == "2026-12-01T00:00:00-07:00"
    assert len(november.days()) == 30
    assert november.date_range() == (date(2026, 11, 1), date(2026, 12, 1))
    assert Period.month("2026-12").end == datetime(2027, 1, 1, tzinfo=metrics.ZoneInfo("UTC"))
    for bad in ("2026-13", "2026-1", "Nov 2026", ""):
        with pytest.raises(ValueError, match="month must look like"):
            Period.month(bad)
    with pytest.raises(ValueError, match="end after"):
        Period(day(3), day(2))


def test_period_cut_mid_day():
    period = Period(day(2, 10), day(4, 6))
    assert [(p.start.hour, p.end.hour) for p in period.days()] == [(10, 0), (0, 0), (0, 6)]
    assert period.date_range() == (date(2026, 11, 3), date(2026, 11, 5))


def test_every_figure_is_documented():
    text = (Path(__file__).parents[2] / "docs" / "metrics.md").read_text()
    documented = set(re.findall(r"`([a-z_]+\.[a-z0-9_.*]+)`", text))
    missing = [k for k in FIGURES if k not in documented
               and k.rsplit(".", 1)[0] + ".*" not in documented]
    assert not missing, f"docs/metrics.md does not define {missing}"


RECORD_TABLES = ("shift", "shift_event", "assignment", "person", "encounter", "outreach_contact",
                 "follow_up", "follow_up_attempt", "crc_dropoff", "referral")


def test_postgresql_copy_reads_the_same(officer):
    """The same SQL over PostgreSQL (pyformat placeholders): m001-shaped tables, same rows."""
    psycopg = pytest.importorskip("psycopg")
    if not (shutil.which("pg_ctlcluster") or shutil.which("pg_ctl")
            or os.environ.get("TANDEM_TEST_PG")):
        pytest.skip("PostgreSQL is not installed here (apt-get install postgresql)")
    admin_url = os.environ.get("TANDEM_TEST_PG",
                               "postgresql://tandem:tandem@127.0.0.1:5432/postgres")
    admin_url = admin_url.replace("postgresql+psycopg://", "postgresql://")
    month = build_month(officer)
    name = f"tandem_metrics_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        with psycopg.connect(admin_url.rsplit("/", 1)[0] + f"/{name}") as pg:
            for table in RECORD_TABLES:
                ddl = officer.db.execute("SELECT sql FROM sqlite_master WHERE name = ?",
                                         [table]).fetchone()[0]
                pg.execute(ddl)
                rows = officer.db.execute(f"SELECT * FROM {table}").fetchall()
                if rows:
                    marks = ", ".join(["%s"] * len(rows[0]))
                    pg.cursor().executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
            pg.commit()
            for team in ("mhst-1", "outreach-1", None):
                got = values(pg, month.period, team, as_of=month.period.end)
                assert got == values(officer.db, month.period, team, as_of=month.period.end)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_calls_by_apco_code_match_what_was_written(officer):
    month = build_month(officer)
    for team in ("mhst-1", "mhst-2", None):
        got = apco_breakdown(officer.db, month.period, team)
        teams = ("mhst-1", "mhst-2") if team is None else (team,)
        assert got["incident_types"] == sum((month.oracle.apco_types[t] for t in teams),
                                            Counter())
        assert got["dispositions"] == sum((month.oracle.apco_dispositions[t] for t in teams),
                                          Counter())
