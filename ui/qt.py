"""The one place Tandem imports Qt (qutebrowser / Anki style): the binding and its quirks live here.

Only the Qt modules the app uses are imported, so a PyInstaller build can leave the rest out.
"""

from PySide6.QtCore import (  # noqa: F401
    QAbstractListModel, QAbstractTableModel, QEvent, QItemSelectionModel, QModelIndex, QObject,
    QPersistentModelIndex, QPoint, QRect, QRectF, QSize, QSortFilterProxyModel, Qt, QTimer,
    QTimeZone, Signal, Slot,
)
from PySide6.QtGui import (  # noqa: F401
    QAction, QColor, QFont, QFontDatabase, QGuiApplication, QIcon, QKeySequence, QPainter,
    QPalette, QPen, QShortcut,
)
from PySide6.QtWidgets import (  # noqa: F401
    QAbstractButton, QAbstractItemView, QApplication, QButtonGroup, QCheckBox, QComboBox,
    QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QFrame, QGridLayout, QGroupBox,
    QHBoxLayout, QHeaderView, QLabel, QLineEdit, QListView, QMainWindow, QMessageBox,
    QPlainTextEdit, QPushButton, QScrollArea, QSizePolicy, QSpinBox, QSplitter, QStackedWidget,
    QStatusBar, QTableView, QTextBrowser, QToolButton, QVBoxLayout, QWidget,
)
