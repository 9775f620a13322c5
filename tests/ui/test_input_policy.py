"""The car's input policy: the mouse wheel scrolls forms and never edits a control it passes
over; a control the user clicked into (it has the focus) still steps with the wheel.

The wheel turns arrive as the window system delivers them (QTest.wheelEvent goes through
Qt's window-system interface), so Qt's own wheel-focus and propagation rules all apply.
"""

from PySide6.QtTest import QTest

from tests.ui.conftest import click, settle
from ui.qt import QComboBox, QPoint, QScrollArea, QSpinBox, QWidget
from ui.review import FollowUpDialog

DOWN = QPoint(0, -120)  # one notch towards the user


def turn_wheel(widget, notches: int = 3) -> None:
    window = widget.window().windowHandle()
    at = widget.mapTo(widget.window(), widget.rect().center())
    for _ in range(notches):
        QTest.wheelEvent(window, at, DOWN)


def test_the_wheel_over_disposition_scrolls_the_encounter_form(qtbot, open_window, officer):
    window = open_window(officer)
    view = window.show_screen("encounter")
    settle(qtbot, window)
    view.disposition.setCurrentIndex(view.disposition.findText("Transported CRC voluntary"))
    scroll = view.findChild(QScrollArea)
    bar = scroll.verticalScrollBar()
    scroll.ensureWidgetVisible(view.disposition)
    assert bar.maximum() > 0, "the form must be taller than the window for this test"
    bar.setValue(0)
    scroll.ensureWidgetVisible(view.disposition)
    before = bar.value()
    turn_wheel(view.disposition)

    assert view.disposition.currentText() == "Transported CRC voluntary"
    assert not view.disposition.hasFocus()
    assert bar.value() > before  # the form scrolled instead


def test_a_focused_drop_down_still_steps_with_the_wheel(qtbot, open_window, officer):
    window = open_window(officer)
    view = window.show_screen("encounter")
    view.findChild(QScrollArea).ensureWidgetVisible(view.disposition)
    view.disposition.setFocus()
    qtbot.waitUntil(view.disposition.hasFocus)

    turn_wheel(view.disposition, 1)

    assert view.disposition.currentIndex() == 1


def test_no_value_control_anywhere_changes_under_the_wheel(qtbot, open_window, data_dir):
    """Every drop-down and spin box on every screen of a sergeant (who sees them all) and in
    the dialogs: the policy is the app's, not one form's."""
    from tests.conftest import make_session
    sergeant = make_session(data_dir, "sgt.diaz", "supervisor")
    try:
        window = open_window(sergeant)
        roots = [window.show_screen(key) for key, *_ in window.screens]
        dialog = FollowUpDialog(window, window.ctx)
        dialog.show()
        qtbot.waitExposed(dialog)
        roots.append(dialog)
        checked = 0
        for root in roots:
            if root is not dialog:
                window.show_screen(next(k for k, v in window.views.items() if v is root))
            settle(qtbot, window)
            for control in [w for w in root.findChildren(QWidget)
                            if isinstance(w, (QComboBox, QSpinBox))]:
                if not control.isVisible() or control.visibleRegion().isEmpty():
                    continue
                if isinstance(control, QComboBox) and control.count() < 2:
                    control.addItems(["one", "two"])
                control.clearFocus()  # a dialog's first field has the focus as it opens
                before = control.currentIndex() if isinstance(control, QComboBox) \
                    else control.value()
                turn_wheel(control, 2)
                after = control.currentIndex() if isinstance(control, QComboBox) \
                    else control.value()
                assert after == before, f"{control.objectName() or control} changed"
                assert not control.hasFocus()
                checked += 1
        assert checked >= 4
        dialog.reject()
    finally:
        sergeant.close()


def test_a_click_gives_focus_and_then_the_wheel_steps(qtbot, open_window, data_dir):
    from tests.conftest import make_session
    sergeant = make_session(data_dir, "sgt.diaz", "supervisor")
    try:
        window = open_window(sergeant)
        view = window.show_screen("dashboard")
        settle(qtbot, window)
        spin = view.baseline
        value = spin.value()
        turn_wheel(spin, 1)
        assert spin.value() == value
        click(qtbot, spin.lineEdit())
        assert spin.hasFocus()
        turn_wheel(spin, 1)
        assert spin.value() != value
        spin.clearFocus()  # saves the baseline (editingFinished) while the workers run
        settle(qtbot, window)
    finally:
        sergeant.close()
