"""Sign-in: the use banner, username and password; offline for a user with a cache here, online
(first sign-in on this laptop) through sync.online.login when a server is given, and online to
the cache's own server once the agency's offline window is over. Online, the code from the
user's authenticator app goes with the password; a user with none sets one up here
(ui/two_factor.py) when the agency requires it.

The key derivation (~0.3 s) and any network call run on a worker, never on the UI thread.
The window needs none of the cache's stack to show: that, and the main window, are imported on
the DB worker once it is up (`prepare`), while the user types; `prepared` then tells the app to
build the main window's frame (ui.app), so signing in only fills it in.
"""

from pathlib import Path

from fieldapp import reauth, signin
from fieldapp.errors import KeyMissing, NoCache, TandemError, WrongPassword

from .qt import (QCheckBox, QFormLayout, QFrame, QLineEdit, Qt, QTimer, QVBoxLayout,
                 QWidget, Signal)
from .tasks import Tasks
from .widgets import (FieldErrors, WrappedLabel, button, centred, heading, set_state,
                      vertical_scroll)


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


class ServerUnreachable(TandemError):
    """An online sign-in could not reach the agency server; the message says why and what to do."""


def sign_in(_no_session, data_dir: Path, username: str, password: str, server: str,
            acknowledged: bool, code: str = "", recovery_codes: list | None = None):
    """On the network worker: online when a server is given, else offline; offline past the
    agency's window since the last online sign-in, online to this cache's server (with the
    authenticator `code`). A just-finished enrolment's codes go into `recovery_codes`.
    The session is closed in this thread; the app's workers reopen it in theirs."""
    if server:
        if not acknowledged:
            raise TandemError("acknowledge the use banner before signing in")
        session = _online(data_dir, server, username, password, code, recovery_codes)
    else:
        try:
            session = signin.sign_in(data_dir, username, password,
                                     banner_acknowledged=acknowledged)
        except WrongPassword:
            if not signin.recoverable(data_dir, username):
                raise
            session = _recover(data_dir, username, password, code, recovery_codes)
        except reauth.OnlineSignInRequired as why:
            import requests
            try:
                session = _online(data_dir, None, username, password, code, recovery_codes)
            except requests.RequestException:
                raise reauth.OnlineSignInRequired(
                    f"{why} (the agency server cannot be reached now)") from None
    session.close()
    return session


ACKNOWLEDGE = "Tick the box above to accept the terms of use, then sign in."


def _recover(data_dir: Path, username: str, password: str, code: str,
             recovery_codes: list | None):
    """The password does not open this copy, but the agency server can (its password was
    reset, or changed on another laptop): sign in online, which opens and reseals it. The
    wrong password was already counted, so the server's refusal is not counted again."""
    import requests
    try:
        return _online(data_dir, None, username, password, code, recovery_codes, counted=True)
    except requests.RequestException:
        raise WrongPassword("wrong password, or a new one this laptop learns only from the "
                            "agency server, which it cannot reach now") from None


def _online(data_dir: Path, server: str | None, username: str, password: str, code: str,
            recovery_codes: list | None, counted: bool = False):
    import requests

    from sync import failures, online, transport  # only an online sign-in needs them
    try:
        session = online.login(data_dir, server, username, password, code=code or None,
                               on_recovery_codes=None if recovery_codes is None
                               else recovery_codes.extend)
    except (WrongPassword, transport.SyncFailed) as e:
        if counted:
            raise
        if isinstance(e, WrongPassword) or e.code in ("unauthorized", "second_factor_wrong"):
            signin.record_failure(data_dir, username)  # counted and audited like offline
        raise
    except requests.RequestException as e:
        if server is None:  # the caller says offline sign-in needs the server now
            raise
        failure = failures.classify(e, server)
        raise ServerUnreachable(failure.text if failure else str(e)) from e
    signin.clear_lock_after_online_sign_in(session)
    return session


def start_enrolment(_no_session, data_dir: Path, username: str, password: str, server: str):
    """On the network worker: a new authenticator secret from the server (this cache's
    server when none is typed): {secret, uri}."""
    from sync import online
    return online.start_enrolment(server or online.server_of(data_dir, username, password),
                                  username, password)


class SignInView(QWidget):
    """Emits `signed_in(session)`; that session's connection is closed, only reopened by workers.
    `notice`: what the last sign-out left to say (changes that stayed on this laptop)."""

    signed_in = Signal(object)
    prepared = Signal()  # what signing in and the main window need is imported

    def __init__(self, data_dir: Path, notice: str = ""):
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
        self.code = QLineEdit(placeholderText="from your authenticator app, when signing in "
                                              "online")
        self.code.setObjectName("code")
        self.code.returnPressed.connect(self.submit)
        self._recovery_codes: list[str] = []
        banner = WrappedLabel(signin.USE_BANNER)
        self.acknowledge = QCheckBox("I acknowledge the terms above")
        self.acknowledge.setObjectName("acknowledge")
        self.button = button("Sign in", self.submit, name="signIn", primary=True)
        self.password.returnPressed.connect(self.submit)
        self.server.returnPressed.connect(self.submit)
        self.username.returnPressed.connect(self.password.setFocus)
        self.notice = WrappedLabel(notice)
        self.notice.setObjectName("signOutNotice")
        self.notice.setVisible(bool(notice))
        set_state(self.notice, "attention", True)

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
        form.addRow("Code", self.code)
        form.addRow("", self.errors.label("code"))
        v = QVBoxLayout(card)
        v.addWidget(heading("Sign in to Tandem"))
        v.addWidget(self.notice)
        v.addWidget(banner)
        v.addWidget(self.acknowledge)
        v.addWidget(self.errors.label("acknowledge"))
        v.addLayout(form)
        v.addWidget(self.errors.general)
        v.addWidget(self.button)
        page = QWidget()  # scrolls when a notice and errors make the card taller than the screen
        centred(page, card)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(vertical_scroll(page))
        self.username.setFocus()

    def submit(self) -> None:
        self.errors.clear()
        username = self.username.text().strip()
        if not username:
            self.errors.show_one("username", "type your username")
            return
        if not self.acknowledge.isChecked():
            self.errors.show_one("acknowledge", ACKNOWLEDGE)
            return
        self.button.setEnabled(False)
        self.button.setText("Signing in…")
        self._recovery_codes = []
        self.tasks.net(sign_in, self.data_dir, username, self.password.text(),
                       self.server.text().strip(), True, self.code.text().strip(),
                       self._recovery_codes).success(self._done).failure(self._failed).run()

    def _done(self, session) -> None:
        self.password.clear()
        self.code.clear()
        if self._recovery_codes:
            from .two_factor import RecoveryCodesDialog
            RecoveryCodesDialog(self, self._recovery_codes).exec()
        self.tasks.close()
        self.signed_in.emit(session)

    def _failed(self, error: BaseException) -> None:
        self.button.setEnabled(True)
        self.button.setText("Sign in")
        self.code.clear()
        asks = getattr(error, "code", None)
        if asks in ("second_factor_required", "second_factor_wrong", "enrolment_required"):
            if asks == "enrolment_required":  # the password was right: keep it for the setup
                self._enrol()
                return
            self.errors.show_one("code", "type the 6-digit code from your authenticator app "
                                         "(or a recovery code)" if asks == "second_factor_required"
                                 else "that code is wrong or was already used; type the next "
                                      "one your app shows")
            self.code.setFocus()
            return
        self.password.clear()
        if isinstance(error, reauth.OnlineSignInRequired):
            self.errors.message(str(error))
            self.code.setFocus()
        elif isinstance(error, WrongPassword):
            self.errors.show_one("password", "wrong password" if str(error).startswith(
                "the password does not match") else str(error))
        elif getattr(error, "code", None) == "unauthorized":  # the server's answer to a login
            self.errors.show_one("password", "The agency server did not accept this username "
                                             "and password.")
        elif isinstance(error, signin.AccountLocked):
            self.errors.message(str(error))
        elif isinstance(error, (KeyMissing, NoCache)):
            self.errors.show_one("server", f"No copy of {self.username.text().strip()}'s data "
                                           "on this laptop: enter the agency server to sign in "
                                           "online first.")
        elif isinstance(error, ServerUnreachable):
            self.errors.show_one("server", str(error))
        else:
            self.errors.handle(error)

    def _enrol(self) -> None:
        """The agency requires a second factor and this user has none: show the QR code, then
        sign in with the app's first code."""
        self.errors.message("Setting up your authenticator app…")
        self.tasks.net(start_enrolment, self.data_dir, self.username.text().strip(),
                       self.password.text(), self.server.text().strip()).success(
            self._show_enrolment).failure(self._failed).run()

    def _show_enrolment(self, started: dict) -> None:
        from .two_factor import EnrolDialog
        self.errors.clear()
        dialog = EnrolDialog(self, started["uri"], started["secret"])
        if dialog.exec() == EnrolDialog.DialogCode.Accepted:
            self.code.setText(dialog.code())
            self.submit()
        else:
            self.password.clear()

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
