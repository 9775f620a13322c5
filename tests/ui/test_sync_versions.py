"""The status bar when the agency server has moved on: the laptop says "update Tandem to sync"
with the version to install, keeps what waits to sync, and goes on working offline."""

from fieldapp import outreach
from sync import online
from sync.server import accounts
from sync.server.db import make_engine
from sync.server.embedded import serve_in_thread, start_local_server
from tests.ui.conftest import settle
from ui.qt import QMessageBox, Qt

PASSWORD = "long enough pw"


def test_a_laptop_too_old_for_the_server_says_what_to_install_and_works_on(
        qtbot, open_window, data_dir, tmp_path):
    server = start_local_server(tmp_path / "server")
    upgraded = serve_in_thread(server.db_url, min_app_version="0.3.0")
    try:
        engine = make_engine(server.db_url)
        with engine.begin() as conn:
            accounts.add_user(conn, "ofc.ramirez", "officer", ["mhst-1"], PASSWORD)
        engine.dispose()
        session = online.login(data_dir, server.url, "ofc.ramirez", PASSWORD)
        with session.db.atomic():  # the agency's server is now the upgraded one
            session.db.execute("UPDATE sync_state SET server_url = ?", [upgraded.url])
        outreach.log_contact(session, supplies=["water"])
        window = open_window(session)

        qtbot.keyClick(window, Qt.Key.Key_F5)
        qtbot.waitUntil(lambda: "update Tandem" in window.status.connection.text(),
                        timeout=15_000)
        settle(qtbot, window)
        status = window.status.connection.text()
        assert "Offline · update Tandem to sync" in status and "0.3.0 or later" in status
        box = window.findChild(QMessageBox, "environmentError")  # Sync now was asked for
        assert box is not None and "0.3.0 or later" in box.text()
        box.close()

        window.tasks.db(outreach.log_contact, supplies=["socks"]).run()  # work goes on
        settle(qtbot, window)
        qtbot.waitUntil(lambda: window.status.pending.text() == "2 changes waiting to sync")

        with session.db.atomic():  # a server that still accepts this laptop
            session.db.execute("UPDATE sync_state SET server_url = ?", [server.url])
        qtbot.mouseClick(window.status.sync_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "Online" in window.status.connection.text(), timeout=15_000)
        settle(qtbot, window)
        qtbot.waitUntil(lambda: window.status.pending.text() == "0 changes waiting to sync")
    finally:
        upgraded.stop()
        server.stop()
