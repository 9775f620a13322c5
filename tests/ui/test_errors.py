"""Known environment errors get a plain dialog; bugs get the report dialog; validation stays inline."""

import errno
import sys

import sqlcipher3

from fieldapp.errors import TandemError
from tests.ui.conftest import settle
from ui import errors
from ui.qt import QMessageBox


def test_environment_errors_say_what_to_do():
    assert "disk is full" in errors.environment_message(OSError(errno.ENOSPC, "No space left"))
    assert "disk is full" in errors.environment_message(
        sqlcipher3.OperationalError("database or disk is full"))
    assert "busy" in errors.environment_message(
        sqlcipher3.OperationalError("database is locked"))
    assert "offline" in errors.environment_message(ConnectionError("refused"))
    assert errors.environment_message(TandemError("this shift has ended")) == "this shift has ended"
    assert errors.environment_message(KeyError("bug")) is None


def test_a_failed_job_without_its_own_handler_shows_a_dialog(qtbot, open_window, officer):
    window = open_window(officer)

    def boom(_session):
        raise sqlcipher3.OperationalError("database is locked")

    window.tasks.db(boom).run()
    settle(qtbot, window)
    box = window.findChild(QMessageBox, "environmentError")
    assert box is not None and box.isVisible() and "busy" in box.text()
    box.close()
    box.deleteLater()


def test_a_failure_that_recurs_leaves_one_dialog_not_a_stack(qtbot, open_window, officer):
    """A full disk fails every save: one dialog says so, however many saves meet it."""
    window = open_window(officer)

    def full(_session):
        raise sqlcipher3.OperationalError("database or disk is full")

    for _ in range(3):
        window.tasks.db(full).run()
    window.tasks.db(lambda _s: {}["missing"]).run()  # another failure still gets its own
    settle(qtbot, window)
    full_boxes = window.findChildren(QMessageBox, "environmentError")
    assert [b.isVisible() for b in full_boxes] == [True]
    assert len(window.findChildren(QMessageBox, "bugReport")) == 1
    for box in window.findChildren(QMessageBox):
        box.close()
        box.deleteLater()


def test_a_dialog_gone_with_its_window_leaves_the_next_one_free_to_open(qtbot):
    """Signing out closes the window and the dialogs over it: the next session's first error
    still gets its dialog (it once met the dead one and raised)."""
    from ui.qt import QWidget
    window = QWidget()
    left_open = errors.show(TandemError("No connection to the agency server."), window)
    window.deleteLater()
    qtbot.waitUntil(lambda: left_open not in errors._SHOWN)
    again = errors.show(TandemError("No connection to the agency server."))
    assert again.isVisible() and again is not left_open
    again.close()
    again.deleteLater()


def test_a_bug_in_a_job_gets_the_report_dialog(qtbot, open_window, officer):
    window = open_window(officer)
    window.tasks.db(lambda _s: {}["missing"]).run()
    settle(qtbot, window)
    box = window.findChild(QMessageBox, "bugReport")
    assert box is not None and "KeyError" in box.detailedText()
    box.close()
    box.deleteLater()


def test_excepthook_reports_uncaught_errors(qtbot, monkeypatch, capsys):
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    errors.install_excepthook()
    try:
        raise ValueError("unexpected")
    except ValueError:
        sys.excepthook(*sys.exc_info())
    from ui.qt import QApplication
    boxes = [w for w in QApplication.topLevelWidgets() if w.objectName() == "bugReport"]
    assert any("ValueError: unexpected" in box.detailedText() for box in boxes)
    for box in boxes:
        box.close()
        box.deleteLater()
