"""`tandem demo`: a real local agency server with the seeds, the demo user signed in and synced."""

import socket
from datetime import date

import pytest

from fieldapp import assignments, demo, directory, followups, paths
from fieldapp.errors import TandemError
from fieldapp.session import unlock
from sync import engine, online
from sync import demo as sync_demo
from tests.ports import free_port

TODAY = date(2026, 11, 21)


def test_demo_starts_server_signs_in_and_syncs(data_dir):
    session, server = sync_demo.start(data_dir, today=TODAY, port=free_port())
    try:
        username, password = demo.credentials()
        assert session.username == username and session.profile.role == "officer"
        assert (paths.server_dir(data_dir) / "agency.db").exists()
        assert paths.cache_path(data_dir, username).exists()
        assert len(assignments.open_assignments(session)) >= 5
        assert followups.overdue(session, TODAY) and followups.due_today(session, TODAY)
        assert directory.search(session.db, "crisis")
        assert session.db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0
        people = session.db.execute("SELECT count(*) FROM person").fetchone()[0]
        seeded = session.db.execute(
            "SELECT count(*) FROM person WHERE server_version > 0").fetchone()[0]
        assert seeded == people > 0
        # A partner's laptop signs in to the same demo server and pulls the team's records.
        partner = online.login(data_dir, server.url, "ofc.whitfield", password)
        engine.run_sync(partner)
        assert partner.db.execute("SELECT count(*) FROM person").fetchone()[0] == people
        partner.close()
    finally:
        session.close()
        server.stop()

    again, server = sync_demo.start(data_dir, today=TODAY)
    try:
        assert again.db.execute("SELECT count(*) FROM person").fetchone()[0] == people
        assert again.db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0
    finally:
        again.close()
        server.stop()


def server_url_of(data_dir, username, password) -> str:
    s = unlock(data_dir, username, password)
    try:
        return s.db.execute("SELECT server_url FROM sync_state WHERE id = 1").fetchone()[0]
    finally:
        s.close()


def test_the_demo_server_keeps_its_address_and_moves_every_cache_when_it_must(data_dir):
    """Issue 14, defect 3: the demo's server came back on another port each run, so every
    cache but the demo officer's pointed at a dead address for good."""
    _, password = demo.credentials()
    port = free_port()
    session, server = sync_demo.start(data_dir, today=TODAY, port=port)
    first = server.url
    try:
        assert first == f"http://127.0.0.1:{port}"
        online.login(data_dir, first, "ofc.whitfield", password).close()  # a second user
        with pytest.raises(TandemError, match="already running"):
            sync_demo.start(data_dir, today=TODAY, port=port)  # the same folder, twice
    finally:
        session.close()
        server.stop()

    session, server = sync_demo.start(data_dir, today=TODAY, port=free_port())
    session.close()
    server.stop()
    assert server.url == first  # the kept address, not the one offered
    assert server_url_of(data_dir, "ofc.whitfield", password) == first

    taken = socket.socket()  # another program takes the demo's port meanwhile
    # as servers do, so the demo server's closed connections still in TIME_WAIT don't stop it
    taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    taken.bind(("127.0.0.1", port))
    taken.listen(1)
    try:
        session, server = sync_demo.start(data_dir, today=TODAY)
        try:
            assert server.url != first
            assert (paths.server_dir(data_dir) / "port").read_text() == server.url.rsplit(":")[-1]
            assert server_url_of(data_dir, "ofc.whitfield", password) == server.url
            partner = unlock(data_dir, "ofc.whitfield", password)
            try:
                assert engine.run_sync(partner)["check"] == "ok"
            finally:
                partner.close()
        finally:
            session.close()
            server.stop()
    finally:
        taken.close()
