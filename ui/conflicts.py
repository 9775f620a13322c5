"""Conflicts: the same field changed on two devices. Show both values; the user picks one.

Choosing writes the chosen value through fieldapp.changes.patch (so it syncs like any edit)
and a conflict_resolution record, which marks the conflict resolved here and, once synced, on
every laptop that holds it (fieldapp.review.resolve_conflict), in one transaction.
"""

import json

from fieldapp import labels, review

from .context import Context
from .models import RowsTableModel
from .qt import QHBoxLayout, QVBoxLayout, QWidget
from .timefmt import day_clock
from .widgets import (FieldErrors, WrappedLabel, button, fit_row_heights, heading, record_table,
                      shortcut)


decode = review.decode_value


def resolve(session, conflict_id: str, choice: str) -> None:
    """choice 'kept' or 'other': write that value and a resolution that syncs to every laptop."""
    review.resolve_conflict(session, conflict_id, choice)


class ConflictsModel(RowsTableModel):
    COLUMNS = ("Record", "Field", "Kept value", "Other device's value", "Detected")

    def cells(self, row: dict) -> tuple:
        return (f"{labels.text(row['table_name'])} …{row['record_id'][-6:]}",
                labels.text(row["field"]),
                _shown(row["kept_value"]), _shown(row["other_value"]),
                day_clock(row["detected_at"]))


def _shown(text: str | None) -> str:
    if text is None:
        return "(empty)"
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return "(empty)" if value is None else str(value)


class ConflictsView(QWidget):
    title = "Conflicts"

    def __init__(self, ctx: Context):
        super().__init__()
        self.ctx = ctx
        self.errors = FieldErrors()
        self.model = ConflictsModel()
        self.table = record_table(self.model, stretch=(2, 3))
        fit_row_heights(self.table)  # long text wraps, never cut off
        self.empty = WrappedLabel("No conflicts waiting. When the same field is changed on two "
                                  "devices, both values appear here for you to choose.")
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(button("Keep the current value (Alt+K)", lambda: self.choose("kept"),
                             name="keepKept"))
        row.addWidget(button("Use the other value (Alt+O)", lambda: self.choose("other"),
                             name="useOther", primary=True))
        v = QVBoxLayout(self)
        v.addWidget(heading("Conflicts"))
        v.addWidget(self.errors.general)
        v.addWidget(self.empty)
        v.addWidget(self.table, 1)
        v.addLayout(row)
        shortcut(self, "Keep the kept value", "Alt+K", lambda: self.choose("kept"))
        shortcut(self, "Use the other device's value", "Alt+O", lambda: self.choose("other"))
        ctx.watch(self, {"conflict", "conflict_resolution"}, self.refresh)
        self.refresh()

    def refresh(self) -> None:
        self.ctx.tasks.db(review.open_conflicts).success(self._show).run()

    def _show(self, rows: list[dict]) -> None:
        selected = self.selected_id()
        self.model.set_rows(rows)
        self.empty.setVisible(not rows)
        ids = [r["id"] for r in rows]
        if rows:
            self.table.selectRow(ids.index(selected) if selected in ids else 0)

    def selected_id(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.data(rows[0], ConflictsModel.IdRole) if rows else None

    def choose(self, choice: str) -> None:
        self.errors.clear()
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            self.errors.message("Select a conflict first.")
            return
        conflict_id = self.model.data(rows[0], ConflictsModel.IdRole)
        self.ctx.tasks.db(resolve, conflict_id, choice).failure(self.errors.handle).run()
