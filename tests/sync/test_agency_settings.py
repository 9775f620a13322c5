"""Agency settings: set on the server with `tandem-server settings`, delivered by every pull,
kept in the laptop's cache for offline use."""

import json

import requests

from fieldapp import agency as laptop_agency
from sync import credentials, engine
from sync.server import cli


def settings(db_url, *args, capsys):
    code = cli.main(["--db", db_url, "settings", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_setting_reaches_every_laptop_on_its_next_sync(agency, laptop, capsys):
    officer = laptop("ofc.zone")
    assert agency_zone(officer) == "America/Phoenix"  # never set: the default
    code, out, _ = settings(agency.db_url, "set", "time_zone", "America/New_York", capsys=capsys)
    assert code == 0 and "America/New_York" in out
    engine.run_sync(officer)
    assert agency_zone(officer) == "America/New_York"
    code, out, _ = settings(agency.db_url, "unset", "time_zone", capsys=capsys)
    assert code == 0 and "America/Phoenix" in out
    engine.run_sync(officer)
    assert agency_zone(officer) == "America/Phoenix"


def agency_zone(session) -> str:
    return laptop_agency.get(session.db, "time_zone")


def test_every_pull_page_carries_them(agency, laptop, capsys):
    officer = laptop("ofc.page")
    settings(agency.db_url, "set", "time_zone", "Europe/Dublin", capsys=capsys)
    link = credentials.transport_for(officer)
    page = link.call("GET", "/pull", params={"after": 0, "limit": 1})
    assert page["agency"] == {**laptop_agency.effective({}), "time_zone": "Europe/Dublin",
                              "two_factor": "optional", "retention_days": 3650}
    assert requests.get(f"{agency.url}/v1/pull", timeout=10).status_code == 401


def test_bad_values_and_unknown_keys_are_refused_and_change_nothing(agency, capsys):
    code, _, err = settings(agency.db_url, "set", "time_zone", "Mars/Olympus", capsys=capsys)
    assert code == 2 and "time_zone: must be an IANA time zone name" in err
    code, _, err = settings(agency.db_url, "set", "timezone", "UTC", capsys=capsys)
    assert code == 2 and "timezone: unknown setting; one of " in err and "time_zone" in err
    code, _, err = settings(agency.db_url, "set", "time_zone", capsys=capsys)
    assert code == 2 and "needs KEY and VALUE" in err
    code, out, _ = settings(agency.db_url, "list", "--json", capsys=capsys)
    assert code == 0 and json.loads(out) == laptop_agency.effective({})
    assert json.loads(out)["time_zone"] == "America/Phoenix"
