"""Errors people can act on (qutebrowser style).

Known environment errors (disk full, database locked or read-only, offline, a refused sign-in)
get a plain dialog that says what to do. Anything else is a bug: a report dialog with the
traceback, installed as sys.excepthook. Validation problems are not dialogs at all: forms show
them next to the fields they name. Cancelling is never an error.
"""

import errno
import sqlite3
import sys
import traceback

from fieldapp.errors import TandemError

from .qt import QApplication, QMessageBox, QWidget


def environment_message(error: BaseException) -> str | None:
    """What the user can do about a known environment error, or None for a bug."""
    if isinstance(error, TandemError):  # Tandem's own words, whatever they mention
        return str(error)
    text = str(error).lower()
    if isinstance(error, OSError) and error.errno == errno.ENOSPC or "disk is full" in text \
            or "database or disk is full" in text:
        return "The disk is full. Nothing was lost: free some space, then try again."
    import sqlcipher3  # the cache's driver, imported when needed, not with the sign-in window

    if isinstance(error, (sqlite3.OperationalError, sqlcipher3.OperationalError)):
        if "locked" in text or "busy" in text:
            return ("The local database is busy (another Tandem window or a sync is using it). "
                    "Wait a moment and try again.")
        if "readonly" in text or "read-only" in text:
            return "The local database is read-only. Check the data folder's permissions."
    if _is_network_error(error):
        return "No connection to the agency server. Tandem keeps working offline; sync later."
    return None


def _is_network_error(error: BaseException) -> bool:
    try:
        import requests
    except ImportError:  # pragma: no cover - requests is a dependency
        return isinstance(error, ConnectionError)
    return isinstance(error, (ConnectionError, TimeoutError, requests.ConnectionError,
                              requests.Timeout))


def show(error: BaseException, parent: QWidget | None = None) -> QMessageBox:
    """A plain dialog for a known error, or the bug report for anything else (non-blocking)."""
    message = environment_message(error)
    if message is None:
        return report(type(error), error, error.__traceback__, parent)
    box = QMessageBox(QMessageBox.Icon.Warning, "Tandem", message, QMessageBox.StandardButton.Ok,
                      parent or QApplication.activeWindow())
    box.setObjectName("environmentError")
    return _open(box)


def report(kind, value, tb, parent: QWidget | None = None) -> QMessageBox:
    """The bug report: what happened, and the details to send to agency IT."""
    details = "".join(traceback.format_exception(kind, value, tb))
    box = QMessageBox(QMessageBox.Icon.Critical, "Tandem: something went wrong",
                      "Tandem hit a problem it did not expect. Your saved work is safe.\n"
                      "Please send the details below to agency IT.",
                      QMessageBox.StandardButton.Ok, parent or QApplication.activeWindow())
    box.setObjectName("bugReport")
    box.setDetailedText(details)
    return _open(box)


_SHOWN: set[QMessageBox] = set()  # a dialog with no parent window lives until it is closed


def _open(box: QMessageBox) -> QMessageBox:
    """Open `box`, unless the same one is open already: a failure that recurs (a full disk
    under every save) leaves one dialog to close, not a stack of them."""
    for shown in _SHOWN:
        if (shown.objectName(), shown.text(), shown.detailedText()) == (
                box.objectName(), box.text(), box.detailedText()):
            box.deleteLater()
            return shown
    _SHOWN.add(box)
    box.finished.connect(lambda _code: _SHOWN.discard(box))
    box.destroyed.connect(lambda *_: _SHOWN.discard(box))  # with its window, at sign-out
    box.open()
    return box


def install_excepthook() -> None:
    """Route uncaught exceptions in Qt callbacks to the report dialog instead of a silent stderr."""
    previous = sys.excepthook

    def hook(kind, value, tb):
        if issubclass(kind, KeyboardInterrupt):
            previous(kind, value, tb)
            return
        traceback.print_exception(kind, value, tb)
        if QApplication.instance() is not None:
            if isinstance(value, Exception) and environment_message(value) is not None:
                show(value)
            else:
                report(kind, value, tb)

    sys.excepthook = hook
