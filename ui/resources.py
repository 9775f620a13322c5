"""Resource lookup: search the local directory as you type, with filters; copy a phone or an
address with one click. The search runs on the DB worker, ~250 ms after typing pauses."""

import html

from fieldapp import crc_notice, directory

from .context import DIRECTORY, Context
from .models import RowsListModel
from .qt import (QAbstractItemView, QCheckBox, QComboBox, QGuiApplication, QHBoxLayout, QLabel,
                 QLineEdit, QListView, QModelIndex, Qt, QTimer, QVBoxLayout, QWidget)
from .timefmt import clock
from .widgets import WrappedLabel, button, fill_height, heading, shortcut, wrap_rows

SEARCH_DELAY_MS = 250
PHONE_KINDS = {"voice": "☎ Phone", "cell": "☎ Cell", "hotline": "☎ Hotline", "fax": "Fax",
               "text": "Text (SMS)", "textphone": "TTY", "pager": "Pager", "video": "Video"}


def search(session, text: str, filters: dict) -> list[dict]:
    """Results; a law-enforcement drop-off (the CRC) carries the status its staff last posted.
    Replaced in place, so they keep the query as searched (directory.Results)."""
    found = directory.search(session.db, text, **filters)
    if any(r.get("le_dropoff") for r in found):
        status = crc_notice.status(session.db)
        found[:] = [{**r, "crc_status": status} if r.get("le_dropoff") else r for r in found]
    return found


class ResultsModel(RowsListModel):
    def display(self, r: dict) -> str:
        lines = [f"{r['name']} — {r['organization']}"]
        lines.append(" · ".join(x for x in (r.get("hours_today"), _number(r),
                                            r.get("address")) if x))
        return "\n".join(lines)


def _number(result: dict) -> str:
    """The number to call (the core's choice: a voice line, never a fax), or ''."""
    phone = result.get("phone")
    return phone["number"] if phone else ""


class ResourcesView(QWidget):
    title = "Resources"

    def __init__(self, ctx: Context):
        super().__init__()
        self.ctx = ctx
        self.query = QLineEdit(placeholderText="Search services, organizations, needs… (Ctrl+F)")
        self.query.setObjectName("resourceSearch")
        self.query.setClearButtonEnabled(True)
        self.category = QComboBox()
        self.category.addItem("All categories", None)
        self.open_now = QCheckBox("Open now")
        self.twenty_four_seven = QCheckBox("24/7")
        self.le_dropoff = QCheckBox("Law-enforcement drop-off")
        self._timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS, timeout=self.search)
        self.query.textChanged.connect(self._timer.start)
        for box in (self.open_now, self.twenty_four_seven, self.le_dropoff):
            box.toggled.connect(self.search)
        self.category.currentIndexChanged.connect(self.search)

        self.results = ResultsModel()
        self.list = QListView()
        self.list.setModel(self.results)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        wrap_rows(self.list)
        self.list.selectionModel().currentChanged.connect(self._show_detail)
        self.count = QLabel()
        self.detail = WrappedLabel("Select a result to see its details.")
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.copy_phone = button("Copy phone (Ctrl+P)", self.copy_phone_number, name="copyPhone")
        self.copy_address = button("Copy address (Ctrl+D)", self.copy_address_text,
                                   name="copyAddress")
        self.copied = WrappedLabel()

        filters = QHBoxLayout()
        filters.addWidget(self.category)
        for box in (self.open_now, self.twenty_four_seven, self.le_dropoff):
            filters.addWidget(box)
        filters.addStretch(1)
        # The count goes by the heading: beside the filters (the widest row) it made the
        # screen too wide for 1024 px with a scroll bar.
        top = QHBoxLayout()
        top.addWidget(heading("Resources"))
        top.addStretch(1)
        top.addWidget(self.count)
        right = QVBoxLayout()
        right.addWidget(self.detail, 1)
        right.addWidget(self.copy_phone)  # one above the other: whole labels at 1024×768
        right.addWidget(self.copy_address)
        right.addWidget(self.copied)
        body = QHBoxLayout()
        body.addWidget(fill_height(self.list), 3)
        body.addLayout(right, 2)
        v = QVBoxLayout(self)
        v.addLayout(top)
        v.addWidget(self.query)
        v.addLayout(filters)
        v.addLayout(body, 1)
        shortcut(self, "Search the directory", "Ctrl+F", self.focus_search)
        shortcut(self, "Copy the selected result's phone", "Ctrl+P", self.copy_phone_number)
        shortcut(self, "Copy the selected result's address", "Ctrl+D", self.copy_address_text)
        self._set_copy_enabled(None)
        self.ctx.tasks.db(lambda s: directory.categories(s.db)).success(self._show_categories).run()
        ctx.watch(self, {DIRECTORY}, self.directory_changed)
        ctx.watch(self, {"crc_status"}, self.search)  # the CRC's status on its listing
        self.search()

    def refresh(self) -> None:
        self.search()

    def directory_changed(self) -> None:
        """A sync brought a new directory: the same search and filters, the same result kept
        selected if it is still there."""
        self.ctx.tasks.db(lambda s: directory.categories(s.db)).success(self._show_categories).run()
        self.search()

    def focus_search(self) -> None:
        self.query.setFocus()
        self.query.selectAll()

    def filters(self) -> dict:
        category = self.category.currentData()
        return {"categories": (category,) if category else (),
                "open_now": self.open_now.isChecked(),
                "twenty_four_seven": self.twenty_four_seven.isChecked(),
                "le_dropoff": self.le_dropoff.isChecked()}

    def search(self) -> None:
        self._timer.stop()
        text = self.query.text()
        self.ctx.tasks.db(search, text, self.filters()).success(
            lambda rows, t=text: self._show_results(t, rows)).run()

    def _show_results(self, text: str, rows: list[dict]) -> None:
        if text != self.query.text():
            return  # typing moved on; a newer search is queued
        selected = (self.selected() or {}).get("id")
        self.results.set_rows(rows)
        corrected = getattr(rows, "corrected_query", None)
        self.count.setText(f"{len(rows)} result{'s' if len(rows) != 1 else ''}"
                           + (f" for “{corrected}”" if corrected else ""))
        ids = [r.get("id") for r in rows]
        if rows:
            self.list.setCurrentIndex(self.results.index(
                ids.index(selected) if selected in ids else 0))
        else:
            self._show_detail(QModelIndex())

    def _show_categories(self, found: list[tuple[str, str]]) -> None:
        chosen = self.category.currentData()
        self.category.blockSignals(True)
        while self.category.count() > 1:  # "All categories" stays
            self.category.removeItem(1)
        for term_id, name in found:
            self.category.addItem(name, term_id)
        self.category.setCurrentIndex(max(0, self.category.findData(chosen)))
        self.category.blockSignals(False)

    def selected(self) -> dict | None:
        index = self.list.currentIndex()
        return self.results.data(index, ResultsModel.RowRole) if index.isValid() else None

    def _show_detail(self, *_args) -> None:
        r = self.selected()
        self._set_copy_enabled(r)
        if r is None:
            self.detail.setText("No result selected.")
            return
        phones = "\n".join(f"{PHONE_KINDS.get((p.get('type') or '').lower(), 'Phone')}: "
                           f"{p['number']}" + (f" ext. {p['extension']}" if p.get("extension")
                                               else "")
                           for p in r.get("phones") or [])
        parts = [f"<b>{_esc(r['name'])}</b><br>{_esc(r['organization'])}"]
        if r.get("le_dropoff"):
            parts.append(f"<b>{_esc(crc_notice.status_text(r.get('crc_status'), clock))}</b>")
        if r.get("hours_today"):
            parts.append(f"Today: {_esc(r['hours_today'])}")
        if phones:
            parts.append(_esc(phones).replace("\n", "<br>"))
        if r.get("address"):
            parts.append(_esc(r["address"]))
        if r.get("eligibility"):
            parts.append(f"Eligibility: {_esc(r['eligibility'])}")
        self.detail.setText("<br><br>".join(parts))

    def _set_copy_enabled(self, result: dict | None) -> None:
        self.copy_phone.setEnabled(bool(result and _number(result)))
        self.copy_address.setEnabled(bool(result and result.get("address")))

    def copy_phone_number(self) -> None:
        r = self.selected()
        if r and _number(r):
            self._copy(_number(r), "phone")

    def copy_address_text(self) -> None:
        r = self.selected()
        if r and r.get("address"):
            self._copy(r["address"], "address")

    def _copy(self, text: str, what: str) -> None:
        QGuiApplication.clipboard().setText(text)
        self.copied.setText(f"Copied {what}: {text}")


def _esc(text: str) -> str:
    return html.escape(str(text))
