"""The crew is told when their laptop gave back what a restored agency server had lost."""

import re

from sqlalchemy import text

from fieldapp import outreach
from sync.server import accounts, restore
from sync.server.db import make_engine
from sync.server.embedded import start_local_server

from tests.ui.conftest import click, settle


def server_count(server) -> int:
    engine = make_engine(server.db_url)
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM record")).scalar()
    engine.dispose()
    return count


def test_the_status_bar_says_how_many_records_went_back(qtbot, open_window, data_dir, tmp_path):
    from sync import online
    server = start_local_server(tmp_path / "server")
    try:
        engine = make_engine(server.db_url)
        with engine.begin() as conn:
            accounts.add_user(conn, "ofc.ramirez", "officer", ["mhst-1"], "long enough pw")
        engine.dispose()
        session = online.login(data_dir, server.url, "ofc.ramirez", "long enough pw")
        window = open_window(session)
        outreach.log_contact(session, supplies=["water"])
        click(qtbot, window.status.sync_button)
        settle(qtbot, window, timeout=15_000)
        nightly = restore.backup(server.db_url, tmp_path / "nightly.db")["backup"]
        kept = server_count(server)
        for _ in range(2):
            outreach.log_contact(session, supplies=["socks"])
        click(qtbot, window.status.sync_button)
        settle(qtbot, window, timeout=15_000)
        assert session.db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0
        assert window.status.currentMessage() == ""

        restore.restore(server.db_url, nightly)
        click(qtbot, window.status.sync_button)
        qtbot.waitUntil(lambda: "had lost" in window.status.currentMessage(), timeout=15_000)
        found = re.search(r"had lost (\d+) records this laptop held; they are back on it",
                          window.status.currentMessage())
        lost = server_count(server) - kept  # the 2 contacts, and audit events written since
        assert found and int(found.group(1)) == lost >= 2
    finally:
        server.stop()
