"""Small pieces every screen uses: big touch buttons, shortcuts that show in help, field errors."""

import re
from pathlib import Path
from typing import Callable

from fieldapp import labels
from fieldapp.errors import TandemError, ValidationError

from . import errors

from .qt import (QAbstractItemView, QAbstractScrollArea, QAction, QDialog, QDialogButtonBox,
                 QFileDialog, QFormLayout, QHBoxLayout, QHeaderView, QKeySequence, QLabel, QLayout,
                 QListView, QPainter, QPushButton, QScrollArea, QSize, QSizePolicy, Qt,
                 QTableView, QTimer, QTreeView, QVBoxLayout, QWidget)


def button(text: str, slot: Callable | None = None, *, name: str = "", primary: bool = False,
           checkable: bool = False) -> QPushButton:
    """A push button at least 44 px high (the stylesheet sets the size; this sets the role)."""
    b = QPushButton(text)
    if name:
        b.setObjectName(name)
    if primary:
        b.setProperty("primary", True)
    b.setCheckable(checkable)
    b.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
    if slot is not None:
        b.clicked.connect(slot)
    return b


def shortcut(owner: QWidget, text: str, keys: str, slot: Callable) -> QAction:
    """A keyboard shortcut active while `owner` (a screen) is visible, wherever the focus is in
    the window (Qt ignores shortcuts of hidden widgets); listed in the F1 help."""
    action = QAction(text, owner)
    action.setShortcut(QKeySequence(keys))
    action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    action.triggered.connect(slot)
    owner.addAction(action)
    return action


def add_rows(form: QFormLayout, field_errors, rows) -> None:
    """Each (label, widget, field name or None) as a form row, the field's error line under it."""
    for label, widget, name in rows:
        form.addRow(label, widget)
        if name:
            form.addRow("", field_errors.label(name))


def ok_cancel(dialog) -> QDialogButtonBox:
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                               | QDialogButtonBox.StandardButton.Cancel)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons


def centred(widget: QWidget, card: QWidget) -> None:
    """Lay `card` out in the middle of `widget`, a little above centre (sign-in, lock)."""
    row = QHBoxLayout()
    row.addStretch(1)
    row.addWidget(card)
    row.addStretch(1)
    outer = QVBoxLayout(widget)
    outer.addStretch(1)
    outer.addLayout(row)
    outer.addStretch(2)


class VerticalScroll(QScrollArea):
    """Never narrower than its content and a scroll bar beside it, so the bar, when it shows,
    covers nothing."""

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        need = (self.widget().minimumSizeHint().width() + 2 * self.frameWidth()
                + self.verticalScrollBar().sizeHint().width())
        return QSize(max(hint.width(), need), hint.height())


def vertical_scroll(content: QWidget) -> QScrollArea:
    """`content` in a frameless area that scrolls up and down, never sideways: it is always as
    wide as the screen gives it (its layout must fit 1024×768)."""
    area = VerticalScroll()
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setWidget(content)
    return area


def wrap_rows(view: QListView) -> None:
    """A list whose long rows wrap to its width (as many lines as they need), never scrolling
    sideways."""
    view.setWordWrap(True)
    view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    view.setResizeMode(QListView.ResizeMode.Adjust)
    view.setUniformItemSizes(False)


def fill_height(view: QAbstractScrollArea, least: int = 160) -> QAbstractScrollArea:
    """A list (or an area that scrolls) that takes the height its screen has to spare and
    scrolls what does not fit in it. It asks for `least` px, not for all its rows: a screen
    laid out by what its lists would like is taller than the window, and then the screen
    scrolls as well as the list, two bars side by side and a wheel that moves either."""
    policy = view.sizePolicy()
    policy.setVerticalPolicy(QSizePolicy.Policy.Ignored)
    view.setSizePolicy(policy)
    view.setMinimumHeight(least)
    return view


def fit_row_heights(table: QTableView) -> None:
    """Rows as tall as their wrapped text, 48 px at least (to touch), whatever the width."""
    table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.verticalHeader().setMinimumSectionSize(48)


def fit_rows(view: QAbstractItemView) -> None:
    """Make a list exactly as tall as its rows (in a screen that scrolls as a whole)."""
    rows = view.model().rowCount()
    height = sum(view.sizeHintForRow(row) for row in range(rows))
    view.setFixedHeight(max(height + 2 * view.frameWidth(), 100))


DIALOG_BODY = "dialogBody"


def scrolling_body(dialog: QDialog, body: QWidget, buttons: QWidget | QLayout) -> None:
    """A dialog's fields and messages (`body`) scroll up and down above its `buttons`, which
    always show: words that appear later never push the buttons off a 768-px screen."""
    area = vertical_scroll(body)
    area.setObjectName(DIALOG_BODY)
    layout = QVBoxLayout(dialog)
    layout.addWidget(area, 1)
    if isinstance(buttons, QLayout):
        layout.addLayout(buttons)
    else:
        layout.addWidget(buttons)


def fit_height(dialog: QWidget) -> None:
    """A dialog laid out by `scrolling_body` as tall as its words at its width, up to the
    window it opens over, or the screen (then the body scrolls): as it opens, and when a
    message comes or goes."""
    area = dialog.findChild(QScrollArea, DIALOG_BODY, Qt.FindChildOption.FindDirectChildrenOnly)
    if area is None:
        return
    dialog.ensurePolished()  # measured with the stylesheet's sizes
    body, layout = area.widget(), dialog.layout()
    margins = layout.contentsMargins()
    width = dialog.width() - margins.left() - margins.right()
    need = body.heightForWidth(width) if body.hasHeightForWidth() else -1
    if need < 0:
        need = body.sizeHint().height()
    height = layout.totalSizeHint().height() - area.sizeHint().height() + need
    parent = dialog.parentWidget()
    room = parent.window().height() if parent is not None \
        else dialog.screen().availableGeometry().height()
    dialog.resize(dialog.width(), min(height, room))


def refit(widget: QWidget) -> None:
    """The dialog `widget` is in follows a change in what it says (`fit_height`), once its
    labels have their new size."""
    window = widget.window()
    if isinstance(window, QDialog):
        QTimer.singleShot(0, window, lambda: fit_height(window))


def fit_dialog(dialog: QWidget, width: int, height: int) -> None:
    """Size a dialog `width`×`height` at most, never larger than the window it opens over
    (a 1024×768 screen gets a dialog it can show whole)."""
    parent = dialog.parentWidget()
    if parent is not None:
        window = parent.window()
        width, height = min(width, window.width() - 24), min(height, window.height() - 24)
    dialog.resize(max(width, dialog.minimumSizeHint().width()), height)


def file_dialog(parent: QWidget, title: str, name_filter: str, *, save: bool = False):
    """Qt's own file dialog (the same on every laptop), sized to the window it opens over, with
    whole column headings in its list of files."""
    dialog = QFileDialog(parent, title)
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog)
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave if save
                         else QFileDialog.AcceptMode.AcceptOpen)
    dialog.setNameFilter(name_filter)
    dialog.setDirectory(str(Path.home()))
    for files in dialog.findChildren(QTreeView):
        header = files.header()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    fit_dialog(dialog, 960, 640)
    return dialog


class ElidedLabel(QLabel):
    """One line that gives way on a narrow screen, ending in "…" rather than cut mid-word;
    its text stays whole, and so does its tooltip, which says it (or more, set after)."""

    def __init__(self):
        super().__init__()
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setToolTip(text)

    def paintEvent(self, _event) -> None:
        rect = self.contentsRect()
        shown = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight,
                                              rect.width())
        painter = QPainter(self)
        self.style().drawItemText(painter, rect, self.alignment(), self.palette(),
                                  self.isEnabled(), shown, self.foregroundRole())
        painter.end()


BREAK_EVERY = 24  # characters of one word a wrapping line takes before it may break it
_LONG_WORD = re.compile(r"[^\s<>\u200b]{%d,}" % (BREAK_EVERY + 1))
_PIECE = re.compile(r"&#?\w+;|.", re.S)  # an HTML entity stays whole
_TAG = re.compile(r"(<[^>]*>)|([^<]+)")


def breakable(text: str, rich: bool = False) -> str:
    """`text` with a zero-width break point every BREAK_EVERY characters of any longer word,
    so that a wrapping line can always wrap. (`rich`: HTML, whose tags are left whole.)"""
    def split(word: re.Match) -> str:
        pieces = _PIECE.findall(word.group())
        return "\u200b".join("".join(pieces[at:at + BREAK_EVERY])
                              for at in range(0, len(pieces), BREAK_EVERY))
    if not rich:
        return _LONG_WORD.sub(split, text)
    return _TAG.sub(lambda m: m.group(1) or _LONG_WORD.sub(split, m.group(2)), text)


class WrappedLabel(QLabel):
    """Text that wraps to the width it is given, and never asks for more: a word longer than
    a line (a pasted link, a server's address, a CAD attachment's name) breaks too, where a
    plain QLabel would widen the window to fit it. `text()` is the text as set."""

    def __init__(self, text: str = ""):
        super().__init__()
        self.setWordWrap(True)
        self._text = ""
        self.setText(text)

    def setText(self, text: str) -> None:
        self._text = text
        rich = self.textFormat() == Qt.TextFormat.RichText or (
            self.textFormat() == Qt.TextFormat.AutoText and bool(re.search(r"<[a-zA-Z/]", text)))
        super().setText(breakable(text, rich))
        self._fit_height()

    def text(self) -> str:
        return self._text

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_height()

    def _fit_height(self) -> None:
        """As tall as its lines at the width it has: a form's rows give a label the height
        of its lines at its preferred width, too few once a long message wraps narrower."""
        if self.width() > 0:
            self.setMinimumHeight(0)  # QLabel's heightForWidth is never below the minimum
            self.setMinimumHeight(max(0, self.heightForWidth(self.width())))

    def clear(self) -> None:
        self.setText("")


def heading(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("heading")
    return label


def set_state(widget: QWidget, name: str, value) -> None:
    """Set a property the stylesheet selects on, and re-apply the style."""
    widget.setProperty(name, value)
    widget.style().unpolish(widget)
    widget.style().polish(widget)


class FieldErrors:
    """Error labels placed under the fields they belong to, filled from a ValidationError."""

    def __init__(self, general: QLabel | None = None):
        self._labels: dict[str, QLabel] = {}
        self.general = general or self._new_label("")

    def label(self, field: str) -> QLabel:
        """The (initially hidden) label for `field`; put it under the field in the layout."""
        if field not in self._labels:
            self._labels[field] = self._new_label(field)
        return self._labels[field]

    def show(self, error: ValidationError) -> None:
        """Mark every field the error names; problems for fields not on the form go on top."""
        self._hide_all()
        unplaced = []
        for field, why in error.problems.items():
            if field in self._labels:
                self._labels[field].setText(why)
                self._labels[field].show()
            else:
                unplaced.append(f"{labels.phrase(field)}: {why}")
        if unplaced:
            self.general.setText("\n".join(unplaced))
            self.general.show()
        refit(self.general)

    def show_one(self, field: str, why: str) -> None:
        self.show(ValidationError("form", {field: why}))

    def handle(self, error: BaseException) -> None:
        """A failed save: field problems by their fields, the core's refusals on top of the
        form, environment errors and bugs as dialogs."""
        if isinstance(error, ValidationError):
            self.show(error)
        elif isinstance(error, TandemError):
            self.message(str(error))
        else:
            errors.show(error, self.general.window())

    def message(self, text: str) -> None:
        self._hide_all()
        self.general.setText(text)
        self.general.show()
        refit(self.general)

    def clear(self) -> None:
        self._hide_all()
        refit(self.general)

    def _hide_all(self) -> None:
        for label in [*self._labels.values(), self.general]:
            label.clear()
            label.hide()

    def shown(self) -> dict[str, str]:
        """Field -> visible error text (what a user sees; used by tests)."""
        out = {f: l.text() for f, l in self._labels.items() if l.text()}
        if self.general.text():
            out[""] = self.general.text()
        return out

    @staticmethod
    def _new_label(field: str) -> QLabel:
        label = WrappedLabel()
        label.setObjectName("fieldError")
        label.setProperty("field", field)
        label.hide()
        return label


def record_table(model, stretch: tuple[int, ...] = ()) -> QTableView:
    """A table of records at touch size: whole rows, one selected at a time, no row numbers;
    columns fit their contents except the `stretch` ones, which share the spare width."""
    table = QTableView()
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.verticalHeader().hide()
    table.verticalHeader().setDefaultSectionSize(48)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    for column in stretch:
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
    return table
