"""Measuring what a crew sees: touch targets under 44 px, text cut off, sideways scrolling,
scrolling inside scrolling.

Each function walks the visible widgets under a top-level widget (a window or a dialog) and
returns one line per problem, naming the widget by its class, object name and text, so a
failing test says what to fix.
"""

import re

from ui.qt import (QAbstractButton, QAbstractItemView, QAbstractScrollArea, QAbstractSpinBox,
                   QCheckBox, QComboBox, QGroupBox, QHeaderView, QLabel, QLineEdit, QScrollBar,
                   QStyle, QStyleOptionButton, QStyleOptionSpinBox, QTableView, QWidget)
from ui.widgets import ElidedLabel

TOUCH = 44


def name(widget: QWidget) -> str:
    text = widget.text() if hasattr(widget, "text") and callable(widget.text) else ""
    text = text.replace("\n", " ")[:40] if isinstance(text, str) else ""
    return f"{type(widget).__name__}#{widget.objectName()} {text!r}".strip()


def shown(root: QWidget) -> list[QWidget]:
    """`root` and every widget under it that is on screen (not hidden, not behind a page)."""
    return [w for w in [root, *root.findChildren(QWidget)] if w.isVisible()
            and not w.visibleRegion().isEmpty()]


def small_targets(root: QWidget) -> list[str]:
    """Every control a finger or a bouncing mouse must hit, smaller than 44 px either way."""
    out = []

    def check(what: str, width: int, height: int) -> None:
        if width < TOUCH or height < TOUCH:
            out.append(f"{what}: {width}×{height} px")

    for w in shown(root):
        if isinstance(w, QCheckBox):
            option = QStyleOptionButton()
            w.initStyleOption(option)
            click = w.style().subElementRect(QStyle.SubElement.SE_CheckBoxClickRect, option, w)
            check(f"{name(w)} click area", click.width(), click.height())
        elif isinstance(w, QScrollBar):
            vertical = w.orientation().name == "Vertical"
            thickness = w.width() if vertical else w.height()
            if thickness < TOUCH:
                out.append(f"{name(w)}: {thickness} px thick")
        elif isinstance(w, (QAbstractButton, QComboBox, QLineEdit)):
            if w.parentWidget() is not None and isinstance(w.parentWidget(), QAbstractSpinBox):
                continue
            check(name(w), w.width(), w.height())
        elif isinstance(w, QAbstractSpinBox):
            check(name(w), w.width(), w.height())
            option = QStyleOptionSpinBox()
            w.initStyleOption(option)
            for part, arrow in ((QStyle.SubControl.SC_SpinBoxUp, "up"),
                                (QStyle.SubControl.SC_SpinBoxDown, "down")):
                r = w.style().subControlRect(QStyle.ComplexControl.CC_SpinBox, option, part, w)
                check(f"{name(w)} {arrow} arrow", r.width(), r.height())
        if isinstance(w, QAbstractItemView) and not isinstance(w, QHeaderView) \
                and w.selectionMode() != QAbstractItemView.SelectionMode.NoSelection:
            model = w.model()
            for row in range(min(model.rowCount(), 50)):
                rect = w.visualRect(model.index(row, 0))
                if rect.isValid() and rect.height() < TOUCH:
                    out.append(f"{name(w)} row {row}: {rect.height()} px high")
                    break
    return out


def combo_rows(root: QWidget) -> list[str]:
    """Each drop-down's rows, measured as the open list shows them."""
    out = []
    for combo in [w for w in shown(root) if isinstance(w, QComboBox) and w.count()]:
        combo.showPopup()
        view = combo.view()
        height = view.visualRect(view.model().index(0, combo.modelColumn())).height()
        combo.hidePopup()
        if height < TOUCH:
            out.append(f"{name(combo)} rows: {height} px high")
    return out


def clipped_text(root: QWidget) -> list[str]:
    """Text that does not fit its widget, widgets cut off by the window's edge, and columns
    narrower than their heading."""
    out = []
    right = root.mapToGlobal(root.rect().topRight()).x()
    for w in shown(root):
        if w is not root and w.mapToGlobal(w.rect().topRight()).x() > right + 1:
            out.append(f"{name(w)} runs past the window's right edge")
            continue
        seen = w.visibleRegion().boundingRect()
        if isinstance(w, (QAbstractButton, QComboBox, QLabel, QLineEdit)) \
                and seen.right() < w.width() - 2:
            out.append(f"{name(w)}: cut off at the right ({seen.right() + 1} of {w.width()} px "
                       "show), behind a scroll bar or a scroll area's edge")
            continue
        if isinstance(w, QAbstractButton) and w.text():
            if isinstance(w, QCheckBox):
                need = w.sizeHint().width()
            else:
                shown_text = w.text().replace("&&", "\0").replace("&", "").replace("\0", "&")
                need = max(w.fontMetrics().horizontalAdvance(line)
                           for line in shown_text.split("\n"))
                option = QStyleOptionButton()
                w.initStyleOption(option)
                content = w.style().subElementRect(
                    QStyle.SubElement.SE_PushButtonContents, option, w) \
                    if hasattr(w, "isFlat") else w.contentsRect()
                if content.width() < need:
                    out.append(f"{name(w)}: text needs {need} px, has {content.width()}")
                continue
            if w.width() < need:
                out.append(f"{name(w)}: needs {need} px, has {w.width()}")
        elif isinstance(w, ElidedLabel) and w.text():
            out += elided(w)
        elif isinstance(w, QLabel) and w.text():
            if w.wordWrap():
                need = w.heightForWidth(w.width())
                if need > w.height() + 1:
                    out.append(f"{name(w)}: wrapped text needs {need} px high, has {w.height()}")
            elif w.width() < w.sizeHint().width() - 1:
                out.append(f"{name(w)}: needs {w.sizeHint().width()} px, has {w.width()}")
        elif isinstance(w, QGroupBox) and w.title():
            need = w.fontMetrics().horizontalAdvance(w.title()) + 24
            if w.width() < need:
                out.append(f"QGroupBox {w.title()!r}: title needs {need} px, has {w.width()}")
        elif isinstance(w, QTableView) and w.wordWrap():
            for row in range(min(w.model().rowCount(), 30)):
                if w.rowHeight(row) < w.sizeHintForRow(row):
                    out.append(f"{name(w)} row {row}: wrapped text needs "
                               f"{w.sizeHintForRow(row)} px high, has {w.rowHeight(row)}")
                    break
        elif isinstance(w, QHeaderView) and w.orientation().name == "Horizontal":
            for section in range(w.count()):
                if w.isSectionHidden(section):
                    continue
                need = w.sectionSizeFromContents(section).width()
                if w.sectionSize(section) < need:
                    title = w.model().headerData(section, w.orientation())
                    out.append(f"{name(w.parentWidget())} column {title!r}: "
                               f"{w.sectionSize(section)} px, heading needs {need}")
    return out


def elided(label: ElidedLabel) -> list[str]:
    """A line that gives way ("…") must keep its first word, and its tooltip the whole."""
    text = label.text()
    metrics, width = label.fontMetrics(), label.contentsRect().width()
    if metrics.horizontalAdvance(text) <= width:
        return []
    first_word = re.match(r"\W*\w+", text).group()
    out = []
    if metrics.horizontalAdvance(first_word + "…") > width:
        out.append(f"{name(label)}: gives way to {width} px, less than its first word")
    if text.lstrip("● ") not in label.toolTip():
        out.append(f"{name(label)}: cut to {width} px, and its tooltip does not say it whole")
    return out


def sideways_scrolling(root: QWidget) -> list[str]:
    """Every scroll area showing a horizontal scroll bar."""
    return [f"{name(w)} scrolls sideways" for w in shown(root)
            if isinstance(w, QAbstractScrollArea) and w.horizontalScrollBar().isVisible()]


def scrolling_inside_scrolling(root: QWidget) -> list[str]:
    """Every area that scrolls up and down inside a page that does too: two bars side by
    side, and a wheel that moves one or the other depending on where the pointer rests (a
    page taller than the window belongs in one scrolling area, the screen's own)."""
    scrolling = [w for w in shown(root) if isinstance(w, QAbstractScrollArea)
                 and w.verticalScrollBar().isVisible()]
    return [f"{name(inner)} scrolls inside {name(outer)}, which scrolls too"
            for outer in scrolling for inner in scrolling
            if inner is not outer and outer.viewport().isAncestorOf(inner)]


def too_big(window: QWidget, width: int, height: int) -> list[str]:
    """A window that cannot be made `width`×`height`: its minimum size, or its size once
    resized to that (a layout's minimum widens it), is larger."""
    least = window.minimumSizeHint().expandedTo(window.minimumSize())
    out = []
    for what, size in (("minimum size", least), ("size", window.size())):
        if size.width() > width or size.height() > height:
            out.append(f"{name(window)} {what} {size.width()}×{size.height()} "
                       f"does not fit {width}×{height}")
    return out


def problems(root: QWidget) -> list[str]:
    return small_targets(root) + clipped_text(root) + sideways_scrolling(root)
