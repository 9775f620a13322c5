"""Assignments: the unit's open calls and tasks with priority and age; acknowledge, take, clear.
Each shows its APCO common incident type; the list can be grouped by it."""

from fieldapp import apco, assignments, labels
from fieldapp.records import ASSIGNMENT_DISPOSITIONS

from .context import Context
from .models import RowsTableModel
from .qt import (QCheckBox, QComboBox, QHBoxLayout, QHeaderView, QLabel, QVBoxLayout, QWidget)
from .timefmt import age
from .widgets import (FieldErrors, WrappedLabel, button, fill_height, fit_row_heights, heading,
                      record_table, shortcut)


class AssignmentsModel(RowsTableModel):
    COLUMNS = ("Priority", "Age", "Type", "Summary", "Place", "Status")

    def cells(self, row: dict) -> tuple:
        return (f"P{row['priority']}", age(row["age_minutes"]),
                row.get("apco_incident_type") or apco.UNMAPPED,
                (f"[{row['cad_incident']}] " if row.get("cad_incident") else "") + row["summary"],
                row.get("place") or "", labels.text(row["status"]))


def grouped(rows: list[dict]) -> tuple[list[dict], str]:
    """The rows with each APCO incident type together (largest group first), and a line
    counting each group."""
    groups = assignments.by_incident_type(rows)
    return ([row for _, found in groups for row in found],
            "   ·   ".join(f"{label}: {len(found)}" for label, found in groups))


class AssignmentsView(QWidget):
    title = "Assignments"

    def __init__(self, ctx: Context):
        super().__init__()
        self.ctx = ctx
        self.model = AssignmentsModel()
        self.table = record_table(self.model, stretch=(3,))
        fit_row_heights(self.table)  # long text wraps, never cut off
        self.table.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().resizeSection(4, 260)
        self.group = QCheckBox("Group by APCO type")
        self.group.setToolTip("Put calls of the same APCO common incident type together")
        self.group.toggled.connect(self.refresh)
        self.groups = WrappedLabel()
        self.errors = FieldErrors()
        self.disposition = QComboBox()
        self.disposition.addItem("Disposition…", None)
        for d in ASSIGNMENT_DISPOSITIONS:
            self.disposition.addItem(labels.text(d), d)
        self.ack_button = button("Acknowledge (Ctrl+K)", self.acknowledge, name="acknowledge")
        self.take_button = button("Take (Ctrl+T)", self.take, name="take")
        self.clear_button = button("Clear (Ctrl+L)", self.clear, name="clear", primary=True)
        self.encounter_button = button("Encounter (Ctrl+E)", self.start_encounter,
                                       name="startEncounter")
        self.empty = QLabel("No open assignments for your unit.")
        actions = QHBoxLayout()  # two rows: whole labels on a 1024×768 screen
        actions.addWidget(self.ack_button)
        actions.addWidget(self.take_button)
        actions.addWidget(self.encounter_button)
        actions.addStretch(1)
        closing = QHBoxLayout()
        closing.addWidget(QLabel("Clear with"))
        closing.addWidget(self.disposition, 1)
        closing.addWidget(self.clear_button)
        v = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(heading("Assignments"), 1)
        top.addWidget(self.group)
        v.addLayout(top)
        v.addWidget(self.groups)
        v.addWidget(self.errors.general)
        v.addWidget(self.empty)
        v.addWidget(fill_height(self.table), 1)
        v.addLayout(actions)
        v.addLayout(closing)
        v.addWidget(self.errors.label("disposition"))
        shortcut(self, "Acknowledge the selected assignment", "Ctrl+K", self.acknowledge)
        shortcut(self, "Take the selected assignment", "Ctrl+T", self.take)
        shortcut(self, "Clear the selected assignment with the disposition", "Ctrl+L", self.clear)
        shortcut(self, "Start an encounter for the selected assignment", "Ctrl+E",
                 self.start_encounter)
        ctx.watch(self, {"assignment", "shift"}, self.refresh)
        self.refresh()

    def refresh(self) -> None:
        self.ctx.tasks.db(assignments.open_assignments, self.ctx.unit).success(self._show).run()

    def _show(self, rows: list[dict]) -> None:
        selected = self.selected_id()
        counts = ""
        if self.group.isChecked():
            rows, counts = grouped(rows)
        self.groups.setText(counts)
        self.groups.setVisible(bool(counts))
        self.model.set_rows(rows)
        self.empty.setVisible(not rows)
        for n, row in enumerate(rows):
            if row["id"] == selected:
                self.table.selectRow(n)

    def selected_id(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.data(rows[0], AssignmentsModel.IdRole) if rows else None

    def acknowledge(self) -> None:
        self._act(assignments.acknowledge)

    def take(self) -> None:
        if not self.ctx.unit:
            self.errors.message("Start a shift first: taking an assignment needs your unit.")
            return
        self._act(assignments.take, self.ctx.unit, self.ctx.shift_id)

    def clear(self) -> None:
        self._act(assignments.clear, self.disposition.currentData() or "")

    def start_encounter(self) -> None:
        """Open the encounter form, linked to the selected assignment."""
        self.errors.clear()
        assignment_id = self.selected_id()
        if assignment_id is None:
            self.errors.message("Select an assignment first.")
            return
        self.window().show_screen("encounter").start_from_assignment(assignment_id)

    def _act(self, fn, *args) -> None:
        self.errors.clear()
        assignment_id = self.selected_id()
        if assignment_id is None:
            self.errors.message("Select an assignment first.")
            return
        self.ctx.tasks.db(fn, assignment_id, *args).success(self._done).failure(self.errors.handle).run()

    def _done(self, _result) -> None:
        self.disposition.setCurrentIndex(0)  # the list redraws from the change signal
