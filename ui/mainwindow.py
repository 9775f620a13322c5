"""The main window: who is signed in, the screens (role-aware home), the status bar, shortcuts,
and leaving (sign out, or closing the window: ui/signout.py)."""

import gc
import importlib

from fieldapp import agency, cache_rebuild, settings, shifts
from fieldapp.errors import TandemError
from fieldapp.session import Session

from . import errors, timefmt
from .context import TIME_ZONE, Context
from .help import HelpOverlay
from .lock import LOCK_KEYS, SessionLock
from .qt import (QFrame, QHBoxLayout, QIcon, QLabel, QMainWindow, QMessageBox, QScrollArea,
                 QStackedWidget, Qt, QTimer, QVBoxLayout, QWidget, Signal)
from .signout import Leave, LeavingPage
from .syncstatus import SyncStatusBar
from .tasks import Tasks
from .theme import Theme
from .widgets import ElidedLabel, button, shortcut, vertical_scroll

TEAM = {"officer", "clinician", "supervisor", "clinical_supervisor", "admin"}
EVERYONE = TEAM | {"peer"}
SUPERVISORS = {"supervisor", "clinical_supervisor", "admin"}

# Every screen once, with its one key (Picard's action registry): a key means the same screen
# whoever is signed in; a screen a role does not see simply has no key for them. Listed in
# the navigation in this order. The views are imported when first shown, to start fast.
SCREENS = (
    ("review", "Review", SUPERVISORS, "Ctrl+0"),
    ("dashboard", "Dashboard", SUPERVISORS, "Ctrl+Shift+D"),
    ("shift", "Shift", EVERYONE, "Ctrl+1"),
    ("assignments", "Assignments", TEAM, "Ctrl+2"),
    ("encounter", "Encounter", TEAM, "Ctrl+3"),
    ("encounters", "Encounter list", TEAM, "Ctrl+Shift+R"),
    ("crc", "CRC drop-off", TEAM, "Ctrl+4"),
    ("outreach", "Outreach", EVERYONE, "Ctrl+5"),
    ("followups", "Follow-ups", EVERYONE, "Ctrl+6"),
    ("referrals", "Referrals", EVERYONE, "Ctrl+7"),
    ("resources", "Resources", EVERYONE, "Ctrl+8"),
    ("conflicts", "Conflicts", EVERYONE, "Ctrl+9"),
    ("releases", "Releases", {"clinician", "clinical_supervisor"}, "Ctrl+Shift+I"),
)
PAGE_CHECK_DELAY_MS = 10_000  # the cache's pages are checked once the crew is at work
NOTICE_SECONDS = 20  # closing with changes left: the notice shows this long at most

HOME = {"officer": "shift", "clinician": "shift", "peer": "outreach",
        "supervisor": "review", "clinical_supervisor": "review", "admin": "review"}


VIEW_CLASSES = {
    "review": ("review", "ReviewView"), "dashboard": ("dashboard", "DashboardView"),
    "shift": ("shift", "ShiftView"),
    "assignments": ("assignments", "AssignmentsView"), "encounter": ("encounter", "EncounterView"),
    "encounters": ("encounters", "EncountersView"), "releases": ("releases", "ReleasesView"),
    "crc": ("crc", "CrcView"), "outreach": ("outreach", "OutreachView"),
    "followups": ("followups", "FollowUpsView"), "referrals": ("referrals", "ReferralsView"),
    "resources": ("resources", "ResourcesView"),
    "conflicts": ("conflicts", "ConflictsView"),
}


def _theme_setting(session) -> str:
    return settings.get(session.db, "theme")


def _agency_zone(session) -> str:
    return agency.get(session.db, "time_zone")


def view_class(key: str):
    """The screen class for `key`, imported on first use."""
    module, name = VIEW_CLASSES[key]
    return getattr(importlib.import_module(f"ui.{module}"), name)


class MainWindow(QMainWindow):
    """Built in two steps so the app can make the frame while the password's key is derived:
    `MainWindow(None, theme)` makes what every role's window has (header, screen stack, status
    bar), hidden and holding nothing of anyone; `open(session)` then fills in who is signed in,
    their role's navigation and home screen, the workers and the lock. `MainWindow(session,
    theme)` does both at once.

    Signing out and closing the window both leave the session (ui/signout.py): `signed_out`
    then carries what the user must be told (empty when nothing stayed behind), and `left` is
    True; only then does the window really close."""

    signed_out = Signal(str)
    closed = Signal(str)  # the window closed after leaving; what the user was told

    def __init__(self, session: Session | None, theme: Theme, *, auto_sync_seconds: int = 120):
        super().__init__()
        self.setWindowTitle("Tandem")
        try:
            from resources import path
            self.setWindowIcon(QIcon(str(path("icons/tandem.svg"))))
        except FileNotFoundError:  # pragma: no cover - shipped with the app
            pass
        self.theme = theme
        self.auto_sync_seconds = auto_sync_seconds
        self.profile = None
        self.session: Session | None = None
        self.leaving: Leave | None = None
        self.left = False
        self.notice = ""  # what leaving told the user
        self.views: dict[str, QWidget] = {}
        self.scrolls: dict[str, QWidget] = {}  # each view in the area it scrolls in
        self.nav_buttons = {}
        self.stack = QStackedWidget()

        content = QWidget()
        outer = QVBoxLayout(content)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(self._header())
        body = QHBoxLayout()
        body.setSpacing(0)
        body.addWidget(self._nav())
        body.addWidget(self.stack, 1)
        outer.addLayout(body, 1)
        self.pages = QStackedWidget()  # the content, and the lock screen over it once opened
        self.pages.setObjectName("lockPages")
        self.pages.addWidget(content)
        self.leaving_page = LeavingPage()
        self.leaving_page.close_button.clicked.connect(self.close)
        self.pages.addWidget(self.leaving_page)
        self.setCentralWidget(self.pages)
        self.status = SyncStatusBar()
        self.status.conflicts_clicked.connect(lambda: self.show_screen("conflicts"))
        self.setStatusBar(self.status)
        self.resize(1366, 768)
        self.ensurePolished()
        if session is not None:
            self.open(session)

    def open(self, session: Session) -> None:
        """Fill the frame in for the signed-in user and start the workers. `session` is used
        for its key only: the workers open their own connections."""
        self.profile, self.session = session.profile, session
        self.tasks = Tasks(session, lambda e: errors.show(e, self), self._changes)
        self.ctx = Context(self.tasks, self.profile)
        self.screens = [s for s in SCREENS if self.profile.role in s[2]]
        who = (f"{self.profile.display_name or self.profile.username}"
               f"  ({self.profile.username}) · team {self.profile.team}")
        self.user_label.setText(who)
        self.role_label.setText(self.profile.role.upper())
        self._nav_buttons()
        self.status.start(self.ctx, self.auto_sync_seconds)
        self.status.revoked.connect(lambda notice: self._leave(closing=False, wiped=notice))

        shortcut(self, "Help: keyboard shortcuts", "F1", self.show_help)
        shortcut(self, "Settings: agency server, theme, lock", "Ctrl+,", self.show_settings)
        shortcut(self, "Sync now", "F5", self.status.sync_now)
        shortcut(self, "Switch day / night theme", "Ctrl+Shift+N", self.theme.toggle)
        self.tasks.db(shifts.active_shift).success(self.ctx.set_shift).run()
        self.tasks.db(_theme_setting).success(self._apply_theme).run()
        self.tasks.db(_agency_zone).success(self._set_zone).run()
        self.theme.chosen.connect(self._save_theme)
        # The home screen is built before the lock's app-wide event filter is installed: every
        # event the filter sees wraps its object in Python, and PySide then sets up that
        # object's type, enums included; building under the filter took ~50 ms longer.
        self.show_screen(HOME[self.profile.role])
        self.session_lock = SessionLock(self, self.pages, session, self.ctx)
        shortcut(self, "Lock the screen", LOCK_KEYS, self.session_lock.lock_now)
        # What is alive once the window is up (modules, classes, Qt wrappers) lives as long as
        # the app: keep it out of every full garbage-collection pass, which stops all threads.
        QTimer.singleShot(0, gc.freeze)
        if session.damage_notice:  # the cache was damaged, and rebuilt or begun anew
            QTimer.singleShot(0, lambda: self._say_damage(session.damage_notice, "cacheRebuilt"))
        QTimer.singleShot(PAGE_CHECK_DELAY_MS, self, self._check_pages)

    def _check_pages(self) -> None:
        """Every page of the cache checked, on the network worker (fieldapp/cache_rebuild.py)."""
        if self.left or self.tasks.closed:
            return
        self.tasks.net(cache_rebuild.check_pages).success(
            lambda said: said and self._say_damage(said, "cacheDamaged")).run()

    def _say_damage(self, notice: str, name: str) -> None:
        """Told once, over the window, without holding it up (a sync runs meanwhile)."""
        box = QMessageBox(QMessageBox.Icon.Warning, "Tandem: this laptop's copy of your records",
                          notice, QMessageBox.StandardButton.Ok, self)
        box.setObjectName(name)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def _header(self) -> QFrame:
        header = QFrame()
        header.setObjectName("header")
        name = QLabel("Tandem")
        name.setObjectName("appName")
        who = ElidedLabel()  # on a narrow screen the name gives way, never the buttons
        who.setObjectName("userBadge")
        who.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        role = QLabel()
        role.setObjectName("roleBadge")
        self.user_label, self.role_label = who, role
        self.theme_button = button("", self.theme.toggle, name="themeButton")
        self.theme_button.setToolTip("Switch day / night (Ctrl+Shift+N)")
        self._theme_text(self.theme.name)
        self.theme.changed.connect(self._theme_text)
        help_button = button("Help (F1)", self.show_help, name="helpButton")
        settings_button = button("⚙", self.show_settings, name="settingsButton")
        settings_button.setToolTip("Settings: agency server, theme, lock (Ctrl+,)")
        settings_button.setAccessibleName("Settings")
        for b in (self.theme_button, help_button, settings_button):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        h = QHBoxLayout(header)
        h.setContentsMargins(8, 4, 8, 4)
        h.addWidget(name)
        h.addWidget(who, 1)
        h.addWidget(role)
        h.addSpacing(16)
        h.addWidget(self.theme_button)
        h.addWidget(settings_button)
        h.addWidget(help_button)
        return header

    def _changes(self, tables: frozenset[str]) -> None:
        """A job wrote `tables`: every screen hears it; a new agency setting may move the zone."""
        self.ctx.changed.emit(tables)
        if "agency_setting" in tables:
            self.tasks.db(_agency_zone).success(self._set_zone).run()

    def _set_zone(self, name: str) -> None:
        if timefmt.set_zone(name):
            self.ctx.changed.emit(frozenset({TIME_ZONE}))

    def _apply_theme(self, choice: str) -> None:
        if choice != self.theme.choice:
            self.theme.choose(choice)

    def _save_theme(self, choice: str) -> None:
        if self.leaving is None and not self.left:
            self.tasks.db(lambda s: settings.put(s.db, "theme", choice)).run()

    def _theme_text(self, name: str) -> None:
        self.theme_button.setText("☾ Night" if name == "day" else "☀ Day")

    def _nav(self) -> QScrollArea:
        """The navigation, which scrolls (by the wheel, or to the screen shown) when the window
        is shorter than its buttons: a supervisor's thirteen screens on a 768-px screen under
        a panel and a title bar. It never makes the window taller than the screen."""
        nav = QFrame()
        nav.setObjectName("nav")
        self.nav_layout = QVBoxLayout(nav)
        self.nav_layout.setContentsMargins(0, 8, 0, 8)
        self.nav_layout.setSpacing(2)
        self.nav_layout.addStretch(1)
        self.nav_scroll = vertical_scroll(nav)
        self.nav_scroll.setObjectName("navScroll")
        self.nav_scroll.setFixedWidth(180)
        # no bar, which would cover the names
        self.nav_scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        return self.nav_scroll

    def _nav_buttons(self) -> None:
        """The role's screens, above the navigation's closing stretch."""
        for n, (key, title, _roles, keys) in enumerate(self.screens):
            b = button(f"{title}", lambda _=False, k=key: self.show_screen(k), name=f"nav_{key}",
                       checkable=True)
            b.setProperty("nav", True)
            b.setToolTip(keys)
            b.setAutoExclusive(True)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # focus stays in the screen, for its shortcuts
            self.nav_buttons[key] = b
            self.nav_layout.insertWidget(n, b)
            shortcut(self, f"Go to {title}", keys, lambda _=False, k=key: self.show_screen(k))

    def view(self, key: str) -> QWidget:
        """The screen for `key`, made the first time it is needed."""
        if key not in self.views:
            view = view_class(key)(self.ctx)
            self.views[key] = view
            # A screen taller than the window (its messages showing on a 768-px screen) scrolls
            # on its own; it never pushes the window, or the sync bar, past the screen's edge.
            self.scrolls[key] = vertical_scroll(view)
            self.stack.addWidget(self.scrolls[key])
        return self.views[key]

    def show_screen(self, key: str) -> QWidget:
        if key not in self.nav_buttons:
            raise KeyError(f"{key!r} is not a screen for a {self.profile.role}")
        created = key not in self.views
        view = self.view(key)
        if not created:
            self.ctx.fresh(view)  # refreshed here, not again as it shows
            view.refresh()  # ages and due dates move on with the clock
        self.stack.setCurrentWidget(self.scrolls[key])
        self.nav_buttons[key].setChecked(True)
        self.nav_scroll.ensureWidgetVisible(self.nav_buttons[key], 0, 0)
        view.setFocus(Qt.FocusReason.OtherFocusReason)
        return view

    @property
    def current_key(self) -> str:
        current = self.stack.currentWidget()
        return next(k for k, area in self.scrolls.items() if area is current)

    @property
    def current_view(self) -> QWidget:
        return self.views[self.current_key]

    def show_help(self) -> HelpOverlay:
        groups = [("Everywhere", self)]
        groups += [(title, self.view(key)) for key, title, *_ in self.screens]
        overlay = HelpOverlay(groups, self)
        overlay.open()
        self.help_overlay = overlay
        return overlay

    def show_settings(self):
        from .settings import SettingsDialog
        dialog = SettingsDialog(self.ctx, self.theme, self.session_lock, self.status, self)
        dialog.sign_out_button.clicked.connect(self.sign_out)
        self.settings_dialog = dialog
        dialog.open()
        return dialog

    def show_page(self, page: QWidget) -> None:
        """Cover the screens with `page` (leaving): no record stays on screen."""
        for dialog in self.findChildren(QWidget):
            if dialog.isWindow() and dialog.isVisible():
                dialog.close()
        for action in self.actions():
            action.setEnabled(False)
        self.statusBar().hide()
        self.pages.setCurrentWidget(page)

    def sign_out(self) -> None:
        """Leave the session; `signed_out` fires when it is over (the sign-in screen is next)."""
        self._leave(closing=False)

    def _leave(self, closing: bool, wiped: str = "") -> None:
        if self.leaving is not None or self.left:
            return
        unsaved = [v.draft_problem for v in self.views.values() if getattr(v, "draft_problem", "")]
        if unsaved and not wiped:  # leaving would drop what is typed: stay, and say why
            errors.show(TandemError(
                f"Not {'closed' if closing else 'signed out'}: the encounter being typed is not "
                f"saved. {unsaved[0]} Its draft saves by itself once there is room; then "
                f"{'close' if closing else 'sign out'} again."), self)
            return
        self.leaving = Leave(self, closing, wiped)
        self.leaving.done.connect(lambda notice: self._after_leaving(notice, closing))
        self.leaving.start()

    def _after_leaving(self, notice: str, closing: bool) -> None:
        self.left, self.notice = True, notice
        if not closing:
            self.signed_out.emit(notice)
        elif notice:  # said on this page; the window closes when read, or by itself
            self.leaving_page.finished(notice)
            self.leaving_page.close_button.show()
            self.leaving_page.close_button.setFocus()
            QTimer.singleShot(NOTICE_SECONDS * 1000, self, self.close)
        else:
            self.close()

    def closeEvent(self, event) -> None:
        """Closing the window leaves the session first (a frame never opened just closes)."""
        if self.session is None or self.left:
            super().closeEvent(event)
            if self.session is not None:
                self.closed.emit(self.notice)
            return
        event.ignore()
        self._leave(closing=True)
