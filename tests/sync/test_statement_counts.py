"""How many SQL statements the server runs for each request of a laptop's sync, counted with a
`before_cursor_execute` listener: each costs a worker about 0.2 ms of CPU through SQLAlchemy
besides the database's own, and at three times the county fleet's rate (issue 17) every
statement a sync saves counts. The counts are held exactly, so a duplicated read (the change
sequence, the releases, the meta table, a second update of the device's fleet row) fails here
before it costs the fleet. COPY (the push's inserts on PostgreSQL), PostgreSQL's BEGIN and
COMMIT, and the pool's ping go round the listener and are not counted (SQLite's BEGIN
IMMEDIATE is)."""

import pytest
import requests
from requests.adapters import HTTPAdapter
from sqlalchemy import Engine, event
from sync_helpers import outreach

from sync import engine

# Statements per request (SQLite counts its BEGIN IMMEDIATE). Exact: a count under its
# bound fails too, so that each saving is written down here.
COUNTS = {
    "sqlite": {"push": 12, "pull": 13, "status": 3, "idle pull": 13},
    "postgresql": {"push": 10, "pull": 13, "status": 2, "idle pull": 13},
}


class Statements:
    """Every statement the server runs, each under the laptop request it serves: the laptop
    sends one request at a time, and the server runs all of a request's statements before it
    answers."""

    def __init__(self):
        self.by_request: list[tuple[str, list[str]]] = []

    def seen(self, conn, cursor, statement, parameters, context, executemany):
        if self.by_request:
            self.by_request[-1][1].append(" ".join(statement.split())[:100])

    def start(self, request: str) -> None:
        self.by_request.append((request, []))


class Marking(HTTPAdapter):
    def __init__(self, statements: Statements):
        super().__init__()
        self.statements = statements

    def send(self, request, **kwargs):
        self.statements.start(f"{request.method} {request.path_url.split('?')[0]}")
        return super().send(request, **kwargs)


@pytest.fixture
def statements():
    seen = Statements()
    event.listen(Engine, "before_cursor_execute", seen.seen)
    yield seen
    event.remove(Engine, "before_cursor_execute", seen.seen)


def test_each_request_of_a_sync_runs_a_bounded_number_of_statements(agency, laptop,
                                                                    statements):
    officer = laptop("ofc.counted")
    partner = laptop("ofc.partner")
    outreach(officer, 1)
    engine.run_sync(officer)  # from here on its requests name the last op confirmed to it
    outreach(partner, 2)  # a teammate's changes: the officer's pull brings records
    engine.run_sync(partner)
    outreach(officer, 4)
    http = requests.Session()
    http.mount("http://", Marking(statements))
    assert engine.run_sync(officer, http=http)["check"] == "ok"
    assert engine.run_sync(officer, http=http)["requests"] == 1  # an idle sync: the pull alone

    requests_seen = [request for request, _ in statements.by_request]
    assert requests_seen == ["POST /v1/push", "GET /v1/pull", "POST /v1/device/status",
                             "GET /v1/pull"]
    counts = dict(zip(["push", "pull", "status", "idle pull"],
                      [len(s) for _, s in statements.by_request], strict=True))
    listing = "\n".join(f"{kind}:\n  " + "\n  ".join(seen)
                        for kind, (_, seen) in zip(counts, statements.by_request))
    assert counts == COUNTS[agency.engine.dialect.name], listing
