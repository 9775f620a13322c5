"""Setting up the second factor at sign-in: the QR code an authenticator app scans (with its
key for typing in), the app's first code, and the one-time recovery codes, shown once."""

import segno

from .qt import (QColor, QDialog, QLineEdit, QPainter, QPlainTextEdit, QSize, Qt,
                 QVBoxLayout, QWidget)
from .widgets import (FieldErrors, WrappedLabel, fit_dialog, fit_height, heading, ok_cancel,
                      scrolling_body)


class QrCode(QWidget):
    """A QR code drawn from its module matrix: dark on white, with the quiet zone."""

    QUIET = 4

    def __init__(self, text: str, size: int = 240):
        super().__init__()
        self.setObjectName("qrCode")
        self.matrix = segno.make(text, error="m").matrix
        self.setFixedSize(QSize(size, size))
        self.setToolTip("Scan with your authenticator app")

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("white"))
        cells = len(self.matrix) + 2 * self.QUIET
        unit = min(self.width(), self.height()) / cells
        for y, row in enumerate(self.matrix):
            for x, dark in enumerate(row):
                if dark:
                    painter.fillRect(round((x + self.QUIET) * unit), round((y + self.QUIET) * unit),
                                     round(unit + 0.5), round(unit + 0.5), QColor("black"))
        painter.end()


class EnrolDialog(QDialog):
    """Scan the QR code, then type the code the app shows; `code()` once accepted."""

    def __init__(self, parent: QWidget | None, uri: str, secret: str):
        super().__init__(parent)
        self.setWindowTitle("Set up your authenticator app")
        self.errors = FieldErrors()
        self.entry = QLineEdit(placeholderText="6-digit code")
        self.entry.setObjectName("enrolCode")
        self.entry.setMaxLength(6)
        self.qr = QrCode(uri)
        grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
        words = WrappedLabel("Your agency requires a second factor. Scan this code with an "
                             "authenticator app on your phone, then type the 6-digit code it "
                             f"shows. No camera? Type this key into the app instead: {grouped}")
        words.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        body = QWidget()
        v = QVBoxLayout(body)
        v.addWidget(heading("Set up your authenticator app"))
        v.addWidget(words)
        v.addWidget(self.qr, 0, Qt.AlignmentFlag.AlignHCenter)
        v.addWidget(self.entry)
        v.addWidget(self.errors.label("code"))
        scrolling_body(self, body, ok_cancel(self))
        fit_dialog(self, 560, 0)
        fit_height(self)
        self.entry.setFocus()

    def accept(self) -> None:
        if not (len(self.code()) == 6 and self.code().isdigit()):
            self.errors.show_one("code", "type the 6 digits your app shows")
            return
        super().accept()

    def code(self) -> str:
        return self.entry.text().strip()


class RecoveryCodesDialog(QDialog):
    """The one-time recovery codes, shown this once."""

    def __init__(self, parent: QWidget | None, codes: list[str]):
        super().__init__(parent)
        self.setWindowTitle("Your recovery codes")
        words = WrappedLabel("Each of these signs you in once without your phone. Write them "
                             "down or print them and keep them away from this laptop: Tandem "
                             "will not show them again.")
        self.codes = QPlainTextEdit("\n".join(codes))
        self.codes.setObjectName("recoveryCodes")
        self.codes.setReadOnly(True)
        v = QVBoxLayout(self)
        v.addWidget(heading("Recovery codes"))
        v.addWidget(words)
        v.addWidget(self.codes)
        buttons = ok_cancel(self)
        buttons.button(buttons.StandardButton.Cancel).hide()
        v.addWidget(buttons)
