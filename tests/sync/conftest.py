"""Sync fixtures: a real agency server (uvicorn on a free loopback port) over SQLite or a real
PostgreSQL, and laptops signed in to it through the real client.

PostgreSQL: TANDEM_TEST_PG names an account that may create databases (default
postgresql+psycopg://tandem:tandem@127.0.0.1:5432/postgres); each test gets a fresh database.
The PostgreSQL cases skip only when PostgreSQL is not installed on this machine; installed but
unreachable is a failure.
"""

import os
import shutil
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from sync import online
from sync.server import accounts, agency_settings
from sync.server.db import make_engine, migrate
from sync.server.embedded import serve_in_thread
from tests.conftest import PASSWORD

PG_ADMIN = os.environ.get("TANDEM_TEST_PG",
                          "postgresql+psycopg://tandem:tandem@127.0.0.1:5432/postgres")


def _pg_installed() -> bool:
    return bool(shutil.which("pg_ctlcluster") or shutil.which("pg_ctl") or
                os.environ.get("TANDEM_TEST_PG"))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'server' / 'agency.db'}"
        return
    if not _pg_installed():
        pytest.skip("PostgreSQL is not installed here (apt-get install postgresql)")
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"tandem_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as e:
        pytest.fail(f"PostgreSQL is installed but {PG_ADMIN} is unusable: {e}")
    yield make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


class Agency:
    """The running server plus direct access to its database, for setup and checks."""

    def __init__(self, db_url):
        self.db_url = db_url
        self.engine = make_engine(db_url)
        self.epoch = migrate(self.engine)
        with self.engine.begin() as conn:  # the tests of these settings set them themselves
            agency_settings.set_value(conn, "two_factor", "optional")
            agency_settings.set_value(conn, "retention_days", "3650")  # dated fixtures stay
        self.running = serve_in_thread(db_url)
        self.url = self.running.url

    def add_user(self, name, role="officer", teams=("mhst-1",)):
        with self.engine.begin() as conn:
            accounts.add_user(conn, name, role, list(teams), PASSWORD)

    def scalar(self, sql, **params):
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()

    def rows(self, sql, **params):
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).mappings().all()

    def restart(self):
        self.running.stop()
        self.running = serve_in_thread(self.db_url, port=int(self.url.rsplit(":", 1)[1]))

    def stop(self):
        self.running.stop()
        self.engine.dispose()


@pytest.fixture
def agency(db_url):
    server = Agency(db_url)
    yield server
    server.stop()


@pytest.fixture
def laptop(agency, tmp_path):
    """laptop(name, role, teams) -> a signed-in Session on its own data directory."""
    opened = []

    def make(name, role="officer", teams=("mhst-1",), add=True):
        if add:
            agency.add_user(name, role, teams)
        data_dir = tmp_path / f"laptop-{name}-{len(opened)}"
        session = online.login(data_dir, agency.url, name, PASSWORD)
        opened.append(session)
        return session

    yield make
    for s in opened:
        try:
            s.close()
        except Exception:
            pass
