"""The agency's time zone on the server: the monthly report and the validity of releases read
the agency's date and clock (its time_zone setting), not the server's."""

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from sync.server import cli, disclosures


@pytest.fixture
def db_url(tmp_path):
    return f"sqlite:///{tmp_path / 'server' / 'agency.db'}"


def test_the_report_is_in_the_agency_zone_unless_told_otherwise(agency, tmp_path, capsys):
    assert cli.main(["--db", agency.db_url, "settings", "set", "time_zone",
                     "America/New_York"]) == 0
    out = tmp_path / "report.json"
    assert cli.main(["--db", agency.db_url, "report", "--month", "2026-11", "--format", "json",
                     "--out", str(out)]) == 0
    assert json.loads(out.read_text())["period"]["time_zone"] == "America/New_York"
    assert cli.main(["--db", agency.db_url, "report", "--month", "2026-11", "--format", "json",
                     "--out", str(out), "--tz", "America/Phoenix"]) == 0
    assert json.loads(out.read_text())["period"]["time_zone"] == "America/Phoenix"
    capsys.readouterr()


def test_releases_are_in_force_by_the_agency_date(agency, capsys):
    """UTC+14: the agency's date is the server's (UTC) date plus one, every afternoon."""
    assert cli.main(["--db", agency.db_url, "settings", "set", "time_zone",
                     "Pacific/Kiritimati"]) == 0
    with agency.engine.connect() as conn:
        assert disclosures.today(conn) == datetime.now(ZoneInfo("Pacific/Kiritimati")).date()
    capsys.readouterr()
