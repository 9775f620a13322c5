"""Settings and "offline, because": the agency server's address (checked against the server
before it is saved), the theme, the lock minutes; the status bar saying why it is offline."""

import pytest

from fieldapp import lock, outreach, settings
from fieldapp.session import unlock
from sync import online
from tests.conftest import PASSWORD
from tests.ports import free_port
from tests.sync.conftest import Agency
from tests.ui.conftest import settle, sign_in_again
from ui.help import shortcut_rows
from ui.qt import QKeySequence, Qt


@pytest.fixture
def agency(tmp_path):
    server = Agency(f"sqlite:///{tmp_path / 'server' / 'agency.db'}")
    yield server
    server.stop()


@pytest.fixture
def officer_online(agency, data_dir):
    agency.add_user("ofc.ramirez")
    session = online.login(data_dir, agency.url, "ofc.ramirez", PASSWORD)
    yield session
    session.close()


def server_url(data_dir) -> str:
    s = unlock(data_dir, "ofc.ramirez", PASSWORD)
    try:
        return s.db.execute("SELECT server_url FROM sync_state WHERE id = 1").fetchone()[0]
    finally:
        s.close()


def open_settings(qtbot, window):
    qtbot.keyClick(window, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    dialog = window.settings_dialog
    assert dialog.isVisible()
    settle(qtbot, window)
    return dialog


def check_and_save(qtbot, window, dialog, address):
    dialog.server.clear()
    qtbot.keyClicks(dialog.server, address)
    qtbot.keyClick(dialog.server, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.check_button.isEnabled(), timeout=30_000)
    settle(qtbot, window)


def test_offline_says_why_and_a_moved_server_is_found_again_in_settings(
        qtbot, open_window, officer_online, agency, data_dir):
    """Issue 14, defect 3: after the server came back at another address the laptop stayed
    offline for good, with no way to change the address, and "Offline" never said why."""
    outreach.log_contact(officer_online, supplies=["water"])
    agency.running.stop()  # the server goes away...
    window = open_window(officer_online)
    qtbot.keyClick(window, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: not window.status.syncing, timeout=30_000)
    assert window.status.connection.text() == (
        "● Offline · agency server not answering (connection refused)")
    assert "check the address in Settings" in window.status.connection.toolTip()

    from sync.server.embedded import serve_in_thread
    moved = serve_in_thread(agency.db_url, port=free_port())  # ...and comes back elsewhere
    try:
        dialog = open_settings(qtbot, window)
        assert dialog.server.text() == agency.url
        dead = f"http://127.0.0.1:{free_port()}"
        check_and_save(qtbot, window, dialog, dead)
        assert dialog.errors.shown()["server"].startswith(
            "Not saved: Agency server not answering (connection refused).")
        assert server_url(data_dir) == agency.url  # a wrong address is never saved

        check_and_save(qtbot, window, dialog, moved.url)
        assert dialog.errors.shown() == {}
        assert dialog.server_said.text().startswith(f"Saved. {moved.url} answered")
        assert server_url(data_dir) == moved.url
        qtbot.waitUntil(lambda: window.status.connection.text() == "● Online", timeout=30_000)
        qtbot.waitUntil(lambda: "0 changes waiting" in window.status.pending.text(),
                        timeout=10_000)
    finally:
        moved.stop()


def test_the_bar_says_offline_while_a_sync_retries_and_online_once_it_gets_through(
        qtbot, open_window, officer_online, agency):
    """Seen on a real display: with the server gone, the bar said "Online" through every
    retry of the sync (up to 15 s) before it said why it was offline."""
    window = open_window(officer_online)
    qtbot.keyClick(window, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: window.status.connection.text() == "● Online", timeout=30_000)
    outreach.log_contact(officer_online, supplies=["water"])
    agency.running.stop()
    qtbot.keyClick(window, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: "trying again" in window.status.connection.text(), timeout=10_000)
    assert window.status.syncing  # said while the sync still tries, not after it gave up
    assert window.status.connection.text() == (
        "● Offline · agency server not answering (connection refused) · trying again")
    assert "check the address in Settings" in window.status.connection.toolTip()

    agency.restart()  # the link comes back before the retries run out: this sync gets through
    qtbot.waitUntil(lambda: not window.status.syncing, timeout=30_000)
    assert window.status.connection.text() == "● Online"
    qtbot.waitUntil(lambda: "0 changes waiting" in window.status.pending.text(), timeout=10_000)


def test_another_agencys_server_is_not_taken_for_ours(qtbot, open_window, officer_online,
                                                     data_dir, tmp_path):
    other = Agency(f"sqlite:///{tmp_path / 'other' / 'agency.db'}")
    try:
        window = open_window(officer_online)
        dialog = open_settings(qtbot, window)
        check_and_save(qtbot, window, dialog, other.url)
        assert dialog.errors.shown()["server"].startswith(
            "Not saved: Sign-in rejected: sign in online again.")
        assert server_url(data_dir) != other.url
    finally:
        other.stop()


def test_settings_is_in_help_and_keeps_the_theme_and_the_lock_minutes(
        qtbot, open_window, officer, theme):
    window = open_window(officer)
    rows = shortcut_rows([("Everywhere", window)])
    keys = QKeySequence("Ctrl+,").toString(QKeySequence.SequenceFormat.NativeText)
    assert ("Everywhere", keys, "Settings: agency server, theme, lock") in rows
    dialog = open_settings(qtbot, window)
    assert dialog.lock_minutes.value() == 10
    assert (dialog.lock_minutes.minimum(), dialog.lock_minutes.maximum()) == (1, 30)
    dialog.lock_minutes.setValue(3)
    qtbot.mouseClick(dialog.lock_button, Qt.MouseButton.LeftButton)
    settle(qtbot, window)
    assert window.session_lock.idle_ms == 3 * 60_000
    assert lock.idle_minutes(officer) == 3

    night = dialog.findChild(type(dialog.lock_button), "theme_night")
    qtbot.mouseClick(night, Qt.MouseButton.LeftButton)
    settle(qtbot, window)
    assert theme.name == "night" and settings.get(officer.db, "theme") == "night"
    theme.choose("system")  # another user's window would follow the system again
    settle(qtbot, window)
    assert settings.get(officer.db, "theme") == "system"
    theme.choose("night")
    settle(qtbot, window)
    dialog.reject()

    from tests.ui.conftest import close_window
    close_window(qtbot, window)
    theme.choose("system")  # as someone else left it
    again = open_window(sign_in_again(officer))
    qtbot.waitUntil(lambda: theme.name == "night", timeout=5000)  # this user's choice
    again.theme.choose("system")


def change_password(qtbot, window, dialog, current, new, repeat=None):
    for field, text in ((dialog.current_password, current), (dialog.new_password, new),
                        (dialog.repeat_password, new if repeat is None else repeat)):
        field.clear()
        qtbot.keyClicks(field, text)
    qtbot.mouseClick(dialog.password_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.password_button.isEnabled(), timeout=30_000)
    settle(qtbot, window)


def test_the_user_changes_their_password_in_settings_online_only(
        qtbot, open_window, officer_online, agency, data_dir):
    """Issue 23: nothing called change_password; now the server takes the new password
    (its rules, the current one) and the laptop reseals its key in the same act."""
    window = open_window(officer_online)
    dialog = open_settings(qtbot, window)
    new = "plum tractor dawn sixty"
    change_password(qtbot, window, dialog, PASSWORD, new, repeat="plum tractor dawn")
    assert dialog.errors.shown() == {"repeat_password": "The two new passwords differ."}
    change_password(qtbot, window, dialog, "not my password", new)
    assert dialog.errors.shown() == {"current_password": "That is not your current password."}
    change_password(qtbot, window, dialog, PASSWORD, "Password1234")
    assert dialog.errors.shown()["new_password"].startswith(
        "The new password is refused: too easy to guess")
    unlock(data_dir, "ofc.ramirez", PASSWORD).close()  # nothing changed
    change_password(qtbot, window, dialog, PASSWORD, new)
    assert dialog.errors.shown() == {}
    assert dialog.password_said.text().startswith("Changed.")
    assert dialog.current_password.text() == ""
    unlock(data_dir, "ofc.ramirez", new).close()  # the copy opens with the new one...
    from sync.server import accounts
    with agency.engine.connect() as conn:  # ...and so does the server
        assert accounts.password_matches(accounts.find_user(conn, "ofc.ramirez"), new)

    agency.running.stop()  # offline: refused, with the reason, and nothing changes
    change_password(qtbot, window, dialog, new, "violet harbour kettle noon")
    assert "cannot reach" in dialog.errors.shown()["new_password"]
    unlock(data_dir, "ofc.ramirez", new).close()
    agency.restart()
    dialog.reject()
