"""Settings (Ctrl+,): the agency server's address, the theme, the minutes before the lock,
the user's password; and signing out, to switch user (also on the lock screen).

The address is saved only after the server at it answered as a Tandem agency server and
accepted this laptop's sign-in (sync.online.change_server, on the network worker); if the
check fails, the message says why in words a crew can act on (sync.failures) and the old
address stays. The theme applies at once; both it and the lock minutes are this user's
settings on this laptop (fieldapp.settings). A new password is taken by the agency server
first (its rules, the current password, the authenticator's code), then this laptop reseals
its key under it, on the network worker (sync.online.change_password); offline it is
refused and nothing changes.
"""

from fieldapp import changes, lock, settings

from . import timefmt
from .context import Context
from .qt import (QButtonGroup, QDialog, QDialogButtonBox, QFormLayout, QGroupBox, QHBoxLayout,
                 QLabel, QLineEdit, QSpinBox, Qt, QVBoxLayout, QWidget)
from .widgets import (FieldErrors, WrappedLabel, button, fit_dialog, fit_height, heading, refit,
                      scrolling_body)

THEME_WORDS = {"system": "Follow the system", "day": "Day", "night": "Night"}
LOCK = settings.SETTINGS[lock.IDLE_SETTING]


def current(session) -> dict:
    return {"server": changes.sync_status(session)["server"] or "",
            "lock_minutes": lock.idle_minutes(session)}


def change_server(session, url: str) -> str:
    """On the network worker (requests loads here, as for a sync)."""
    from sync import online
    return online.change_server(session, url)


def change_password(session, current: str, new: str, code: str) -> None:
    """On the network worker."""
    from sync import online
    online.change_password(session, current, new, code=code or None)


def password_problem(error: BaseException) -> tuple[str, str] | None:
    """(the field, what to tell the user) for a refused change, or None for a bug."""
    from fieldapp.errors import WrongPassword
    from sync import online, transport
    if isinstance(error, WrongPassword):
        return "current_password", "That is not your current password."
    if isinstance(error, online.Offline):
        return "new_password", str(error).capitalize() + "."
    if isinstance(error, transport.SyncFailed):
        said = str(error).split(" ", 3)[-1]  # after "POST /password: 400"
        field = {"wrong_password": "current_password", "second_factor_required": "code",
                 "second_factor_wrong": "code"}.get(error.code, "new_password")
        return field, said[:1].upper() + said[1:]
    return None


def server_problem(error: BaseException, url: str) -> str | None:
    """The check's failure in plain words, or None when it is not about the server (a bug)."""
    from fieldapp.errors import TandemError
    from sync import failures
    failure = failures.classify(error, url)
    if failure is not None:
        return f"Not saved: {failure.text}"
    if isinstance(error, TandemError):
        return f"Not saved: {error}"
    return None


def _said(name: str) -> QLabel:
    """A line under a setting saying what became of it (hidden while it has nothing to say)."""
    label = WrappedLabel()
    label.setObjectName(name)
    label.hide()
    return label


def _secret(name: str) -> QLineEdit:
    field = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
    field.setObjectName(name)
    return field


def _say(label: QLabel, text: str) -> None:
    label.setText(text)
    label.setVisible(bool(text))
    refit(label)


class SettingsDialog(QDialog):
    def __init__(self, ctx: Context, theme, session_lock, status, parent):
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle("Settings")
        self.ctx, self.theme, self.session_lock, self.status = ctx, theme, session_lock, status
        self.errors = FieldErrors()

        self.server = QLineEdit(placeholderText="https://tandem.your-agency.gov")
        self.server.setObjectName("serverAddress")
        self.check_button = button("Check and save", self.save_server, name="checkServer")
        self.server.returnPressed.connect(self.check_button.click)
        self.server_said = _said("serverSaid")
        row = QHBoxLayout()
        row.addWidget(self.server, 1)
        row.addWidget(self.check_button)
        server_box = QGroupBox("Agency server")
        v = QVBoxLayout(server_box)
        v.addLayout(row)
        v.addWidget(self.errors.label("server"))
        v.addWidget(self.server_said)

        self.themes = QButtonGroup(self)
        theme_row = QHBoxLayout()
        for choice, words in THEME_WORDS.items():
            b = button(words, name=f"theme_{choice}", checkable=True)
            b.setProperty("toggle", True)
            b.setProperty("value", choice)
            b.setChecked(choice == theme.choice)
            self.themes.addButton(b)
            theme_row.addWidget(b)
        self.themes.buttonClicked.connect(lambda b: self.theme.choose(b.property("value")))
        theme_box = QGroupBox("Theme")
        QVBoxLayout(theme_box).addLayout(theme_row)

        self.lock_minutes = QSpinBox()
        self.lock_minutes.setObjectName("lockMinutes")
        self.lock_minutes.setRange(LOCK.minimum, LOCK.maximum)
        self.lock_minutes.setSuffix(" min")
        self.lock_minutes.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.lock_button = button("Save", self.save_lock, name="saveLock")
        self.lock_said = _said("lockSaid")
        lock_row = QHBoxLayout()
        lock_row.addWidget(QLabel("Lock after"))
        lock_row.addWidget(self.lock_minutes)
        lock_row.addWidget(QLabel(f"without input ({LOCK.minimum}–{LOCK.maximum})"), 1)
        lock_row.addWidget(self.lock_button)
        lock_box = QGroupBox("Lock")
        v = QVBoxLayout(lock_box)
        v.addLayout(lock_row)
        v.addWidget(self.errors.label(lock.IDLE_SETTING))
        v.addWidget(self.lock_said)

        self.current_password = _secret("currentPassword")
        self.new_password = _secret("newPassword")
        self.repeat_password = _secret("repeatPassword")
        self.code = QLineEdit(placeholderText="only if you use an authenticator app")
        self.code.setObjectName("passwordCode")
        self.password_button = button("Change password", self.save_password,
                                      name="changePassword")
        self.password_said = _said("passwordSaid")
        password_box = QGroupBox("Password")
        form = QFormLayout(password_box)
        for label, widget, key in (("Current", self.current_password, "current_password"),
                                   ("New", self.new_password, "new_password"),
                                   ("New, again", self.repeat_password, "repeat_password"),
                                   ("Code", self.code, "code")):
            form.addRow(label, widget)
            form.addRow("", self.errors.label(key))
        form.addRow("", self.password_button)
        form.addRow(self.password_said)

        self.zone = WrappedLabel(f"Times are shown on the agency's clock: {timefmt.zone().key} "
                                 "(set on the agency server, for every laptop).")
        self.zone.setObjectName("agencyZone")

        self.sign_out_button = button("Sign out (switch user)", name="settingsSignOut")
        self.sign_out_button.setToolTip("Your changes are sent to the agency server first")
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        bottom = QHBoxLayout()
        bottom.addWidget(self.sign_out_button)
        bottom.addStretch(1)
        bottom.addWidget(close)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addWidget(heading("Settings"))
        layout.addWidget(self.errors.general)
        layout.addWidget(server_box)
        layout.addWidget(theme_box)
        layout.addWidget(lock_box)
        layout.addWidget(password_box)
        layout.addWidget(self.zone)
        scrolling_body(self, body, bottom)
        self.setMinimumWidth(640)
        fit_dialog(self, 640, 0)
        fit_height(self)
        ctx.tasks.db(current).success(self._show).run()

    def _show(self, values: dict) -> None:
        self.server.setText(values["server"])
        self.lock_minutes.setValue(values["lock_minutes"])

    # -- the agency server
    def save_server(self) -> None:
        url = self.server.text().strip()
        self.errors.clear()
        _say(self.server_said, "")
        if not url:
            self.errors.show_one("server", "Type the agency server's address, "
                                           "e.g. https://tandem.your-agency.gov")
            return
        self.check_button.setEnabled(False)
        self.check_button.setText("Checking…")
        _say(self.server_said, f"Contacting {url}…")
        self.ctx.tasks.net(change_server, url).success(self._server_saved).failure(
            lambda e: self._server_refused(e, url)).run()

    def _server_saved(self, url: str) -> None:
        self._checked()
        self.server.setText(url)
        _say(self.server_said, f"Saved. {url} answered and accepts this laptop's sign-in; "
                               "syncing now.")
        self.status.server_changed()

    def _server_refused(self, error: BaseException, url: str) -> None:
        self._checked()
        _say(self.server_said, "")
        problem = server_problem(error, url)
        if problem is None:
            self.errors.handle(error)
        else:
            self.errors.show_one("server", problem)

    def _checked(self) -> None:
        self.check_button.setEnabled(True)
        self.check_button.setText("Check and save")

    # -- the lock
    def save_lock(self) -> None:
        minutes = self.lock_minutes.value()
        self.errors.clear()
        self.ctx.tasks.db(lock.set_idle_minutes, minutes).success(
            lambda _: self._lock_saved(minutes)).failure(self.errors.handle).run()

    def _lock_saved(self, minutes: int) -> None:
        self.session_lock.set_idle_minutes(minutes)
        _say(self.lock_said, f"Saved: Tandem locks after {minutes} min without input.")

    # -- the password
    def save_password(self) -> None:
        current, new = self.current_password.text(), self.new_password.text()
        self.errors.clear()
        _say(self.password_said, "")
        if not current:
            self.errors.show_one("current_password", "Type your current password.")
            return
        if new != self.repeat_password.text():
            self.errors.show_one("repeat_password", "The two new passwords differ.")
            return
        if not new:
            self.errors.show_one("new_password", "Type a new password.")
            return
        self.password_button.setEnabled(False)
        _say(self.password_said, "Asking the agency server…")
        self.ctx.tasks.net(change_password, current, new, self.code.text().strip()).success(
            self._password_changed).failure(self._password_refused).run()

    def _password_changed(self, _none) -> None:
        self.password_button.setEnabled(True)
        for field in (self.current_password, self.new_password, self.repeat_password,
                      self.code):
            field.clear()
        _say(self.password_said, "Changed. Use the new password from now on, on every "
                                 "laptop; your other laptops ask you to sign in online.")

    def _password_refused(self, error: BaseException) -> None:
        self.password_button.setEnabled(True)
        _say(self.password_said, "")
        problem = password_problem(error)
        if problem is None:
            self.errors.handle(error)
        else:
            self.errors.show_one(*problem)
