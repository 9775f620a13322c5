"""The supervisor's home: shift review arrives with the supervisor feature (a later issue)."""

from .context import Context
from .qt import QLabel, QVBoxLayout, QWidget
from .widgets import heading


class ReviewView(QWidget):
    title = "Review"

    def __init__(self, ctx: Context):
        super().__init__()
        note = QLabel("Reviewing your teams' synced shift logs, approving or returning them, the "
                      "program dashboard and the monthly report arrive with the supervisor "
                      "feature. Until then, the other screens work as they do for the team.")
        note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(heading("Shift review"))
        layout.addWidget(note)
        layout.addStretch(1)

    def refresh(self) -> None:
        """Nothing to load yet."""
