"""Fixtures for driving the real windows: the app's theme, a main window per session, waiting
for the DB worker to finish (its results arrive on the UI thread)."""

import gc

import pytest
import shiboken6

from ui.mainwindow import MainWindow
from ui.qt import QApplication, QEvent, QMessageBox, Qt
from ui.theme import Theme


@pytest.fixture(scope="session")
def theme(qapp):
    from ui.app import application
    application()
    return Theme(qapp)


def settle(qtbot, window, timeout=10_000):
    """Wait until every queued job has run and its callback has been delivered."""
    qtbot.waitUntil(lambda: window.tasks.idle, timeout=timeout)


def click(qtbot, widget):
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def end_shift(qtbot, window, view):
    """End the shift as the crew does: Ctrl+Shift+E on the shift screen, then Yes."""
    qtbot.keyClick(view, Qt.Key.Key_E,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    box = view.findChild(QMessageBox, "confirmEndShift")
    click(qtbot, box.button(QMessageBox.StandardButton.Yes))
    settle(qtbot, window)


def close_window(qtbot, window, timeout=15_000):
    """Close as a user does: the window leaves the session first (drafts saved, the sign-out
    audited, waiting changes sent or counted, workers stopped), then closes."""
    window.close()
    qtbot.waitUntil(lambda: window.left, timeout=timeout)
    if window.isVisible():  # it said what stayed on the laptop; closing again closes it
        window.close()


def sign_in_again(session):
    """The same user's session after their window closed (closing drops the key it had)."""
    from fieldapp.session import unlock
    from tests.conftest import PASSWORD
    return unlock(session.data_dir, session.username, PASSWORD)


@pytest.fixture
def open_window(qtbot, theme):
    """Open a signed-in main window for a session; closed (workers stopped) after the test.

    The windows are deleted and their Python garbage collected here, between tests: left to a
    later automatic collection pass, it would delete Qt objects from inside another test's
    event dispatch."""
    opened = []

    def make(session):
        window = MainWindow(session, theme, auto_sync_seconds=0)
        qtbot.addWidget(window, before_close_func=lambda w: w.left or close_window(qtbot, w))
        window.resize(1366, 768)
        window.show()
        qtbot.waitExposed(window)
        settle(qtbot, window)
        opened.append(window)
        return window
    yield make
    for window in opened:
        if not shiboken6.isValid(window):  # pytest-qt closed and deleted it already
            continue
        if not window.left:
            close_window(qtbot, window)
        window.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QApplication.processEvents()
    opened.clear()
    gc.collect()


# The offscreen platform (headless tests only) warns that it cannot pass size hints to a window
# manager it does not have, nor raise a drop-down's list or give it the keyboard; that says
# nothing about the app, so these are the warnings ignored.
OFFSCREEN_ONLY = (r"This plugin does not support "
                  r"(propagateSizeHints\(\)|raise\(\)|grabbing the keyboard)")


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/ui/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.qt_log_ignore(OFFSCREEN_ONLY))
