"""What the acceptance suite (tests/e2e) reads of a running app, as qutebrowser's end2end tests
read the app's own log. Off unless TANDEM_PROBE names a file; then the app appends JSON lines:

- ``ready``: pid, Qt platform, screen size; once, at start
- ``window``: a top-level window shown or hidden (class, objectName, title)
- ``dialog``: every message box shown: title, text, informative text, buttons, details
- ``screen``: a main-window screen shown (its key, e.g. "assignments"), or the lock screen
- ``sync``: a sync finished: ok and its summary, or the error's class and message
- ``traceback``: an uncaught exception
- ``widgets``: the answer to a request (below)

A request is a file at TANDEM_PROBE + ".request" holding ``{"id": N, "find": [regex, ...]}``;
the app reads and removes it (polled every 100 ms) and answers with every visible window and,
in each, every visible widget that has an objectName or that a user reads or works (buttons,
labels, fields, lists, scroll bars): class, objectName, global geometry (whole and the part
not scrolled away), enabled, checked, focus, size hints, its accessible name, and its text
where that is the app's own words. Never written: a password, a token, what was typed into a
text field (only its length), or the text of list and table rows, which can hold notes (only
which of the request's ``find`` patterns each row matches; "." in them crosses line breaks).
"""

import json
import os
import re
import sys
import threading
import time
import traceback

from .qt import (QAbstractButton, QAbstractItemView, QAbstractSpinBox, QApplication, QCheckBox,
                 QComboBox, QEvent, QGroupBox, QLabel, QLineEdit, QMessageBox, QModelIndex,
                 QObject, QPlainTextEdit, QRadioButton, QRect, QScrollBar, QStackedWidget, QStyle,
                 QStyleOptionButton, QStyleOptionSpinBox, Qt, QTableView, QTextEdit, QTimer,
                 QWidget)

ENV = "TANDEM_PROBE"
POLL_MS = 100
MAX_ROWS = 300  # rows described per list or table: what a screen can show, with room

_probe: "Probe | None" = None


def install(app: QApplication) -> None:
    """Start probing when TANDEM_PROBE is set; otherwise do nothing at all."""
    global _probe
    path = os.environ.get(ENV)
    if path and _probe is None:
        _probe = Probe(app, path)


def event(kind: str, **fields) -> None:
    """Record an event the app itself knows about (a sync finished); a no-op when off."""
    if _probe is not None:
        _probe.write(kind, **fields)


class Probe(QObject):
    def __init__(self, app: QApplication, path: str):
        super().__init__(app)
        self._lock = threading.Lock()
        self._file = open(path, "a", encoding="utf-8")
        self._request = path + ".request"
        screen = app.primaryScreen().geometry()
        self.write("ready", pid=os.getpid(), platform=app.platformName(),
                   screen=[screen.width(), screen.height()])
        app.installEventFilter(self)
        previous = sys.excepthook

        def hook(kind, value, tb):
            self.write("traceback", text="".join(traceback.format_exception(kind, value, tb)))
            previous(kind, value, tb)

        sys.excepthook = hook
        self._timer = QTimer(self, interval=POLL_MS, timeout=self._poll)
        self._timer.start()

    def write(self, kind: str, **fields) -> None:
        line = json.dumps({"event": kind, "t": round(time.time(), 3), **fields}, default=str)
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()

    # -- events
    def eventFilter(self, watched, ev) -> bool:
        kind = ev.type()
        if kind not in (QEvent.Type.Show, QEvent.Type.Hide) or not isinstance(watched, QWidget):
            return False
        if watched.isWindow():
            self.write("window", shown=kind == QEvent.Type.Show, **_window_fields(watched))
            if kind == QEvent.Type.Show and isinstance(watched, QMessageBox):
                self.write("dialog", **_window_fields(watched), icon=watched.icon().name,
                           text=watched.text(),
                           informative=watched.informativeText(),
                           buttons=[b.text() for b in watched.buttons()],
                           details=watched.detailedText())
        elif kind == QEvent.Type.Show and isinstance(watched.parentWidget(), QStackedWidget):
            key = _screen_key(watched)
            if key:
                view = (getattr(watched.window(), "views", None) or {}).get(key, watched)
                self.write("screen", key=key, title=getattr(view, "title", key))
        return False

    # -- requests
    def _poll(self) -> None:
        if not os.path.exists(self._request):
            return
        try:
            with open(self._request, encoding="utf-8") as f:
                request = json.load(f)
            os.remove(self._request)
        except (OSError, ValueError):
            return  # half written: read it on the next poll
        try:
            # "." crosses a cell's line break: a row reads as one text ("MHST-11 · Mon\nReturned")
            patterns = [re.compile(p, re.DOTALL) for p in request.get("find", [])]
            app = QApplication.instance()
            focus = app.focusWidget()
            windows = [w for w in app.topLevelWidgets() if w.isVisible()]
            self.write("widgets", id=request.get("id"),
                       focus=_name(focus) if focus is not None else None,
                       windows=[_describe_window(w, n, patterns) for n, w in enumerate(windows)])
        except Exception:  # the probe's own failure is the suite's to report, not the app's
            self.write("widgets", id=request.get("id"), error=traceback.format_exc())


def _screen_key(page: QWidget) -> str:
    """The main window's key for a page of its screen stack (the area a screen scrolls in), or
    a named page (the lock)."""
    scrolls = getattr(page.window(), "scrolls", None) or {}
    for key, area in scrolls.items():
        if area is page:
            return key
    return page.objectName()


def _busy(window: QWidget) -> bool:
    """Work queued on the window's workers, or a result not yet shown."""
    tasks = getattr(window, "tasks", None)
    return tasks is not None and not getattr(tasks, "idle", True)


def _current_screen(window: QWidget) -> str | None:
    """The key of the main window's screen now visible, if this window has screens."""
    views = getattr(window, "views", None) or {}
    return next((key for key, view in views.items() if view.isVisible()), None)


def _name(w: QWidget) -> str:
    return w.objectName() or type(w).__name__


def _rect(r: QRect) -> list[int]:
    return [r.x(), r.y(), r.width(), r.height()]


def _global(w: QWidget, r: QRect) -> list[int]:
    top_left = w.mapToGlobal(r.topLeft())
    return [top_left.x(), top_left.y(), r.width(), r.height()]


def _class(w: QWidget) -> str:
    """The widget's own class, Qt's private ones too (a combo box's popup list)."""
    return w.metaObject().className()


def _kinds(w: QWidget) -> list[str]:
    """The widget's class and the Qt classes it derives from (a WrappedLabel is a QLabel)."""
    kinds, meta = [], w.metaObject()
    while meta is not None and meta.className() != "QObject":
        kinds.append(meta.className())
        meta = meta.superClass()
    return kinds


def _window_fields(w: QWidget) -> dict:
    return {"class": _class(w), "name": w.objectName(), "title": w.windowTitle()}


def _describe_window(w: QWidget, index: int, patterns) -> dict:
    out = {**_window_fields(w), "index": index, "wid": int(w.winId()),
           "rect": _rect(w.frameGeometry()),
           "inner": _rect(w.geometry()), "active": w.isActiveWindow(),
           "modal": w.isModal(), "screen": _current_screen(w), "busy": _busy(w),
           "widgets": []}
    pages = {view: key for key, view in (getattr(w, "views", None) or {}).items()}
    for child in [w, *w.findChildren(QWidget)]:  # a dialog's widgets belong to the dialog
        if child.isVisible() and child.window() is w and _wanted(child):
            described = _describe(child, index, patterns)
            described["screen"] = _page_of(child, pages)
            out["widgets"].append(described)
    return out


def _page_of(w: QWidget, pages: dict) -> str | None:
    """The key of the main window's screen the widget is on, if it is on one."""
    while w is not None:
        if w in pages:
            return pages[w]
        w = w.parentWidget()
    return None


_READ = (QAbstractButton, QLabel, QLineEdit, QPlainTextEdit, QTextEdit, QComboBox,
         QAbstractSpinBox, QAbstractItemView, QScrollBar, QGroupBox)


def _wanted(w: QWidget) -> bool:
    name = w.objectName()
    if name.startswith("qt_"):
        return isinstance(w, _READ)
    return bool(name) or isinstance(w, _READ)


def _describe(w: QWidget, window: int, patterns) -> dict:
    shown = w.visibleRegion().boundingRect()
    d = {"name": w.objectName(), "class": _class(w), "kinds": _kinds(w), "window": window,
         "rect": _global(w, w.rect()), "shown": _global(w, shown) if not shown.isEmpty() else None,
         "enabled": w.isEnabled(), "focus": w.hasFocus(),
         "hint": [w.sizeHint().width(), w.sizeHint().height()]}
    if w.accessibleName():  # what a screen reader says for it (a "⚙" button says "Settings")
        d["accessible"] = w.accessibleName()
    if isinstance(w, QAbstractButton):
        d.update(text=w.text(), checkable=w.isCheckable(), checked=w.isChecked())
        if isinstance(w, (QCheckBox, QRadioButton)):
            d["click_area"] = _click_area(w)
    elif isinstance(w, QLabel):
        d.update(text=w.text(), wrap=w.wordWrap())
    elif isinstance(w, QLineEdit):
        d.update(length=len(w.text()), placeholder=w.placeholderText(),
                 password=w.echoMode() != QLineEdit.EchoMode.Normal, editable=not w.isReadOnly())
    elif isinstance(w, (QPlainTextEdit, QTextEdit)):
        d.update(length=len(w.toPlainText()), editable=not w.isReadOnly())
        if w.isReadOnly():  # the app's own text (help, a report's details), never a note typed
            d["text"] = w.toPlainText()
        d["scrollbars"] = _scrollbars(w)
    elif isinstance(w, QComboBox):
        d.update(text=w.currentText(), items=[w.itemText(n) for n in range(w.count())],
                 popup_open=w.view().isVisible())
    elif isinstance(w, QAbstractSpinBox):
        d.update(text=w.text(), arrows=_spin_arrows(w))
    elif isinstance(w, QScrollBar):
        d.update(value=w.value(), minimum=w.minimum(), maximum=w.maximum(),
                 horizontal=w.orientation() == Qt.Orientation.Horizontal)
    elif isinstance(w, QGroupBox):
        d.update(text=w.title())
    elif isinstance(w, QAbstractItemView):
        d.update(_item_view(w, patterns))
    return d


def _scrollbars(w) -> dict:
    return {"horizontal": w.horizontalScrollBar().isVisible(),
            "vertical": w.verticalScrollBar().isVisible()}


def _click_area(w) -> list[int]:
    """Where a click toggles a check box or radio button: its box and its words."""
    option = QStyleOptionButton()
    w.initStyleOption(option)
    element = (QStyle.SubElement.SE_CheckBoxClickRect if isinstance(w, QCheckBox)
               else QStyle.SubElement.SE_RadioButtonClickRect)
    return _global(w, w.style().subElementRect(element, option, w))


def _spin_arrows(w: QAbstractSpinBox) -> list[list[int]]:
    option = QStyleOptionSpinBox()
    w.initStyleOption(option)
    style = w.style()
    return [_global(w, style.subControlRect(QStyle.ComplexControl.CC_SpinBox, option, sub, w))
            for sub in (QStyle.SubControl.SC_SpinBoxUp, QStyle.SubControl.SC_SpinBoxDown)]


def _item_view(view: QAbstractItemView, patterns) -> dict:
    """Rows' geometry and which request patterns each matches; never the rows' text."""
    model = view.model()
    viewport = view.viewport()
    port = viewport.rect()
    root = QModelIndex()
    table = isinstance(view, QTableView)
    count = model.rowCount(root) if model is not None else 0
    columns = ([c for c in range(model.columnCount(root)) if not view.isColumnHidden(c)]
               if table and model is not None else [getattr(view, "modelColumn", int)()])
    rows = []
    for r in range(min(count, MAX_ROWS)):
        area = QRect()
        texts = []
        for c in columns:
            index = model.index(r, c)
            area = area.united(view.visualRect(index))
            value = model.data(index)
            texts.append("" if value is None else str(value))
        text = " | ".join(texts)
        seen = area.intersected(port)
        rows.append({"row": r, "rect": _global(viewport, area),
                     "shown": _global(viewport, seen) if not seen.isEmpty() else None,
                     "match": [n for n, p in enumerate(patterns) if p.search(text)]})
    selection = view.selectionModel()
    out = {"rows": rows, "row_count": count,
           "viewport": _global(viewport, port),
           "current": view.currentIndex().row() if view.currentIndex().isValid() else None,
           "selected": sorted({i.row() for i in selection.selectedIndexes()}) if selection else [],
           "scrollbars": _scrollbars(view)}
    if table:
        header = view.horizontalHeader()
        out["columns"] = [{"title": model.headerData(c, Qt.Orientation.Horizontal),
                           "width": header.sectionSize(c), "title_width": header.sectionSizeHint(c),
                           "content_width": view.sizeHintForColumn(c)} for c in columns]
    return out

