"""Encounters to come back to: this shift's, or the team's of the last two weeks, searchable by
person, place and CAD number. Selecting one shows the call's record (every note, with who
wrote it and when); from there it opens in the encounter form to add what the reader's role
may write, goes to a CRC drop-off, or is joined to another record of the same call."""

from fieldapp import encounters

from .callrecord import CallRecordView
from .context import Context
from .models import RowsTableModel
from .qt import (QButtonGroup, QHBoxLayout, QLabel, QLineEdit, QSplitter, Qt, QTimer,
                 QVBoxLayout, QWidget)
from .timefmt import day_clock
from .widgets import FieldErrors, button, heading, pretty, record_table, shortcut

SEARCH_DELAY_MS = 250
SIDE_BY_SIDE_PX = 1000  # the screen's width from which the record sits beside the list


class EncountersModel(RowsTableModel):
    COLUMNS = ("Started", "Call", "People", "Notes")

    def cells(self, row: dict) -> tuple:
        call = " · ".join(x for x in (row.get("cad"), row.get("place"),
                                       pretty(row["presenting_situation"])) if x)
        notes = []
        if row.get("police_note"):
            notes.append("police")
        if row["clinical_notes"]:
            notes.append(f"{row['clinical_notes']} clinical")
        if row["joined"]:
            notes.append(f"+{row['joined']} joined")
        return (day_clock(row["started_at"]), call, ", ".join(row["people"]) or "—",
                ", ".join(notes) or "—")


class EncountersView(QWidget):
    title = "Recent encounters"

    def __init__(self, ctx: Context):
        super().__init__()
        self.ctx = ctx
        self.joining: dict | None = None  # the first record picked for "same call"
        self.errors = FieldErrors()
        self.search = QLineEdit(placeholderText="Search by person, place or CAD number")
        self.search.setObjectName("encounterSearch")
        self.search.setClearButtonEnabled(True)
        self._timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS,
                             timeout=self.refresh)
        self.search.textChanged.connect(lambda _: self._timer.start())
        self.scope = QButtonGroup(self)
        self.shift_button = button("This shift", name="scopeShift", checkable=True)
        self.team_button = button("Team, last 14 days", name="scopeTeam", checkable=True)
        for b in (self.shift_button, self.team_button):
            b.setProperty("toggle", True)
            self.scope.addButton(b)
        self.team_button.setChecked(True)
        self.scope.buttonClicked.connect(lambda _: self.refresh())

        self.model = EncountersModel()
        self.table = record_table(self.model, stretch=(1,))
        self.table.selectionModel().selectionChanged.connect(self._selected)
        self.table.doubleClicked.connect(lambda _: self.open_selected())
        self.record = CallRecordView("Select an encounter to read it.")
        self.split = split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.table)
        split.addWidget(self.record)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setChildrenCollapsible(False)

        self.open_button = button("Open to add (Ctrl+O)", self.open_selected,
                                  name="openEncounter", primary=True)
        self.join_button = button("Same call as… (Ctrl+J)", self.join, name="joinEncounter")
        self.crc_button = button("CRC drop-off", self.to_crc, name="encounterCrc")
        self.cancel_join = button("Cancel", self._end_join, name="cancelJoin")
        self.cancel_join.hide()
        self.empty = QLabel()
        self.empty.hide()

        top = QHBoxLayout()
        top.addWidget(heading("Encounters"), 1)
        top.addWidget(self.shift_button)
        top.addWidget(self.team_button)
        actions = QHBoxLayout()
        actions.addWidget(self.join_button)
        actions.addWidget(self.cancel_join)
        actions.addWidget(self.crc_button)
        actions.addStretch(1)
        actions.addWidget(self.open_button)
        v = QVBoxLayout(self)
        v.addLayout(top)
        v.addWidget(self.search)
        v.addWidget(self.errors.general)
        v.addWidget(self.empty)
        v.addWidget(split, 1)
        v.addLayout(actions)
        shortcut(self, "Search encounters", "Ctrl+F", self.search.setFocus)
        shortcut(self, "Open the selected encounter to add to it", "Ctrl+O", self.open_selected)
        shortcut(self, "Join the selected encounter with another record of the same call",
                 "Ctrl+J", self.join)
        ctx.watch(self, {"encounter", "clinical_note", "crc_dropoff", "assignment", "person"},
                  self.refresh)
        ctx.shift_changed.connect(self._shift_changed)
        self._shift_changed(ctx.shift)

    def resizeEvent(self, event) -> None:
        """Side by side where the list keeps room for the call; the record under it on a
        narrow screen (1024 px)."""
        wide = event.size().width() >= SIDE_BY_SIDE_PX
        orientation = Qt.Orientation.Horizontal if wide else Qt.Orientation.Vertical
        if orientation != self.split.orientation():
            self.split.setOrientation(orientation)
            room = event.size().width() if wide else event.size().height()
            self.split.setSizes([room * 3 // 5, room * 2 // 5] if wide else [room // 3, room])
        super().resizeEvent(event)

    def _shift_changed(self, shift) -> None:
        self.shift_button.setEnabled(bool(shift))
        (self.shift_button if shift else self.team_button).setChecked(True)
        self.refresh()

    def refresh(self) -> None:
        shift_id = self.ctx.shift_id if self.shift_button.isChecked() else None
        self.ctx.tasks.db(encounters.listing, self.search.text(), shift_id).success(
            self._show).run()

    def _show(self, rows: list[dict]) -> None:
        selected = self.selected_id()
        self.model.set_rows(rows)
        self.empty.setText("No encounters match." if self.search.text().strip() else
                           "No encounters yet." if not rows else "")
        self.empty.setVisible(not rows)
        for n, row in enumerate(rows):
            if row["id"] == selected:
                self.table.selectRow(n)
                return
        self.record.show_call(None)

    def selected_id(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.data(rows[0], EncountersModel.IdRole) if rows else None

    def _selected(self, *_args) -> None:
        encounter_id = self.selected_id()
        if encounter_id:  # reading the record is a view, audited
            self.ctx.tasks.db(encounters.record_of_call, encounter_id).success(
                lambda call, i=encounter_id: i == self.selected_id() and
                self.record.show_call(call)).run()

    def _need_selection(self) -> str | None:
        self.errors.clear()
        encounter_id = self.selected_id()
        if encounter_id is None:
            self.errors.message("Select an encounter first.")
        return encounter_id

    def open_selected(self) -> None:
        """The selected encounter in the form, to add the reader's note or fields."""
        encounter_id = self._need_selection()
        if encounter_id:
            self.window().show_screen("encounter").open_encounter(encounter_id)

    def to_crc(self) -> None:
        encounter_id = self._need_selection()
        if encounter_id:
            self.window().show_screen("crc").start_from_encounter(encounter_id)

    def join(self) -> None:
        """Two steps: pick one record, press Same call as…, pick the other, press Join."""
        encounter_id = self._need_selection()
        if not encounter_id:
            return
        if self.joining is None:
            self.joining = next(r for r in self.model.rows if r["id"] == encounter_id)
            self.errors.message(f"Now select the other record of the call started "
                                f"{day_clock(self.joining['started_at'])}, then press Join.")
            self.join_button.setText("Join with this one (Ctrl+J)")
            self.cancel_join.show()
            return
        first = self.joining["id"]
        self._end_join()
        self.ctx.tasks.db(encounters.join, first, encounter_id).success(self._joined).failure(
            self.errors.handle).run()

    def _joined(self, kept: str) -> None:
        self.errors.message("Joined: one call, one record, every note kept.")

    def _end_join(self) -> None:
        self.joining = None
        self.join_button.setText("Same call as… (Ctrl+J)")
        self.cancel_join.hide()
        self.errors.clear()
