"""Fixtures of the acceptance suite (the programs themselves, see harness.py): X servers per
test module, one agency database per run, and a `world` per test that stops every process it
started and, when the test fails, keeps a screenshot of every screen and every log under
.e2e-artifacts/<test>/."""

import pytest

from tests.e2e.harness import (SMALL, Agency, Laptop, XServer, XServers, keep_artifacts,
                               make_agency_database)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"e2e_{report.when}", report)


@pytest.fixture(scope="session")
def agency_template(tmp_path_factory):
    """The agency database every test's server starts from (made once, copied per test)."""
    return make_agency_database(tmp_path_factory.mktemp("agency-template") / "agency.db")


@pytest.fixture(scope="module")
def xservers(tmp_path_factory):
    pool = XServers(tmp_path_factory.mktemp("x"))
    yield pool
    pool.stop()


class World:
    """Everything one test started: X servers taken from the module's pool, agency servers,
    laptops. `close` stops them all, keeping artifacts first when the test failed."""

    def __init__(self, xservers: XServers, template, workdir):
        self.xservers, self.template, self.workdir = xservers, template, workdir
        self.screens: list[XServer] = []
        self.agencies: list[Agency] = []
        self.laptops: list[Laptop] = []

    def screen(self, size=SMALL) -> XServer:
        x = self.xservers.take(size)
        self.screens.append(x)
        return x

    def agency(self, start: bool = True, env: dict | None = None) -> Agency:
        agency = Agency(self.template, self.workdir / f"agency-{len(self.agencies)}", env)
        self.agencies.append(agency)
        return agency.start() if start else agency

    def laptop(self, name: str, size=SMALL, screen: XServer | None = None,
               env: dict | None = None) -> Laptop:
        laptop = Laptop(screen or self.screen(size), self.workdir, name, env)
        self.laptops.append(laptop)
        return laptop

    def close(self, failed: bool, node_name: str) -> None:
        if failed:
            where = keep_artifacts(node_name, self.laptops, self.agencies, self.screens)
            print(f"\nscreenshots and logs kept in {where}")
        for laptop in self.laptops:
            laptop.stop()
        for agency in self.agencies:
            agency.stop()
        for x in self.screens:
            self.xservers.give_back(x)


@pytest.fixture
def world(request, xservers, agency_template, tmp_path):
    w = World(xservers, agency_template, tmp_path)
    yield w
    failed = any(getattr(request.node, f"e2e_{when}", None) is not None
                 and getattr(request.node, f"e2e_{when}").failed for when in ("setup", "call"))
    w.close(failed, request.node.nodeid)
