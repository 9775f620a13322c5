"""Sign-in: the use banner, username and password; offline for a user with a cache here, online
(first sign-in on this laptop) through sync.online.login when a server is given.

The key derivation (~0.3 s) and any network call run on a worker, never on the UI thread.
The window needs none of the cache's stack to show: that, and the main window, are imported on
the DB worker once it is up (`prepare`), while the user types; `prepared` then tells the app to
build the main window's frame (ui.app), so signing in only fills it in.
"""

from pathlib import Path

from fieldapp import signin
from fieldapp.errors import KeyMissing, NoCache, TandemError, WrongPassword

from .qt import (QCheckBox, QFormLayout, QFrame, QLabel, QLineEdit, Qt, QTimer, QVBoxLayout,
                 QWidget, Signal)
from .tasks import Tasks
from .widgets import FieldErrors, button, centred, heading


def prepare(_no_session) -> None:
    """On the DB worker, once the window shows: import what signing in and the first screen
    need, in the order signing in needs them (the key store and its keyring backend,
    cryptography, the cache's stack, the main window and the home screens). Whatever is not
    imported yet when Sign in is pressed carries on here while the net worker derives the key
    (scrypt releases the GIL, and fieldapp derives it before importing anything more). The
    screens' modules only define classes: no Qt object is made on this thread."""
    from fieldapp import keys
    keys.keyring_available()  # imports keyring and picks its backend
    from cryptography.hazmat.primitives.ciphers import aead  # noqa: F401
    from fieldapp import changes, store  # noqa: F401

    from . import mainwindow
    for key in sorted(set(mainwindow.HOME.values())):
        mainwindow.view_class(key)


def sign_in(_no_session, data_dir: Path, username: str, password: str, server: str,
            acknowledged: bool):
    """On the network worker: online when a server is given, else offline.
    The session is closed in this thread; the app's workers reopen it in theirs."""
    if server:
        if not acknowledged:
            raise TandemError("acknowledge the use banner before signing in")
        from sync import online, transport  # only an online sign-in needs them (and requests)
        try:
            session = online.login(data_dir, server, username, password)
        except (WrongPassword, transport.SyncFailed) as e:
            if isinstance(e, WrongPassword) or e.code == "unauthorized":
                signin.record_failure(data_dir, username)  # counted and audited like offline
            raise
        signin.clear_lock_after_online_sign_in(session)
    else:
        session = signin.sign_in(data_dir, username, password, banner_acknowledged=acknowledged)
    session.close()
    return session


class SignInView(QWidget):
    """Emits `signed_in(session)`; that session's connection is closed, only reopened by workers."""

    signed_in = Signal(object)
    prepared = Signal()  # what signing in and the main window need is imported

    def __init__(self, data_dir: Path):
        super().__init__()
        self.setWindowTitle("Tandem — sign in")
        self.data_dir = Path(data_dir)
        self.tasks = Tasks(None, self._failed)
        self._prepared = False
        self.errors = FieldErrors()
        self.username = QLineEdit(placeholderText="e.g. ofc.ramirez")
        self.username.setObjectName("username")
        self.password = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.password.setObjectName("password")
        self.server = QLineEdit(placeholderText="only for a first sign-in on this laptop")
        self.server.setObjectName("server")
        banner = QLabel(signin.USE_BANNER)
        banner.setWordWrap(True)
        self.acknowledge = QCheckBox("I acknowledge the terms above")
        self.acknowledge.setObjectName("acknowledge")
        self.button = button("Sign in", self.submit, name="signIn", primary=True)
        self.password.returnPressed.connect(self.submit)
        self.username.returnPressed.connect(self.password.setFocus)

        card = QFrame()
        card.setObjectName("signInCard")
        card.setFixedWidth(640)
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        form.addRow("Username", self.username)
        form.addRow("", self.errors.label("username"))
        form.addRow("Password", self.password)
        form.addRow("", self.errors.label("password"))
        form.addRow("Agency server", self.server)
        form.addRow("", self.errors.label("server"))
        v = QVBoxLayout(card)
        v.addWidget(heading("Sign in to Tandem"))
        v.addWidget(banner)
        v.addWidget(self.acknowledge)
        v.addWidget(self.errors.label("acknowledge"))
        v.addLayout(form)
        v.addWidget(self.errors.general)
        v.addWidget(self.button)
        centred(self, card)
        self.username.setFocus()

    def submit(self) -> None:
        self.errors.clear()
        username = self.username.text().strip()
        if not username:
            self.errors.show_one("username", "type your username")
            return
        if not self.acknowledge.isChecked():
            self.errors.show_one("acknowledge", "acknowledge the use banner to sign in")
            return
        self.button.setEnabled(False)
        self.button.setText("Signing in…")
        self.tasks.net(sign_in, self.data_dir, username, self.password.text(),
                       self.server.text().strip(), True).success(self._done).failure(
            self._failed).run()

    def _done(self, session) -> None:
        self.password.clear()
        self.tasks.close()
        self.signed_in.emit(session)

    def _failed(self, error: BaseException) -> None:
        self.button.setEnabled(True)
        self.button.setText("Sign in")
        self.password.clear()
        if isinstance(error, WrongPassword):
            self.errors.show_one("password", "wrong password")
        elif isinstance(error, signin.AccountLocked):
            self.errors.message(str(error))
        elif isinstance(error, (KeyMissing, NoCache)):
            self.errors.show_one("server", f"No copy of {self.username.text().strip()}'s data "
                                           "on this laptop: enter the agency server to sign in "
                                           "online first.")
        else:
            self.errors.handle(error)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._prepared:
            self._prepared = True
            QTimer.singleShot(0, self, self._prepare)  # after the first paint is queued

    def _prepare(self) -> None:
        if self.isVisible():
            self.tasks.db(prepare).success(lambda _: self.prepared.emit()).failure(
                self.errors.handle).run()

    def closeEvent(self, event) -> None:
        self.tasks.close()
        super().closeEvent(event)
