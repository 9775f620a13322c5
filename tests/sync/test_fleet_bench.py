"""The fleet benchmark (bench/bench_load.py) sends what a laptop's sync sends: the same
requests, in the same order, with the same query parameters. It writes its requests by hand to
stay lean, so when the engine's protocol changes this test says the benchmark measures a sync
no laptop makes any more."""

import sys
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from requests.adapters import HTTPAdapter
from sync_helpers import outreach

from sync import engine
from sync.server import accounts

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import bench_load  # noqa: E402


def shape(method: str, target: str) -> tuple[str, str, tuple[str, ...]]:
    """A request as the protocol sees it: method, path and the names of its parameters."""
    parts = urlsplit(target)
    return method, parts.path, tuple(sorted(name for name, _ in parse_qsl(parts.query)))


class Recording(HTTPAdapter):
    def __init__(self):
        super().__init__()
        self.seen = []

    def send(self, request, **kwargs):
        self.seen.append(shape(request.method, request.path_url))
        return super().send(request, **kwargs)


class RecordingFleet(bench_load.Fleet):
    def __init__(self, *args):
        super().__init__(*args)
        self.seen = []

    def send(self, method, target, data, headers):
        self.seen.append(shape(method, target))
        return super().send(method, target, data, headers)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_fleet_bench_syncs_as_the_laptop_does(agency, laptop, tmp_path):
    simulated = bench_load.Laptop(0, bench_load.ShiftText(bench_load.shift_template(tmp_path)))
    with agency.engine.begin() as conn:
        accounts.add_user(conn, simulated.username, "officer", [simulated.team],
                          bench_load.PASSWORD)
    officer = laptop("ofc.engine", teams=(simulated.team,))
    partner = laptop("ofc.partner", teams=(simulated.team,))
    engine.run_sync(officer)  # both have signed in and synced once, nothing to push yet
    fleet = RecordingFleet(agency.url, [simulated], 2)
    fleet.sign_in(simulated)

    outreach(partner, 1)  # a teammate's change: each pull below brings a record
    engine.run_sync(partner)
    outreach(officer, 2)
    http, adapter = requests.Session(), Recording()
    http.mount("http://", adapter)
    assert engine.run_sync(officer, http=http)["check"] == "ok"
    fleet.seen.clear()
    fleet.sync(simulated)

    assert fleet.errors == [] and fleet.syncs == 1 and fleet.ops_pushed == 2
    assert [method + " " + path for method, path, _ in adapter.seen] == [
        "POST /v1/push", "GET /v1/pull", "POST /v1/device/status"]
    assert fleet.seen == adapter.seen
