"""`tandem demo`: a real local agency server with the seeds, the demo user signed in and synced."""

from datetime import date

from fieldapp import assignments, demo, directory, followups, paths
from sync import engine, online
from sync import demo as sync_demo

TODAY = date(2026, 11, 21)


def test_demo_starts_server_signs_in_and_syncs(data_dir):
    session, server = sync_demo.start(data_dir, today=TODAY)
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
