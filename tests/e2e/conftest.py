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
    """Everything a test (or a module) started: X servers taken from the module's pool, agency
    servers, laptops. `keep` saves screenshots and logs; `close` stops it all."""

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

    def keep(self, node_name: str) -> None:
        where = keep_artifacts(node_name, self.laptops, self.agencies, self.screens)
        print(f"\nscreenshots and logs kept in {where}")

    def close(self) -> None:
        for laptop in self.laptops:
            laptop.stop()
        for agency in self.agencies:
            agency.stop()
        for x in self.screens:
            self.xservers.give_back(x)


def _failed(node) -> bool:
    return any(getattr(node, f"e2e_{when}", None) is not None
               and getattr(node, f"e2e_{when}").failed for when in ("setup", "call"))


@pytest.fixture
def world(request, xservers, agency_template, tmp_path):
    """What one test starts, stopped when it ends."""
    w = World(xservers, agency_template, tmp_path)
    yield w
    if _failed(request.node):
        w.keep(request.node.nodeid)
    w.close()


@pytest.fixture(scope="module")
def module_world(request, xservers, agency_template, tmp_path_factory):
    """What a module's tests share (laptops signed in once), stopped after the last one."""
    w = World(xservers, agency_template, tmp_path_factory.mktemp("world"))
    yield w
    w.close()


@pytest.fixture
def kept_on_failure(request, module_world):
    """A test on the module's world: its screens and logs are kept if it fails."""
    yield module_world
    if _failed(request.node):
        module_world.keep(request.node.nodeid)
