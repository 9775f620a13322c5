"""Follow-ups: overdue, due today and upcoming; log an attempt in two clicks (select the row,
tap the outcome), with a note if there is something to say; the selected person's history
under the list."""

from fieldapp import followups, labels, persons
from fieldapp.records import ATTEMPT_METHODS

from .context import Context
from .models import RowsListModel, RowsTableModel
from .qt import (QComboBox, QGridLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QListView, Qt,
                 QVBoxLayout, QWidget)
from .timefmt import day, day_or_time
from .widgets import (FieldErrors, WrappedLabel, button, fill_height, fit_row_heights, heading,
                      record_table, shortcut, wrap_rows)

QUICK_OUTCOMES = ("reached", "no_answer", "left_message", "completed")


def history(session, person_id: str) -> dict:
    """The person (a view, audited) and everything logged about them."""
    return {"person": persons.view_person(session, person_id),
            "history": followups.person_history(session, person_id)}


class FollowUpsModel(RowsTableModel):
    COLUMNS = ("When", "Due", "Person", "Reason", "Priority")
    PersonRole = Qt.ItemDataRole.UserRole + 2

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if role == self.PersonRole:
            row = self.row_at(index)
            return row["person_id"] if row is not None else None
        return super().data(index, role)

    def cells(self, row: dict) -> tuple:
        return (row["when"], day(row["due_on"]), row["person"], labels.text(row["reason"]),
                f"P{row['priority']}")


class HistoryModel(RowsListModel):
    def display(self, r: dict) -> str:
        note = f"\n{r['note']}" if r.get("note") else ""
        return (f"{day_or_time(r['at'])} · {labels.text(r['kind'])}: "
                f"{labels.text(r['summary'])}{note}")


NO_PERSON = "Select a follow-up to see the person's history."
EMPTY = ("No follow-ups for you now. When a supervisor assigns one, or the CRC's discharge "
         "list names someone your team has met, it shows here after the next sync (F5): "
         "select it, then tap how the attempt went.")


class FollowUpsView(QWidget):
    """The list across the top; below it, the selected person's history beside the attempt
    (how, a note, the outcome): everything fits 1024×768 with whole labels."""

    title = "Follow-ups"

    def __init__(self, ctx: Context):
        super().__init__()
        self.ctx = ctx
        self.errors = FieldErrors()
        self.model = FollowUpsModel()
        self.table = record_table(self.model, stretch=(2,))
        fit_row_heights(self.table)  # long text wraps, never cut off
        self.table.selectionModel().selectionChanged.connect(self._selected)
        self.empty = WrappedLabel(EMPTY)
        self.empty.setObjectName("followUpsEmpty")
        self.empty.hide()
        self.method = QComboBox()
        self.method.setObjectName("attemptMethod")
        for m in ATTEMPT_METHODS:
            self.method.addItem(labels.text(m), m)
        self.note = QLineEdit(placeholderText="Note (optional): what was said, what is next")
        self.note.setObjectName("attemptNote")
        self.outcome_buttons = {}
        self._busy = False
        outcomes = QGridLayout()
        for n, outcome in enumerate(QUICK_OUTCOMES, 1):
            b = button(f"{labels.text(outcome)}  Alt+{n}", lambda _=False, o=outcome: self.log(o),
                       name=f"outcome_{outcome}")
            self.outcome_buttons[outcome] = b
            outcomes.addWidget(b, (n - 1) // 2, (n - 1) % 2)
            shortcut(self, f"Log attempt: {labels.text(outcome)}", f"Alt+{n}",
                     lambda _=False, o=outcome: self.log(o))
        self.history = HistoryModel()
        self.history_view = QListView()
        self.history_view.setObjectName("personHistory")
        self.history_view.setModel(self.history)
        wrap_rows(self.history_view)
        self.person_label = WrappedLabel(NO_PERSON)
        self.person_label.setObjectName("subheading")
        self.logged = QLabel()

        attempt = QGroupBox("Log an attempt for the selected follow-up")
        a = QVBoxLayout(attempt)
        how = QHBoxLayout()
        how.addWidget(QLabel("By"))
        how.addWidget(self.method, 1)
        a.addLayout(how)
        a.addWidget(self.note)
        a.addLayout(outcomes)
        a.addStretch(1)
        person = QVBoxLayout()
        person.addWidget(self.person_label)
        person.addWidget(fill_height(self.history_view), 1)
        below = QHBoxLayout()
        below.addLayout(person, 1)
        below.addWidget(attempt)
        top = QHBoxLayout()
        top.addWidget(heading("Follow-ups"), 1)
        top.addWidget(self.logged)
        v = QVBoxLayout(self)
        v.addLayout(top)
        v.addWidget(self.errors.general)
        v.addWidget(self.empty)
        v.addWidget(fill_height(self.table), 1)
        v.addLayout(below, 1)
        ctx.watch(self, {"follow_up", "follow_up_attempt", "person"}, self.refresh)
        self.refresh()

    def refresh(self) -> None:
        self.ctx.tasks.db(followups.worklist).success(self._show).run()

    def _show(self, rows: list[dict]) -> None:
        selected = self.selected_id()
        self.model.set_rows(rows)
        self.empty.setVisible(not rows)
        for n, row in enumerate(rows):
            if row["id"] == selected:
                self.table.selectRow(n)
        if self.selected_id() is None:  # a reset model says nothing of the selection it lost
            self._selected()

    def selected_id(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.data(rows[0], FollowUpsModel.IdRole) if rows else None

    def _selected(self, *_args) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:  # the row left the list: no one's history stays on show
            self.person_label.setText(NO_PERSON)
            self.history.set_rows([])
            return
        self.errors.clear()  # "Select a follow-up first." is answered
        person_id = self.model.data(rows[0], FollowUpsModel.PersonRole)
        self.ctx.tasks.db(history, person_id).success(self._show_history).run()

    def _show_history(self, found: dict) -> None:
        person = found["person"]
        cautions = f"\n⚠ {person['safety_cautions']}" if person.get("safety_cautions") else ""
        self.person_label.setText(f"{persons.label(person)}{cautions}")
        self.history.set_rows(found["history"])

    def log(self, outcome: str) -> None:
        if self._busy:  # the last press (or Alt+N) is still being logged
            return
        self.errors.clear()
        follow_up_id = self.selected_id()
        if follow_up_id is None:
            self.errors.message("Select a follow-up first.")
            return
        self._logging(True)  # an impatient second press logs nothing more
        self.ctx.tasks.db(followups.log_attempt, follow_up_id, self.method.currentData(),
                          outcome, self.note.text().strip() or None).success(
            lambda _: self._logged(outcome)).failure(self._not_logged).run()

    def _logging(self, running: bool) -> None:
        self._busy = running
        for b in self.outcome_buttons.values():
            b.setEnabled(not running)

    def _not_logged(self, error: BaseException) -> None:
        self._logging(False)
        self.errors.handle(error)

    def _logged(self, outcome: str) -> None:
        self._logging(False)
        self.errors.clear()
        self.note.clear()
        self.logged.setText(f"Logged: {labels.text(outcome)}")
        self._selected()
