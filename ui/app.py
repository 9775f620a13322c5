"""Starting the desktop app: sign-in (or straight in, for the demo), then the main window."""

import sys
from pathlib import Path

from fieldapp.session import Session

from . import errors, input_policy, probe
from .qt import QApplication, QIcon, QLockFile, QMessageBox, QObject
from .signin import SignInView
from .theme import Theme

FRAME_ROOM = 64  # pixels beyond the window a window manager's title bar and borders may take
ALREADY_OPEN = ("Tandem is already open on this laptop. Use that window (it may be behind "
                "others, or minimized): this one closes, so that two copies never sign in, "
                "lock or sync the same records at once.")


def application() -> QApplication:
    """The QApplication, made once, with Tandem's name, style and icon."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Tandem")
    app.setOrganizationName("Tandem")
    if app.style().name() != "fusion":  # already Fusion where it is Qt's default (Linux)
        app.setStyle("Fusion")
    from resources import path
    app.setWindowIcon(QIcon(str(path("icons/tandem.svg"))))
    input_policy.install(app)
    return app


class Windows(QObject):
    """The app's top-level window: the sign-in screen until someone signs in, then the main
    window; after a sign-out the sign-in screen again, saying what stayed on this laptop.
    The session handed to the main window is closed (its workers open their own)."""

    def __init__(self, data_dir: Path, theme: Theme, session: Session | None = None, *,
                 auto_sync_seconds: int = 120):
        super().__init__()
        self.data_dir, self.theme = Path(data_dir), theme
        self.auto_sync_seconds = auto_sync_seconds
        self.sign_in: SignInView | None = None
        self.main = None  # the MainWindow, once someone has signed in
        self._frame = None  # a MainWindow's frame, made while the sign-in window is up
        if session is None:
            self.open_sign_in()
        else:
            self.open_main(session)

    def open_sign_in(self, notice: str = "") -> None:
        self.sign_in = SignInView(self.data_dir, notice)
        self.sign_in.prepared.connect(self._build_frame)
        self.sign_in.signed_in.connect(self.open_main)
        _show_fitted(self.sign_in)
        self.sign_in.activateWindow()  # typing goes to it, not to a window that is closing

    def _build_frame(self) -> None:
        """The main window's frame (nothing of anyone in it), hidden, on the UI thread, which is
        otherwise idle while the worker derives the key; signing in then only fills it in.
        A wrong password keeps it for the next try."""
        from .mainwindow import MainWindow  # imported already, by the sign-in window's worker

        if self.main is None and self._frame is None:
            self._frame = MainWindow(None, self.theme, auto_sync_seconds=self.auto_sync_seconds)

    def open_main(self, session: Session) -> None:
        if self._frame is None:
            self._build_frame()
        self.main, self._frame = self._frame, None
        self.main.open(session)
        self.main.signed_out.connect(self.signed_out)
        _show_fitted(self.main)
        self.main.activateWindow()  # its shortcuts work at once
        if self.sign_in is not None:
            self.sign_in.close()

    def signed_out(self, notice: str) -> None:
        """Back to sign-in; the main window (its screens, their text) is destroyed."""
        main, self.main = self.main, None
        self.open_sign_in(notice)  # first, so the app never has no window open
        main.close()
        main.deleteLater()


def _show_fitted(window) -> None:
    """Shown at 1366×768, or maximized on a screen with no room for that and a window
    manager's frame: a window as large as the screen would leave its bottom, the sync bar,
    below the screen's edge once the window manager adds a title bar."""
    screen = window.screen().availableGeometry()
    if screen.width() >= 1366 + FRAME_ROOM and screen.height() >= 768 + FRAME_ROOM:
        window.resize(1366, 768)
        window.show()
    else:
        # Sized to the screen first: a window manager that is busy or ignores the maximize
        # still leaves a window no wider than the screen.
        window.resize(min(1366, screen.width()), min(768, screen.height()))
        window.showMaximized()


def hold_data_folder(data_dir: Path) -> QLockFile | None:
    """This laptop's data folder for this copy of the app alone, held until the app quits; or
    None when another running copy holds it (a launcher clicked twice). A lock left by a copy
    that died (a crash, a dead battery) is taken over: its process is gone."""
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    lock = QLockFile(str(Path(data_dir) / "tandem.lock"))
    lock.setStaleLockTime(0)  # stale only when its process is gone, never by age
    return lock if lock.tryLock(0) else None


def run(data_dir: Path, session: Session | None = None) -> int:
    """Open the app; with a session (the demo) the main window opens signed in."""
    app = application()
    if session is not None:
        session.close()  # in this thread, which opened it; the window's workers open their own
    held = hold_data_folder(data_dir)
    if held is None:
        print(f"tandem: {ALREADY_OPEN}", file=sys.stderr)
        QMessageBox.information(None, "Tandem is already open", ALREADY_OPEN)
        return 1
    errors.install_excepthook()
    probe.install(app)  # only when TANDEM_PROBE is set (the acceptance suite)
    theme = Theme(app)
    windows = Windows(data_dir, theme, session)  # noqa: F841 - kept alive while the app runs
    try:
        return app.exec()
    finally:
        held.unlock()
