"""Fixtures for driving the real windows: the app's theme, a main window per session, waiting
for the DB worker to finish (its results arrive on the UI thread)."""

import pytest

from ui.mainwindow import MainWindow
from ui.theme import Theme


@pytest.fixture(scope="session")
def theme(qapp):
    from ui.app import application
    application()
    return Theme(qapp)


def settle(qtbot, window, timeout=10_000):
    """Wait until every queued job has run and its callback has been delivered."""
    qtbot.waitUntil(lambda: window.tasks.idle, timeout=timeout)


@pytest.fixture
def open_window(qtbot, theme):
    """Open a signed-in main window for a session; closed (workers stopped) after the test."""
    def make(session):
        window = MainWindow(session, theme, auto_sync_seconds=0)
        qtbot.addWidget(window)
        window.resize(1366, 768)
        window.show()
        qtbot.waitExposed(window)
        settle(qtbot, window)
        return window
    return make


# The offscreen platform (headless tests only) warns that it cannot pass size hints to a window
# manager it does not have; that says nothing about the app, so it is the one warning ignored.
OFFSCREEN_ONLY = r"This plugin does not support propagateSizeHints\(\)"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/ui/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.qt_log_ignore(OFFSCREEN_ONLY))
