"""The one place Tandem imports Qt (qutebrowser / Anki style): the binding and its quirks live here.

Only the Qt modules the app uses are imported, so a PyInstaller build can leave the rest out.
The names below are looked up on first use (`from .qt import QLabel` works as usual): PySide
sets a class up when it is first fetched, ~1 ms for some and ~20 ms for the `Qt` namespace, so
the sign-in window pays only for what it uses and the rest is set up on the worker that imports
the main window while the key is derived.
"""

from PySide6 import QtCore, QtGui, QtWidgets

_NAMES = {
    QtCore: """QAbstractListModel QAbstractTableModel QDate QEvent QItemSelectionModel QModelIndex
        QLockFile QObject QPersistentModelIndex QPoint QRect QRectF QSize QSortFilterProxyModel Qt
        QTimer Signal Slot""",
    QtGui: """QAction QColor QFont QFontDatabase QGuiApplication QIcon QKeySequence QPainter
        QPalette QPen QShortcut QWheelEvent""",
    QtWidgets: """QAbstractButton QAbstractItemView QAbstractScrollArea QAbstractSlider
        QAbstractSpinBox QApplication QButtonGroup QCheckBox QComboBox
        QDateEdit QDialog QDialogButtonBox QFileDialog QFormLayout QFrame QGridLayout QGroupBox
        QHBoxLayout QHeaderView QLabel QLayout QLineEdit QListView QMainWindow QMessageBox QStyle
        QStyleOptionButton QStyleOptionSpinBox
        QPlainTextEdit QProgressBar QPushButton QRadioButton QScrollArea QScrollBar QSizePolicy QSpinBox
        QSplitter QStackedWidget QStatusBar QTableView QTextBrowser QTextEdit QToolButton QTreeView
        QVBoxLayout QWidget""",
}
_MODULE = {name: module for module, names in _NAMES.items() for name in names.split()}


def __getattr__(name: str):
    """A Qt name, fetched from its module on first use and kept here (PEP 562)."""
    try:
        module = _MODULE[name]
    except KeyError:
        raise AttributeError(f"ui.qt has no {name!r}; add it to _NAMES") from None
    value = globals()[name] = getattr(module, name)
    return value
