"""The car's input policy, one event filter for the whole app: a control that holds a value (a
drop-down, a spin box, a date or time edit, a slider) changes under the mouse wheel only while
it has the keyboard focus; otherwise the wheel scrolls whatever the control sits in.

In a moving car the wheel is turned to scroll a form, never to edit it: a draft's disposition
once went from "Transported CRC voluntary" to "Jail booking" because the pointer rested on the
drop-down while the form scrolled. Qt would also hand such a control the focus on a wheel turn
(Qt.WheelFocus); the filter sees the wheel event when it reaches the window, before Qt picks
the widget to deliver it to, so a turn of the wheel never gives focus either. A click or Tab
does, and then the wheel steps the focused control as usual.

The second click of a double-click reaches only the control the first one pressed. A gloved
double-tap on "Start shift" once pressed "Available" too: the first click had put the shift's
status buttons where the start button was, and Qt hands the second click, as a double-click,
to whatever is under the pointer by then. A double-click on one control (a row, a word in a
note) works as before, except on a button: there it is one press. Qt would press the button
a second time, so a double-tap on a follow-up's "Completed" logged it twice when the first
was quick, and a double-tap on a toggle ("Food") left it off.
"""

from .qt import (QAbstractButton, QAbstractScrollArea, QAbstractSlider, QAbstractSpinBox,
                 QApplication, QComboBox, QEvent, QObject, QScrollBar, QWheelEvent, QWidget)

VALUE_CONTROLS = (QComboBox, QAbstractSpinBox, QAbstractSlider)
_FILTERED = frozenset({QEvent.Type.Wheel, QEvent.Type.MouseButtonRelease,
                       QEvent.Type.MouseButtonDblClick})


def holds_value(widget: QWidget) -> bool:
    """A control whose value the wheel would step (a scroll bar only scrolls)."""
    return isinstance(widget, VALUE_CONTROLS) and not isinstance(widget, QScrollBar)


def control_under(widget: QWidget | None) -> QWidget | None:
    """The value control `widget` is part of (a spin box's text field is part of the spin box)."""
    while widget is not None and not widget.isWindow():
        if holds_value(widget):
            return widget
        widget = widget.parentWidget()
    return None


def scroll_area_around(widget: QWidget) -> QAbstractScrollArea | None:
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QAbstractScrollArea):
            return parent
        if parent.isWindow():
            return None
        parent = parent.parentWidget()
    return None


class InputPolicy(QObject):
    """Installed once on the application (`install`). Mouse events reach the window (a
    QWindow) first; Qt then hands them to the widget under the pointer, as found here."""

    def __init__(self, parent: QObject):
        super().__init__(parent)
        self._clicked: QWidget | None = None  # what the last click was released over

    def eventFilter(self, watched, event) -> bool:
        kind = event.type()
        if kind not in _FILTERED or isinstance(watched, QWidget):
            return False
        window = next((w for w in QApplication.topLevelWidgets() if w.windowHandle() is watched),
                      None)
        if window is None:
            return False
        under = window.childAt(event.position().toPoint())
        if kind == QEvent.Type.MouseButtonRelease:  # seen before the click it ends is handled
            self._clicked = under
            return False
        if kind == QEvent.Type.MouseButtonDblClick:
            # the first click changed what is under the pointer, or already pressed this button
            return under is not self._clicked or isinstance(under, QAbstractButton)
        return self._wheel(event, under)

    @staticmethod
    def _wheel(event: QWheelEvent, under: QWidget | None) -> bool:
        control = control_under(under)
        if control is None or control.hasFocus():
            return False
        area = scroll_area_around(control)
        if area is not None:
            viewport = area.viewport()
            QApplication.sendEvent(viewport, QWheelEvent(
                viewport.mapFromGlobal(event.globalPosition()), event.globalPosition(),
                event.pixelDelta(), event.angleDelta(), event.buttons(), event.modifiers(),
                event.phase(), event.inverted(), event.source()))
        return True


def install(app: QApplication) -> None:
    """Apply the policy to every window of `app`, present and future (once)."""
    if app.findChild(InputPolicy) is None:
        app.installEventFilter(InputPolicy(app))
