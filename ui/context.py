"""What every screen shares: the workers, who is signed in, the current shift, and the one
change signal."""

from typing import Callable

from fieldapp.session import Profile

from .qt import QEvent, QObject, QWidget, Signal
from .tasks import Tasks

DIRECTORY = "directory"  # in a change's tables when the resource directory changed
TIME_ZONE = "time_zone"  # the agency's time zone changed: every screen that shows a time redraws


class Context(QObject):
    """Passed to each screen. `changed` carries the set of tables a job wrote, whichever job it
    was: a save on this laptop or a sync that pulled, withdrew or repaired records (Anki's
    `operation_did_execute`). Screens redraw from it through `watch`, and never poll.
    `shift_changed` carries the active shift (or None)."""

    changed = Signal(object)  # frozenset[str]: table names, or DIRECTORY
    shift_changed = Signal(object)

    def __init__(self, tasks: Tasks, profile: Profile):
        super().__init__()
        self.tasks = tasks
        self.profile = profile
        self.shift: dict | None = None

    def set_shift(self, shift: dict | None) -> None:
        self.shift = shift
        self.shift_changed.emit(shift)

    @property
    def shift_id(self) -> str | None:
        return self.shift["id"] if self.shift else None

    @property
    def unit(self) -> str | None:
        return self.shift["unit"] if self.shift else None

    def watch(self, screen: QWidget, tables: set[str], refresh: Callable[[], None]) -> None:
        """Call `refresh` when a change touches `tables`: at once while `screen` is visible,
        else the next time it is shown (behind the lock, on another page). `refresh` keeps
        the screen's selection."""
        _Watch(self, screen, frozenset(tables), refresh)

    def fresh(self, screen: QWidget) -> None:
        """`screen` is being refreshed by its caller: what it missed while hidden is in it."""
        for watch in screen.findChildren(_Watch):
            watch.stale = False


class _Watch(QObject):
    def __init__(self, ctx: Context, screen: QWidget, tables: frozenset[str],
                 refresh: Callable[[], None]):
        super().__init__(screen)
        self.screen, self.tables, self.refresh = screen, tables, refresh
        self.stale = False
        ctx.changed.connect(self._changed)
        screen.installEventFilter(self)

    def _changed(self, tables: frozenset[str]) -> None:
        if not tables & self.tables and TIME_ZONE not in tables:
            return
        if self.screen.isVisible():
            self.refresh()
        else:
            self.stale = True

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Show and self.stale:
            self.stale = False
            self.refresh()
        return False
