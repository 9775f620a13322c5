"""The main window: who is signed in, the role's home screen, navigation, help, theme, status bar."""


from fieldapp import cache_rebuild, outreach
from fieldapp.session import unlock
from tests.conftest import PASSWORD, make_session
from tests.test_cache_rebuild import damage, filler
from tests.ui.conftest import close_window, settle
from ui.qt import QApplication, QLabel, QPlainTextEdit, Qt
from ui.review import ReviewView
from ui.shift import ShiftView


def test_officer_sees_who_and_role_and_starts_at_the_shift(open_window, officer):
    window = open_window(officer)
    assert "ofc.ramirez" in window.user_label.text()
    assert window.role_label.text() == "OFFICER"
    assert window.current_key == "shift"
    assert isinstance(window.current_view, ShiftView)


def test_peer_starts_at_outreach_and_has_no_encounter_screen(open_window, peer):
    window = open_window(peer)
    assert window.current_key == "outreach"
    assert "encounter" not in window.nav_buttons and "crc" not in window.nav_buttons


def test_supervisor_home_is_the_review_queue(open_window, data_dir):
    sergeant = make_session(data_dir, "sgt.diaz", "supervisor")
    try:
        window = open_window(sergeant)
        assert isinstance(window.current_view, ReviewView)
        texts = " ".join(l.text() for l in window.current_view.findChildren(QLabel))
        assert "No shifts waiting for review" in texts
    finally:
        sergeant.close()


def test_every_role_opens_the_window_at_its_home(qtbot, open_window, data_dir):
    from fieldapp.records import LAPTOP_ROLES
    from ui.mainwindow import HOME
    for role in LAPTOP_ROLES:
        session = make_session(data_dir, f"user.{role}", role)
        try:
            window = open_window(session)
            assert window.current_key == HOME[role]
            close_window(qtbot, window)
        finally:
            session.close()




def test_help_overlay_lists_every_screens_shortcuts(qtbot, open_window, officer):
    window = open_window(officer)
    qtbot.keyClick(window, Qt.Key.Key_F1)
    overlay = window.help_overlay
    assert overlay.isVisible()
    listed = {(screen, what) for screen, _keys, what in overlay.rows}
    assert ("Everywhere", "Sync now") in listed
    assert ("Shift", "Status: En route") in listed
    assert ("Encounter", "Save the encounter") in listed
    assert ("CRC drop-off", "Next step: arrived / handed off / cleared") in listed
    overlay.close()
    settle(qtbot, window)


def test_theme_switches_in_one_shortcut(qtbot, open_window, officer, theme):
    window = open_window(officer)
    before = theme.name
    qtbot.keyClick(window, Qt.Key.Key_N,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert theme.name != before
    assert ("#121417" in QApplication.instance().styleSheet()) == (theme.name == "night")
    qtbot.keyClick(window, Qt.Key.Key_N,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert theme.name == before


def test_night_theme_is_dark_with_no_pure_white():
    import re
    from resources import text
    qss = text("night.qss")
    colors = re.findall(r"#([0-9a-fA-F]{6})\b", qss)
    assert colors and "white" not in re.sub(r"/\*.*?\*/", "", qss).lower()
    brightest = max(max(int(c[i:i + 2], 16) for i in (0, 2, 4)) for c in colors)
    assert brightest < 0xF0  # nothing near pure white on a dark road
    background = re.search(r"QWidget \{ background: #([0-9a-f]{6})", qss).group(1)
    assert max(int(background[i:i + 2], 16) for i in (0, 2, 4)) < 0x30


def test_officers_never_get_the_clinical_note_field(open_window, officer):
    window = open_window(officer)
    view = window.show_screen("encounter")
    names = {w.objectName() for w in view.findChildren(QPlainTextEdit)}
    assert "policeNote" in names and "clinicalNote" not in names


def test_clinicians_get_both_notes(open_window, clinician):
    window = open_window(clinician)
    view = window.show_screen("encounter")
    names = {w.objectName() for w in view.findChildren(QPlainTextEdit)}
    assert {"policeNote", "clinicalNote"} <= names


def test_status_bar_counts_pending_changes_and_conflicts(qtbot, open_window, officer):
    window = open_window(officer)
    assert window.status.pending.text() == "0 changes waiting to sync"
    outreach.log_contact(officer, services_offered=["food"])
    officer.db.execute(
        "INSERT INTO conflict (id, table_name, record_id, field, kept_value, other_value, "
        "detected_at) VALUES ('c1', 'person', 'p1', 'alias', '\"a\"', '\"b\"', '2026-01-01T00:00:00Z')")
    officer.db.conn.commit()
    window.status.refresh()
    settle(qtbot, window)
    assert window.status.pending.text() == "1 change waiting to sync"
    assert window.status.conflicts.text() == "1 conflict to review"
    assert window.status.last_sync.text() == "Never synced"


def test_sync_now_without_a_server_says_so(qtbot, open_window, officer):
    window = open_window(officer)
    qtbot.keyClick(window, Qt.Key.Key_F5)
    settle(qtbot, window)
    assert "no agency server" in window.status.connection.text()


def test_sync_now_syncs_with_a_real_server_on_the_network_worker(qtbot, open_window, data_dir,
                                                                  tmp_path):
    from sync import online
    from sync.server import accounts
    from sync.server.db import make_engine
    from sync.server.embedded import start_local_server
    server = start_local_server(tmp_path / "server")
    try:
        engine = make_engine(server.db_url)
        with engine.begin() as conn:
            accounts.add_user(conn, "ofc.ramirez", "officer", ["mhst-1"], "long enough pw")
        engine.dispose()
        session = online.login(data_dir, server.url, "ofc.ramirez", "long enough pw")
        outreach.log_contact(session, supplies=["water"])
        window = open_window(session)
        assert "1 change waiting" in window.status.pending.text()
        qtbot.mouseClick(window.status.sync_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "Online" in window.status.connection.text(), timeout=15_000)
        settle(qtbot, window)
        qtbot.waitUntil(lambda: "0 changes waiting" in window.status.pending.text())
        assert window.status.last_sync.text().startswith("Last sync")
        assert session.db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0
    finally:
        server.stop()


def test_a_hidden_screens_shortcut_does_nothing(qtbot, open_window, officer):
    window = open_window(officer)
    encounter = window.show_screen("encounter")
    next(b for b in encounter.situation.buttons() if b.property("value") == "other").click()
    window.show_screen("outreach")
    qtbot.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot, window)
    assert officer.db["outreach_contact"].count == 1
    assert officer.db["encounter"].count == 0


def test_changes_leave_soon_after_the_connection_returns(qtbot, theme, data_dir, tmp_path,
                                                         monkeypatch):
    from sync import online
    from ui import syncstatus
    monkeypatch.setattr(syncstatus, "OFFLINE_RETRY_SECONDS", 1)
    from sync.server import accounts
    from sync.server.db import make_engine
    from sync.server.embedded import serve_in_thread, start_local_server
    from ui.mainwindow import MainWindow
    server = start_local_server(tmp_path / "server")
    url = server.db_url
    engine = make_engine(url)
    with engine.begin() as conn:
        accounts.add_user(conn, "ofc.ramirez", "officer", ["mhst-1"], "long enough pw")
    engine.dispose()
    session = online.login(data_dir, server.url, "ofc.ramirez", "long enough pw")
    port = int(server.url.rsplit(":", 1)[1])
    server.stop()  # the car drives into a dead zone
    outreach.log_contact(session, supplies=["water"])
    window = MainWindow(session, theme, auto_sync_seconds=3600)  # the timer alone: an hour
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: "Offline" in window.status.connection.text(), timeout=20_000)
    server = serve_in_thread(url, port=port)  # and out of it
    try:
        qtbot.waitUntil(lambda: "Online" in window.status.connection.text(), timeout=30_000)
        qtbot.waitUntil(lambda: "0 changes waiting" in window.status.pending.text(),
                        timeout=10_000)
    finally:
        close_window(qtbot, window)
        server.stop()


def test_a_first_sync_shows_its_progress_in_the_status_bar(qtbot, open_window, data_dir,
                                                           tmp_path):
    import threading

    from sync import engine as sync_engine
    from sync import online
    from sync.server import accounts
    from sync.server.db import make_engine
    from sync.server.embedded import start_local_server
    server = start_local_server(tmp_path / "server")
    try:
        engine = make_engine(server.db_url)
        with engine.begin() as conn:
            for name in ("ofc.writer", "ofc.ramirez"):
                accounts.add_user(conn, name, "officer", ["mhst-1"], "long enough pw")
        engine.dispose()
        writer = online.login(tmp_path / "writer", server.url, "ofc.writer", "long enough pw")
        with writer.db.atomic():
            for _ in range(2500):
                outreach.log_contact(writer, supplies=["water"])
        assert sync_engine.run_sync(writer)["check"] == "ok"
        writer.close()
        session = online.login(data_dir, server.url, "ofc.ramirez", "long enough pw")
        window = open_window(session)
        shown = []
        window.status.progressed.connect(
            lambda *_: shown.append((threading.current_thread() is threading.main_thread(),
                                     window.status.progress.text(),
                                     window.status.progress.isVisible())),
            Qt.ConnectionType.QueuedConnection)
        qtbot.mouseClick(window.status.sync_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "Online" in window.status.connection.text(), timeout=30_000)
        settle(qtbot, window)
        assert shown[0] == (True, "Receiving records: 2,000 of 2,500", True)
        assert shown[-1][1] == "Receiving records: 2,500 of 2,500"
        assert not window.status.progress.isVisible()  # gone once the sync is done
    finally:
        server.stop()


def test_damage_found_after_sign_in_and_the_rebuild_are_said_without_holding_the_window(
        qtbot, open_window, data_dir, monkeypatch):
    """The page check runs on the network worker once the window is up: it says to sign in
    again; that sign-in rebuilds, and says what was kept (fieldapp/cache_rebuild.py). Neither
    box holds the window up."""
    from ui import mainwindow
    monkeypatch.setattr(mainwindow, "PAGE_CHECK_DELAY_MS", 100)
    officer = make_session(data_dir)
    outreach.log_contact(officer, supplies=["water"])
    path = officer.cache_path
    officer.close()
    damage(path, -2)

    def box(name):
        qtbot.waitUntil(lambda: any(w.objectName() == name and w.isVisible()
                                    for w in QApplication.topLevelWidgets()), timeout=10_000)
        found = next(w for w in QApplication.topLevelWidgets() if w.objectName() == name)
        assert found.windowModality() != Qt.WindowModality.ApplicationModal
        return found

    window = open_window(unlock(data_dir, "ofc.ramirez", PASSWORD))
    said = box("cacheDamaged")
    assert said.text().startswith("This laptop's copy of your records is damaged on its disk. "
                                  "Sign out and sign in again")
    said.close()
    close_window(qtbot, window)

    window = open_window(unlock(data_dir, "ofc.ramirez", PASSWORD))
    said = box("cacheRebuilt")  # the contact, and the audit of the sign-out in between
    assert "has been rebuilt: 2 change(s) not yet sent" in said.text()
    qtbot.waitUntil(lambda: window.status.pending.text() == "2 changes waiting to sync")
    said.close()


def test_a_damaged_page_read_before_the_check_is_said_plainly_not_as_a_bug(
        qtbot, open_window, data_dir, monkeypatch):
    """A screen's job meets the damage first: the plain notice, and no bug report."""
    from ui import mainwindow
    monkeypatch.setattr(mainwindow, "PAGE_CHECK_DELAY_MS", 600_000)  # not yet
    officer = make_session(data_dir)
    filler(officer)
    path = officer.cache_path
    officer.close()
    damage(path, -2, -3)
    window = open_window(unlock(data_dir, "ofc.ramirez", PASSWORD))
    window.tasks.db(lambda s: s.db.execute(
        "SELECT sum(length(description)) FROM dir_organization").fetchone()).run()
    qtbot.waitUntil(lambda: any(w.objectName() == "environmentError" and w.isVisible()
                                for w in QApplication.topLevelWidgets()), timeout=10_000)
    said = next(w for w in QApplication.topLevelWidgets() if w.objectName() == "environmentError")
    assert said.text().startswith("This laptop's copy of your records is damaged on its disk.")
    assert not any(w.objectName() == "bugReport" and w.isVisible()
                   for w in QApplication.topLevelWidgets())
    assert cache_rebuild.marked(path)
    said.close()
