"""Follow-ups: overdue, due today and upcoming; log an attempt in two clicks (select the row,
tap the outcome); the selected person's history beside the list."""

from datetime import date

from fieldapp import agency, followups, persons
from fieldapp.records import ATTEMPT_METHODS

from .context import Context
from .models import RowsListModel, RowsTableModel
from .qt import (QComboBox, QHBoxLayout, QLabel, QListView, Qt, QVBoxLayout, QWidget)
from .timefmt import day_clock
from .widgets import FieldErrors, button, heading, pretty, record_table, shortcut

QUICK_OUTCOMES = ("reached", "no_answer", "left_message", "completed")


def load(session, today: date | None = None) -> list[dict]:
    """Open follow-ups in working order (overdue, today, upcoming), each with who it is about."""
    today = today or agency.today(session.db)
    rows = []
    for when, found in (("Overdue", followups.overdue(session, today)),
                        ("Today", followups.due_today(session, today)),
                        ("Upcoming", followups.upcoming(session, today))):
        rows += [{**r, "when": when} for r in found]
    ids = sorted({r["person_id"] for r in rows})
    people = {}
    if ids:
        marks = ",".join("?" * len(ids))
        people = {p["id"]: persons.label(p) for p in session.db.query(
            f"SELECT id, kind, first_name, last_name, alias, description FROM person "
            f"WHERE id IN ({marks})", ids)}
    for r in rows:
        r["person"] = people.get(r["person_id"], "Unknown person")
    return rows


def history(session, person_id: str) -> dict:
    """The person (a view, audited) and everything logged about them."""
    return {"person": persons.view_person(session, person_id),
            "history": followups.person_history(session, person_id)}


class FollowUpsModel(RowsTableModel):
    COLUMNS = ("When", "Due", "Person", "Reason", "Priority")
    PersonRole = Qt.ItemDataRole.UserRole + 2

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        row = self.row_at(index)
        if role == self.PersonRole and row is not None:
            return row["person_id"]
        return super().data(index, role)

    def cells(self, row: dict) -> tuple:
        return (row["when"], date.fromisoformat(row["due_on"]).strftime("%a %d %b"),
                row["person"], pretty(row["reason"]), f"P{row['priority']}")


class HistoryModel(RowsListModel):
    def display(self, r: dict) -> str:
        at = day_clock(r["at"]) if "T" in (r["at"] or "") else r["at"]
        note = f"\n{r['note']}" if r.get("note") else ""
        return f"{at} · {pretty(r['kind'])}: {pretty(r['summary'])}{note}"


class FollowUpsView(QWidget):
    title = "Follow-ups"

    def __init__(self, ctx: Context):
        super().__init__()
        self.ctx = ctx
        self.errors = FieldErrors()
        self.model = FollowUpsModel()
        self.table = record_table(self.model, stretch=(2,))
        self.table.selectionModel().selectionChanged.connect(self._selected)
        self.method = QComboBox()
        for m in ATTEMPT_METHODS:
            self.method.addItem(pretty(m), m)
        self.outcome_buttons = {}
        outcomes = QHBoxLayout()
        method_row = QHBoxLayout()
        method_row.addWidget(QLabel("Log an attempt for the selected follow-up by"))
        method_row.addWidget(self.method)
        method_row.addStretch(1)
        for n, outcome in enumerate(QUICK_OUTCOMES, 1):
            b = button(pretty(outcome), lambda _=False, o=outcome: self.log(o),
                       name=f"outcome_{outcome}")
            b.setToolTip(f"Alt+{n}")
            self.outcome_buttons[outcome] = b
            outcomes.addWidget(b)
            shortcut(self, f"Log attempt: {pretty(outcome)}", f"Alt+{n}",
                     lambda _=False, o=outcome: self.log(o))
        self.history = HistoryModel()
        self.history_view = QListView()
        self.history_view.setModel(self.history)
        self.history_view.setWordWrap(True)
        self.person_label = QLabel("Select a follow-up to see the person's history.")
        self.person_label.setObjectName("subheading")
        self.person_label.setWordWrap(True)
        self.logged = QLabel()

        left = QVBoxLayout()
        left.addWidget(self.table, 1)
        left.addLayout(method_row)
        left.addLayout(outcomes)
        right = QVBoxLayout()
        right.addWidget(self.person_label)
        right.addWidget(self.history_view, 1)
        body = QHBoxLayout()
        body.addLayout(left, 3)
        body.addLayout(right, 2)
        top = QHBoxLayout()
        top.addWidget(heading("Follow-ups"), 1)
        top.addWidget(self.logged)
        v = QVBoxLayout(self)
        v.addLayout(top)
        v.addWidget(self.errors.general)
        v.addLayout(body, 1)
        ctx.watch(self, {"follow_up", "follow_up_attempt", "person"}, self.refresh)
        self.refresh()

    def refresh(self) -> None:
        self.ctx.tasks.db(load).success(self._show).run()

    def _show(self, rows: list[dict]) -> None:
        selected = self.selected_id()
        self.model.set_rows(rows)
        for n, row in enumerate(rows):
            if row["id"] == selected:
                self.table.selectRow(n)

    def selected_id(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.data(rows[0], FollowUpsModel.IdRole) if rows else None

    def _selected(self, *_args) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return
        person_id = self.model.data(rows[0], FollowUpsModel.PersonRole)
        self.ctx.tasks.db(history, person_id).success(self._show_history).run()

    def _show_history(self, found: dict) -> None:
        person = found["person"]
        cautions = f"\n⚠ {person['safety_cautions']}" if person.get("safety_cautions") else ""
        self.person_label.setText(f"{persons.label(person)}{cautions}")
        self.history.set_rows(found["history"])

    def log(self, outcome: str) -> None:
        self.errors.clear()
        follow_up_id = self.selected_id()
        if follow_up_id is None:
            self.errors.message("Select a follow-up first.")
            return
        self.ctx.tasks.db(followups.log_attempt, follow_up_id, self.method.currentData(),
                          outcome).success(lambda _: self._logged(outcome)).failure(
            self.errors.handle).run()

    def _logged(self, outcome: str) -> None:
        self.logged.setText(f"Logged: {pretty(outcome)}")
        self._selected()
