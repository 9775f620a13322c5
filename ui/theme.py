"""Day and night themes: follow the system color scheme until the user switches (one shortcut)."""

from resources import stylesheet

from .qt import QApplication, QObject, Qt, Signal

THEMES = ("day", "night")


class Theme(QObject):
    """Applies a theme's stylesheet to the whole app; `changed` carries the new theme name."""

    changed = Signal(str)

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

    def toggle(self) -> None:
        """Day <-> night; from then on the user's choice wins over the system's."""
        self._chosen = "night" if self.name == "day" else "day"
        self.apply(self._chosen)

    def _system_changed(self, _scheme) -> None:
        if self._chosen is None:
            self.apply(self.system())
