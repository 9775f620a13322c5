"""Day and night themes: follow the system color scheme until the user chooses (one shortcut,
or Settings); the choice is the user's `theme` setting."""

from resources import stylesheet

from .qt import QApplication, QObject, Qt, Signal

THEMES = ("day", "night")
CHOICES = ("system", *THEMES)


class Theme(QObject):
    """Applies a theme's stylesheet to the whole app; `changed` carries the new theme name."""

    changed = Signal(str)  # the theme now shown
    chosen = Signal(str)  # the user chose (a CHOICES value): saved as their setting

    def __init__(self, app: QApplication):
        super().__init__(app)
        self._app = app
        self._chosen: str | None = None  # None: follow the system
        self.name = ""
        app.styleHints().colorSchemeChanged.connect(self._system_changed)
        self.apply(self.system())

    def system(self) -> str:
        dark = self._app.styleHints().colorScheme() == Qt.ColorScheme.Dark
        return "night" if dark else "day"

    def apply(self, name: str) -> None:
        if name not in THEMES:
            raise ValueError(f"unknown theme {name!r}")
        if name == self.name:
            return
        self.name = name
        self._app.setStyleSheet(stylesheet(name))
        self.changed.emit(name)

    @property
    def choice(self) -> str:
        """'system', or the theme the user chose."""
        return self._chosen or "system"

    def choose(self, choice: str) -> None:
        """'day' or 'night' win over the system's scheme from then on; 'system' follows it."""
        if choice not in CHOICES:
            raise ValueError(f"unknown theme {choice!r}")
        self._chosen = None if choice == "system" else choice
        self.apply(self._chosen or self.system())
        self.chosen.emit(self.choice)

    def toggle(self) -> None:
        """Day <-> night; from then on the user's choice wins over the system's."""
        self.choose("night" if self.name == "day" else "day")

    def _system_changed(self, _scheme) -> None:
        if self._chosen is None:
            self.apply(self.system())
