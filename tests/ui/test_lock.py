"""The session lock on the real window: idle and on-demand locking, what the lock hides, unlocking
back to exactly where the user was, the lockout, sign-out, and the audit rows."""

import gc

from fieldapp import drafts, encounters, signin
from fieldapp.session import Session, unlock
from tests.conftest import PASSWORD, make_session
from tests.ui.conftest import settle
from ui.app import Windows
from ui.help import shortcut_rows
from ui import lock as lock_module
from ui.lock import LOCKED_TITLE
from ui.qt import QApplication, QLabel, QLineEdit, QPlainTextEdit, Qt

NOTE = "Subject calm, sitting on curb; brother on the way."


def audit(data_dir, action):
    s = unlock(data_dir, "ofc.ramirez", PASSWORD)
    try:
        return [(r["outcome"], r["detail"]) for r in s.db.query(
            "SELECT outcome, detail FROM audit_event WHERE action = ? ORDER BY at, created_hlc",
            [action])]
    finally:
        s.close()


def typed_encounter(qtbot, window):
    view = window.show_screen("encounter")
    settle(qtbot, window)
    view.police_note.setFocus()
    qtbot.keyClicks(view.police_note, NOTE)
    return view


def lock_with_keys(qtbot, window):
    qtbot.keyClick(window, Qt.Key.Key_L,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)


def enter(qtbot, window, password):
    screen = window.session_lock.screen
    qtbot.keyClicks(screen.password, password)
    qtbot.keyClick(screen.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: screen.unlock_button.text() == "Unlock", timeout=10_000)
    settle(qtbot, window)


def visible_text(window) -> str:
    """Every piece of text a person could see in the window right now."""
    parts = [w.text() for w in window.findChildren(QLabel) if w.isVisible()]
    parts += [w.text() for w in window.findChildren(QLineEdit) if w.isVisible()
              and w.echoMode() == QLineEdit.EchoMode.Normal]
    parts += [w.toPlainText() for w in window.findChildren(QPlainTextEdit) if w.isVisible()]
    return "\n".join(parts + [window.windowTitle()])


def test_idle_time_locks_and_input_keeps_it_open(qtbot, open_window, officer):
    window = open_window(officer)
    lock = window.session_lock
    assert lock.idle_ms == 10 * 60_000  # the default setting
    lock.set_idle_ms(1500)
    for _ in range(10):  # 3 s of typing: the timer restarts on each key
        qtbot.keyClick(window, Qt.Key.Key_Shift)
        qtbot.wait(300)
        assert not lock.locked
    qtbot.waitUntil(lambda: lock.locked, timeout=10_000)
    assert lock.pages.currentWidget() is lock.screen
    settle(qtbot, window)
    assert audit(officer.data_dir, "lock") == [("success", "idle 0.025 min")]


class SleepingClock:
    """The boot clock, with the time a laptop slept added: Qt's timers do not see it."""

    def __init__(self, awake_seconds):
        self.awake_seconds, self.slept = awake_seconds, 0.0

    def __call__(self) -> float:
        return self.awake_seconds() + self.slept


def slept(monkeypatch) -> SleepingClock:
    clock = SleepingClock(lock_module.awake_seconds)
    monkeypatch.setattr(lock_module, "awake_seconds", clock)
    return clock


def test_a_laptop_that_slept_past_the_idle_minutes_wakes_locked(qtbot, open_window, officer,
                                                                 monkeypatch):
    """The lid closed on an open session, opened three hours later: locked within a second,
    though the app's timers counted none of the sleep."""
    window = open_window(officer)
    clock = slept(monkeypatch)
    view = typed_encounter(qtbot, window)
    clock.slept = 3 * 3600
    qtbot.waitUntil(lambda: window.session_lock.locked, timeout=3_000)
    assert window.session_lock.pages.currentWidget() is window.session_lock.screen
    assert NOTE not in visible_text(window)
    settle(qtbot, window)
    assert audit(officer.data_dir, "lock") == [("success", "idle 10 min")]
    assert view.police_note.toPlainText() == NOTE


def test_a_key_pressed_after_the_sleep_goes_to_the_lock_not_the_form(qtbot, open_window,
                                                                      officer, monkeypatch):
    """Woken, the first key comes before the watch has looked: it locks, and the form it was
    typed at stays as it was."""
    window = open_window(officer)
    window.session_lock.watch.stop()  # the watch has not looked yet
    clock = slept(monkeypatch)
    view = typed_encounter(qtbot, window)
    clock.slept = 11 * 60
    qtbot.keyClick(view.police_note, Qt.Key.Key_X)
    assert window.session_lock.locked
    assert view.police_note.toPlainText() == NOTE


def test_idle_minutes_come_from_the_setting(qtbot, open_window, officer):
    from fieldapp import lock as core_lock
    core_lock.set_idle_minutes(officer, 3)
    window = open_window(officer)
    assert window.session_lock.idle_ms == 3 * 60_000
    assert window.session_lock.watch.isActive()


def test_shortcut_locks_and_is_listed_in_help(qtbot, open_window, officer):
    window = open_window(officer)
    rows = shortcut_rows([("Everywhere", window)])
    assert ("Everywhere", "Ctrl+Shift+L", "Lock the screen") in rows
    lock_with_keys(qtbot, window)
    assert window.session_lock.locked
    settle(qtbot, window)
    assert audit(officer.data_dir, "lock") == [("success", "on demand")]


def test_lock_hides_everything(qtbot, open_window, officer):
    window = open_window(officer)
    typed_encounter(qtbot, window)
    window.show_help()
    assert window.help_overlay.isVisible()
    assert NOTE in visible_text(window)
    lock_with_keys(qtbot, window.help_overlay)  # the shortcut works over a dialog too
    assert not window.stack.isVisible() and not window.statusBar().isVisible()
    assert not window.user_label.isVisible()
    assert not window.help_overlay.isVisible()
    assert window.windowTitle() == LOCKED_TITLE
    text = visible_text(window)
    assert NOTE not in text and "Tandem is locked" in text
    # the window's shortcuts are off: F1 and screen switching do nothing while locked
    qtbot.keyClick(window, Qt.Key.Key_F1)
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert window.session_lock.pages.currentWidget() is window.session_lock.screen
    assert NOTE not in visible_text(window)


def test_wrong_password_stays_locked_with_a_message(qtbot, open_window, officer):
    window = open_window(officer)
    lock = window.session_lock
    lock_with_keys(qtbot, window)
    enter(qtbot, window, "not my password")
    assert lock.locked and lock.pages.currentWidget() is lock.screen
    assert lock.screen.errors.shown() == {
        "password": "wrong password; 4 more wrong tries lock this account on this laptop"}
    assert lock.screen.password.text() == ""
    enter(qtbot, window, "")  # nothing typed: said so, nothing checked
    assert lock.screen.errors.shown() == {"password": "type your password"}
    assert audit(officer.data_dir, "unlock") == [("failure", None)]


def test_right_password_returns_to_the_same_place_with_the_draft(qtbot, open_window, officer):
    window = open_window(officer)
    view = typed_encounter(qtbot, window)
    view.police_note.moveCursor(view.police_note.textCursor().MoveOperation.Start)
    lock_with_keys(qtbot, window)
    settle(qtbot, window)
    # the lock saved the draft as it fell
    saved = drafts.load_draft(officer, encounters.draft_key(view.encounter_id))
    assert saved["values"]["police_note"] == NOTE
    enter(qtbot, window, PASSWORD)
    lock = window.session_lock
    assert not lock.locked and lock.pages.currentIndex() == 0
    assert window.current_key == "encounter" and window.stack.isVisible()
    assert view.police_note.toPlainText() == NOTE
    assert QApplication.focusWidget() is view.police_note
    assert view.police_note.textCursor().position() == 0
    assert window.windowTitle() == "Tandem" and window.statusBar().isVisible()
    qtbot.keyClicks(view.police_note, "Update: ")  # typing goes on where it stopped
    assert view.police_note.toPlainText() == "Update: " + NOTE
    assert audit(officer.data_dir, "unlock") == [("success", None)]
    assert lock.watch.isActive()


def test_dialogs_come_back_after_unlock(qtbot, open_window, officer):
    window = open_window(officer)
    window.show_help()
    lock_with_keys(qtbot, window)
    assert not window.help_overlay.isVisible()
    enter(qtbot, window, PASSWORD)
    assert window.help_overlay.isVisible()


def test_five_wrong_unlocks_lock_the_account(qtbot, open_window, officer):
    window = open_window(officer)
    lock = window.session_lock
    lock_with_keys(qtbot, window)
    for i in range(signin.MAX_FAILURES):
        enter(qtbot, window, f"guess {i}")
    assert "sign in online" in lock.screen.errors.general.text()
    assert not lock.screen.unlock_button.isEnabled() and not lock.screen.password.isEnabled()
    assert lock.screen.sign_out_button.isEnabled()
    assert signin.is_locked(officer.data_dir, "ofc.ramirez")
    assert lock.locked


def test_sign_out_returns_to_sign_in_and_drops_the_key(qtbot, data_dir, theme):
    make_session(data_dir).close()
    session = signin.sign_in(data_dir, "ofc.ramirez", PASSWORD, banner_acknowledged=True)
    session.close()
    windows = Windows(data_dir, theme, session)
    main = windows.main
    settle(qtbot, main)
    view = typed_encounter(qtbot, main)
    encounter_id = view.encounter_id
    lock_with_keys(qtbot, main)
    with qtbot.waitSignal(main.signed_out, timeout=10_000):
        qtbot.mouseClick(main.session_lock.screen.sign_out_button, Qt.MouseButton.LeftButton)
    assert windows.main is None and windows.sign_in.isVisible()
    qtbot.addWidget(windows.sign_in)
    del main, view
    QApplication.sendPostedEvents(None, 0)  # deleteLater
    QApplication.processEvents()
    gc.collect()
    assert session.data_key == b""
    assert [s for s in gc.get_objects() if isinstance(s, Session) and s.data_dir == data_dir
            and s.data_key] == []
    # the draft and the audit trail were written before the key was dropped
    again = unlock(data_dir, "ofc.ramirez", PASSWORD)
    try:
        assert drafts.load_draft(again, encounters.draft_key(encounter_id))["values"][
            "police_note"] == NOTE
    finally:
        again.close()
    assert audit(data_dir, "sign_out") == [("success", None)]
    assert audit(data_dir, "lock") == [("success", "on demand")]

