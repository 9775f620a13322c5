"""What every screen shares: the workers, who is signed in, the current shift, and change news."""

from fieldapp.session import Profile

from .qt import QObject, Signal
from .tasks import Tasks


class Context(QObject):
    """Passed to each screen. `changed` names a table after a local write, so lists and the
    status bar refresh; `shift_changed` carries the active shift (or None)."""

    changed = Signal(str)
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
