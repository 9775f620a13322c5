"""The F1 overlay: every keyboard shortcut, grouped by screen, read from the actions themselves."""

import html

from .qt import QDialog, QDialogButtonBox, QKeySequence, QTextBrowser, QVBoxLayout, QWidget
from .widgets import fit_dialog


def shortcut_rows(groups: list[tuple[str, QWidget]]) -> list[tuple[str, str, str]]:
    """(screen, keys, what) for every action with a shortcut on each widget."""
    rows = []
    for name, widget in groups:
        for action in widget.actions():
            keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            if keys:
                rows.append((name, keys, action.text()))
    return rows


class HelpOverlay(QDialog):
    def __init__(self, groups: list[tuple[str, QWidget]], parent: QWidget):
        super().__init__(parent)
        self.setObjectName("helpOverlay")
        self.setWindowTitle("Keyboard shortcuts")
        self.rows = shortcut_rows(groups)
        parts, last = [], None
        for screen, keys, what in self.rows:
            if screen != last:
                if last is not None:
                    parts.append("</table>")
                parts.append(f"<h3>{html.escape(screen)}</h3><table cellpadding='6'>")
                last = screen
            parts.append(f"<tr><td><b>{html.escape(keys)}</b></td><td>{html.escape(what)}</td></tr>")
        parts.append("</table>")
        text = QTextBrowser()
        text.setHtml("".join(parts))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(buttons)
        fit_dialog(self, 640, 600)
