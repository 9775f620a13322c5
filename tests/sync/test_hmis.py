"""The HMIS street outreach export from a realistic month on the agency server (SQLite and
PostgreSQL): it passes our FY2026 checker with zero findings and says what the month held."""

import csv
import json
import sys
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import pytest

from fieldapp import hmis_check, hmis_spec, outreach
from sync import engine
from sync.server import cli, hmis

sys.path.insert(0, str(Path(__file__).parents[1] / "metrics"))
from month_fixture import TEAMS, build_month  # noqa: E402

PROJECT = "Downtown Street Outreach"
SETTINGS = {PROJECT: {
    "teams": ["outreach-1"], "organization": "Tucson Police Department [MHST]",
    "coc_code": "AZ-501", "geocode": "049019", "operating_start": "2024-07-01",
    "funders": [{"funder": 21, "grant_id": "SM-26-014", "start": "2025-10-01"},
                {"funder": 46, "other": "City general fund", "start": "2024-07-01"}],
    "address": {"address1": "270 S Stone Ave", "city": "Tucson", "state": "AZ", "zip": "85701"},
    "geography_type": 1}}


def run(agency, capsys, *args):
    code = cli.main(["--db", agency.db_url, *args])
    return code, capsys.readouterr()


def read(folder: Path, name: str) -> list[dict]:
    with open(folder / f"{name}.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture
def month_on_server(agency, laptop, capsys):
    sergeant = laptop("sgt.diaz", "supervisor", teams=TEAMS)
    month = build_month(sergeant)
    engine.run_sync(sergeant)
    assert run(agency, capsys, "settings", "set", "hmis_projects", json.dumps(SETTINGS))[0] == 0
    assert run(agency, capsys, "settings", "set", "hmis_exit_after_days", "7")[0] == 0
    return sergeant, month


def test_a_month_exports_clean_and_whole(agency, month_on_server, tmp_path, capsys):
    sergeant, month = month_on_server
    out = tmp_path / "hmis"
    code, printed = run(agency, capsys, "export-hmis", "--from", "2026-11-01", "--to",
                        "2026-11-30", "--project", PROJECT, "--out", str(out))
    assert code == 0, printed.err
    assert "passes the HMIS CSV FY2026 checks" in printed.out
    assert hmis_check.check(out) == []
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"{name}.csv" for name in hmis_spec.ALL_FILES)

    contacts = {r[0]: r for r in sergeant.db.execute(
        "SELECT id, person_id, living_situation, engaged, place, contacted_at, services_offered "
        "FROM outreach_contact WHERE deleted = 0 AND team = 'outreach-1' "
        "AND contacted_at < '2026-12-01T07:00:00.000Z'")}  # Phoenix midnight
    cls = read(out, "CurrentLivingSituation")
    # (the month's one laptop-only tombstone is a live contact once synced, so it counts here)
    assert len(cls) == len(contacts) == month.oracle.counts["outreach-1"][
        "outreach.engagements"] + 1
    [export] = read(out, "Export")
    for name in hmis_spec.ALL_FILES:
        assert {row["ExportID"] for row in read(out, name)} <= {export["ExportID"]}
    assert (export["ExportStartDate"], export["ExportEndDate"], export["CSVVersion"]) == (
        "2026-11-01", "2026-11-30", "2026 v1.0")

    # Anonymous contacts are clients of their own, with no invented name.
    clients = {c["PersonalID"]: c for c in read(out, "Client")}
    anonymous = [c for c in contacts.values() if c[1] is None]
    people = {c[1] for c in contacts.values() if c[1]}
    assert len(clients) == len(anonymous) + len(people)
    for contact in anonymous:
        client = clients[contact[0].replace("-", "")]
        assert (client["FirstName"], client["LastName"], client["NameDataQuality"],
                client["DOBDataQuality"], client["RaceNone"]) == ("", "", "99", "99", "99")
    qualities = Counter(clients[p.replace("-", "")]["NameDataQuality"] for p in people)
    assert set(qualities) == {"1", "2"}  # full names and street names

    # Each contact's living situation, in HUD's codes; none recorded is 99.
    codes = {r["CurrentLivingSitID"]: r["CurrentLivingSituation"] for r in cls}
    for contact in contacts.values():
        assert codes[contact[0].replace("-", "")] == str(hmis.LIVING_CODES.get(contact[2], 99))
    assert all("<" not in r["LocationDetails"] for r in cls)
    assert "under the 6th Ave underpass" in {r["LocationDetails"] for r in cls}

    # Enrollments: cut where 7 days pass with no contact; engagement on the first engaged day.
    enrollments = read(out, "Enrollment")
    exits = {e["EnrollmentID"]: e for e in read(out, "Exit")}
    by_enrollment = defaultdict(list)
    for r in cls:
        by_enrollment[r["EnrollmentID"]].append(r)
    engaged_days = {c[0].replace("-", ""): c[3] for c in contacts.values()}
    for e in enrollments:
        days = sorted(r["InformationDate"] for r in by_enrollment[e["EnrollmentID"]])
        assert e["EntryDate"] == days[0]
        engaged = sorted(r["InformationDate"] for r in by_enrollment[e["EnrollmentID"]]
                         if engaged_days[r["CurrentLivingSitID"]])
        assert e["DateOfEngagement"] == (engaged[0] if engaged else "")
        if e["EnrollmentID"] in exits:
            assert exits[e["EnrollmentID"]]["ExitDate"] == days[-1]
            assert (date(2026, 11, 30) - date.fromisoformat(days[-1])).days > 7
        else:
            assert (date(2026, 11, 30) - date.fromisoformat(days[-1])).days <= 7
    assert exits and len(exits) < len(enrollments)
    assert any(e["DateOfEngagement"] for e in enrollments)

    # PATH-funded: services offered and referrals made at contacts.
    services = read(out, "Services")
    kinds = Counter(s["RecordType"] for s in services)
    offered = sum(len({hmis.PATH_SERVICES[s] for s in json.loads(c[6] or "[]")
                       if s in hmis.PATH_SERVICES}) for c in contacts.values())
    assert kinds["141"] == offered > 0
    referred = [r for r in sergeant.db.execute(
        "SELECT category, status FROM referral WHERE outreach_contact_id IS NOT NULL")]
    assert kinds["161"] == sum(1 for c, _ in referred if c in hmis.PATH_REFERRALS) > 0
    assert {s["ReferralOutcome"] for s in services if s["RecordType"] == "161"} <= {"1", "2", "3"}

    funders = read(out, "Funder")
    assert [(f["Funder"], f["OtherFunder"]) for f in funders] == [
        ("21", ""), ("46", "City general fund")]
    [organization] = read(out, "Organization")
    assert organization["OrganizationName"] == "Tucson Police Department MHST"  # [] stripped
    raw = (out / "Client.csv").read_bytes()
    assert raw.startswith(b"PersonalID,FirstName,") and b"\r\n" in raw
    assert b'"' + next(iter(clients)).encode() + b'"' in raw  # text is quoted

    [logged] = agency.rows("SELECT outcome, detail FROM admin_audit "
                           "WHERE action = 'export.hmis'")  # the admin audit trail
    summary = json.loads(logged["detail"])["summary"]
    assert export["ExportID"] in summary and logged["outcome"] == "success"
    assert f"{len(clients)} clients" in summary


def test_an_export_again_replaces_the_last_and_bad_requests_change_nothing(
        agency, laptop, tmp_path, capsys):
    peer = laptop("peer.lee", "peer", teams=("outreach-1",))
    for day in ("03", "20"):
        outreach.log_contact(peer, services_offered=["food"], at=f"2026-11-{day}T17:00:00Z")
    engine.run_sync(peer)
    assert run(agency, capsys, "settings", "set", "hmis_projects", json.dumps(SETTINGS))[0] == 0
    out = tmp_path / "hmis"
    base = ["export-hmis", "--project", PROJECT, "--out", str(out)]
    assert run(agency, capsys, *base, "--from", "2026-11-01", "--to", "2026-11-15")[0] == 0
    first = read(out, "Export")[0]["ExportID"]
    assert len(read(out, "CurrentLivingSituation")) == 1  # the 20th is after the period
    assert run(agency, capsys, *base, "--from", "2026-11-16", "--to", "2026-11-30")[0] == 0
    assert read(out, "Export")[0]["ExportID"] != first
    assert len(read(out, "CurrentLivingSituation")) == 2  # both enrollments are open
    assert hmis_check.check(out) == []
    assert read(out, "Export")[0]["ExportStartDate"] == "2026-11-16"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no leftovers
    assert out.stat().st_mode & 0o077 == 0  # names and birth dates: the exporter's eyes only

    before = {p.name: p.read_bytes() for p in out.iterdir()}
    for args, words in (
            (["--from", "2026-11-30", "--to", "2026-11-01"], "before --from"),
            (["--from", "November", "--to", "2026-11-30"], "--from: must be a date"),
    ):
        code, printed = run(agency, capsys, *base, *args)
        assert code == 2 and words in printed.err
    code, printed = run(agency, capsys, "export-hmis", "--project", "Nowhere", "--out",
                        str(out), "--from", "2026-11-01", "--to", "2026-11-30")
    assert code == 2 and "no HMIS project named 'Nowhere'" in printed.err
    assert PROJECT in printed.err
    (tmp_path / "mixed").mkdir()
    (tmp_path / "mixed" / "notes.txt").write_text("keep me")
    code, printed = run(agency, capsys, *base[:-1], str(tmp_path / "mixed"), "--from",
                        "2026-11-01", "--to", "2026-11-30")
    assert code == 2 and "not an HMIS export" in printed.err
    assert (tmp_path / "mixed" / "notes.txt").read_text() == "keep me"
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_bad_project_settings_are_refused_naming_the_key(agency, capsys):
    broken = json.loads(json.dumps(SETTINGS))
    broken[PROJECT]["funders"][1].pop("other")
    code, printed = run(agency, capsys, "settings", "set", "hmis_projects", json.dumps(broken))
    assert code == 2 and "funders[1]: other (the funder's name) is required" in printed.err
    broken[PROJECT]["funders"] = [{"funder": 47, "start": "2025-10-01"}]  # retired in FY2026
    code, printed = run(agency, capsys, "settings", "set", "hmis_projects", json.dumps(broken))
    assert code == 2 and "FY2026 funding source code" in printed.err
