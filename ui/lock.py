"""The session lock: after idle minutes (the `lock_after_minutes` setting, at most 30) or on
demand (Ctrl+Shift+L), a full-window lock screen covers everything until the password is given.

The screens stay as they are underneath, only hidden (drafts are saved as the lock falls), so
unlocking returns to exactly where the user was. The password check (scrypt, ~0.5 s), the
lockout and the audit events are fieldapp.lock's, run on the DB worker. An application-wide
event filter notes the time of every key, click, wheel or touch, and a watch each second locks
once the idle minutes have passed. Idle time is read on a clock that keeps counting while the
laptop sleeps: Qt's timers stop with Linux's monotonic clock, so a lid closed on an open session
and opened hours later would otherwise show it to whoever opened it. Signing out is the
window's (`MainWindow.sign_out`, ui/signout.py).
"""

import time

from fieldapp import lock, reauth, signin
from fieldapp.errors import WrongPassword
from fieldapp.session import Session

from .context import Context
from .qt import (
    QApplication,
    QDialog,
    QEvent,
    QFrame,
    QHBoxLayout,
    QKeySequence,
    QLineEdit,
    QMainWindow,
    QObject,
    QStackedWidget,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from .widgets import FieldErrors, WrappedLabel, button, centred, heading

LOCK_KEYS = "Ctrl+Shift+L"
WATCH_MS = 1000  # how often the idle time is looked at
LOCKED_TITLE = "Tandem — locked"
_INPUT = frozenset({
    QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove,
    QEvent.Type.Wheel, QEvent.Type.TouchBegin, QEvent.Type.TouchUpdate, QEvent.Type.TabletPress,
})


class LockScreen(QWidget):
    """What a locked window shows: whose session it is, a password field, and sign out."""

    def __init__(self, who: str):
        super().__init__()
        self.setObjectName("lockScreen")
        self.errors = FieldErrors()
        self.password = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.password.setObjectName("unlockPassword")
        self.password.setPlaceholderText("your password")
        self.unlock_button = button("Unlock", name="unlock", primary=True)
        self.sign_out_button = button("Sign out", name="signOut")
        self.password.returnPressed.connect(self.unlock_button.click)
        card = QFrame()
        card.setObjectName("lockCard")
        card.setFixedWidth(520)
        v = QVBoxLayout(card)
        v.addWidget(heading("Tandem is locked"))
        whom = WrappedLabel(f"Signed in as {who}. Enter your password to go back to your work.")
        v.addWidget(whom)
        v.addWidget(self.password)
        v.addWidget(self.errors.label("password"))
        v.addWidget(self.errors.general)
        buttons = QHBoxLayout()
        buttons.addWidget(self.unlock_button, 1)
        buttons.addWidget(self.sign_out_button)
        v.addLayout(buttons)
        centred(self, card)

    def busy(self, checking: bool) -> None:
        self.unlock_button.setEnabled(not checking)
        self.unlock_button.setText("Checking…" if checking else "Unlock")


class SessionLock(QObject):
    """Puts the lock screen over `window`'s content and locks it when idle or asked, until
    `stop()` (the session is ending)."""

    locked_changed = Signal(bool)

    def __init__(self, window: QMainWindow, pages: QStackedWidget, session: Session,
                 ctx: Context):
        """`pages`: the window's central widget, its content as page 0; the lock screen is
        added as page 1."""
        super().__init__(window)
        self.window, self.pages, self.ctx = window, pages, ctx
        self.locked = False
        self._title = window.windowTitle()
        self._focus: QWidget | None = None
        self._dialogs: list[QDialog] = []
        profile = session.profile
        self.screen = LockScreen(f"{profile.display_name or profile.username} ({profile.username})")
        self.screen.unlock_button.clicked.connect(self.try_unlock)
        self.screen.sign_out_button.clicked.connect(window.sign_out)
        pages.addWidget(self.screen)
        self.idle_ms = lock.DEFAULT_IDLE_MINUTES * 60_000
        self._last_input = awake_seconds()
        self.watch = QTimer(self, interval=WATCH_MS, timeout=self._lock_if_idle)
        self.watch.start()
        ctx.tasks.db(lock.idle_minutes).success(self.set_idle_minutes).run()
        self._keys = QKeySequence(LOCK_KEYS)
        QApplication.instance().installEventFilter(self)

    def set_idle_ms(self, ms: int) -> None:
        """How long without input before the lock falls (the setting, in ms; tests use less)."""
        self.idle_ms = ms
        self.watch.setInterval(min(WATCH_MS, ms))

    def _lock_if_idle(self) -> bool:
        """Lock if the idle time has passed (perhaps asleep, the watch not running); whether
        it did."""
        if self.locked or awake_seconds() - self._last_input < self.idle_ms / 1000:
            return False
        self.lock(f"idle {self.idle_ms / 60_000:g} min")
        return self.locked

    def eventFilter(self, watched, event) -> bool:
        if self.locked or event.type() not in _INPUT:
            return False
        if self._lock_if_idle():  # the first touch after a sleep: it goes to the lock, not a form
            return True
        self._last_input = awake_seconds()
        if event.type() == QEvent.Type.KeyPress and self._keys.matches(
                QKeySequence(event.keyCombination())) == QKeySequence.SequenceMatch.ExactMatch:
            # the window's shortcut does not fire over a modal dialog; this does
            self.lock_now()
            return True
        return False

    def lock_now(self) -> None:
        self.lock("on demand")

    def lock(self, reason: str) -> None:
        """Hide everything behind the lock screen; the screens stay as they are underneath."""
        if self.locked or not self.window.isVisible():  # a closed window has nothing to hide
            return
        self.locked = True
        self.watch.stop()
        _flush_drafts(self.window)
        focus = QApplication.focusWidget()
        self._focus = focus if focus is not None and self.window.isAncestorOf(focus) else None
        self._dialogs = [d for d in self.window.findChildren(QDialog) if d.isVisible()]
        for d in self._dialogs:
            d.hide()
        for action in self.window.actions():
            action.setEnabled(False)
        self.pages.setCurrentWidget(self.screen)
        self.window.statusBar().hide()
        self.window.setWindowTitle(LOCKED_TITLE)
        self.screen.errors.clear()
        self.screen.password.clear()
        self.screen.password.setFocus()
        self.ctx.tasks.db(lock.record_lock, reason).run()
        self.locked_changed.emit(True)

    def try_unlock(self) -> None:
        password = self.screen.password.text()
        self.screen.password.clear()
        self.screen.errors.clear()
        if not password:
            self.screen.errors.show_one("password", "type your password")
            return
        self.screen.busy(True)
        self.ctx.tasks.db(lock.unlock, password).success(self._unlocked).failure(
            self._refused).run()

    def _unlocked(self, _result) -> None:
        self.screen.busy(False)
        self.locked = False
        self.pages.setCurrentIndex(0)
        self.window.statusBar().show()
        self.window.setWindowTitle(self._title)
        for action in self.window.actions():
            action.setEnabled(True)
        for d in self._dialogs:
            d.show()
        self._dialogs = []
        if self._focus is not None:
            self._focus.setFocus(Qt.FocusReason.OtherFocusReason)
        self._last_input = awake_seconds()
        self.watch.start()
        self.locked_changed.emit(False)

    def _refused(self, error: BaseException) -> None:
        self.screen.busy(False)
        if isinstance(error, WrongPassword):
            self.screen.errors.show_one("password", str(error))
        elif isinstance(error, (signin.AccountLocked, reauth.OnlineSignInRequired)):
            self.screen.errors.message(str(error) + ("; sign out, then sign in online (your "
                                                     "drafts are kept)" if isinstance(
                error, reauth.OnlineSignInRequired) else ""))
            self.screen.unlock_button.setEnabled(False)
            self.screen.password.setEnabled(False)
        else:
            self.screen.errors.handle(error)
        self.screen.password.setFocus()

    def set_idle_minutes(self, minutes: int) -> None:
        self.set_idle_ms(minutes * 60_000)

    def stop(self) -> None:
        """The session is ending: no more idle locking, and the app-wide filter goes."""
        QApplication.instance().removeEventFilter(self)
        self.watch.stop()


def awake_seconds() -> float:
    """Seconds on a clock that counts the time the laptop slept: Linux's boot clock; elsewhere
    the monotonic clock, which on Windows counts sleep too."""
    if hasattr(time, "CLOCK_BOOTTIME"):
        return time.clock_gettime(time.CLOCK_BOOTTIME)
    return time.monotonic()


def _flush_drafts(window) -> None:
    """Every open form saves its draft now (queued on the DB worker, before anything else)."""
    for view in getattr(window, "views", {}).values():
        flush = getattr(view, "flush_draft", None)
        if flush:
            flush()
