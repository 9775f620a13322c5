"""The supervisor's home: the review queue with its flags, one shift's timeline, approve or
return with a comment, and the work that goes out to the teams (assignments, the CRC's
discharge list, single follow-ups), and the team's laptops that hold old unsynced work or
have gone quiet (from the server, when it can be reached). Everything reads and writes this laptop's copy through the DB worker, so it
works offline; decisions sync like any record."""

from datetime import timedelta
from pathlib import Path

from fieldapp import assignments, changes, followup_import, followups, labels, persons, review
from fieldapp.records import FOLLOW_UP_REASONS, RECORD_TYPES, is_supervisor

from .amend import AmendDialog
from .context import Context
from .encounter import SEARCH_DELAY_MS, MatchesModel
from .models import RowsTableModel
from .qt import (QAbstractItemView, QComboBox, QDialog, QFormLayout, QHBoxLayout,
                 QEvent, QLineEdit, QListView, QPlainTextEdit, Qt, QTimer, QVBoxLayout, QWidget)
from .timefmt import clock, day, day_clock, today
from .widgets import (FieldErrors, WrappedLabel, add_rows, button, file_dialog, fit_dialog,
                      fit_height, fit_row_heights, heading, ok_cancel, record_table,
                      scrolling_body, set_state, shortcut)

STATE_TEXT = {"waiting": "Waiting", "returned": "Returned", "amended": "Amended",
              "approved": "Approved"}


def load_queue(session) -> list[dict]:
    return [{"id": item.id, "unit": item.shift["unit"], "started_at": item.shift["started_at"],
             "state": item.state, "flags": item.flags} for item in review.queue(session)]


def load_shift(session, shift_id: str) -> dict:
    shift = changes.get(session, "shift", shift_id)
    state, latest = review.review_state(session, shift_id)
    return {"shift": shift, "state": state, "review": latest,
            "flags": review.flags(session, shift), "timeline": review.timeline(session, shift_id)}


def read_and_import(session, path: str, team: str) -> followup_import.Plan:
    data = Path(path).read_bytes()
    return followup_import.import_on_laptop(session, data, team, Path(path).name)


# What the queue and a shift's timeline are made of: every record but the audit trail, and the
# conflicts flagged on them.
REVIEWED_TABLES = (set(RECORD_TYPES) - {"audit_event"}) | {"conflict"}

# Short flag words for the queue's narrow column; the shift view spells them out.
FLAG_SHORT = {"use_of_force": "Force", "crc_over_target": "CRC late",
              "involuntary": "Involuntary", "conflict": "Conflict",
              "overdue_follow_ups": "Overdue follow-ups", "unsynced": "Unsynced"}



def pull_server_conflicts(session) -> int:
    """On the network worker: the sync engine (and requests) loads here, on first use, so the
    shift screen that shows a returned shift's notice starts without it."""
    from sync.conflicts import pull_conflicts
    return pull_conflicts(session)

def pull_fleet(session) -> list[dict]:
    """On the network worker: the team's laptops that need attention (old unsynced work, or
    not heard from for days)."""
    from sync.fleet import pull_fleet as pull
    return [d for d in pull(session)["devices"] if d["flags"]]


def fleet_text(flagged: list[dict]) -> str:
    """The laptops needing attention, one line each, for the top of the review screen."""
    lines = [f"⚠ {d['display_name'] or d['user']}'s laptop “{d['name'] or d['device_id']}”: "
             f"{'; '.join(d['flag_text'])}"
             + (f" ({d['pending_changes']} changes waiting)" if d["pending_changes"] else "")
             for d in flagged]
    return "Laptops needing attention:\n" + "\n".join(lines) if lines else ""


class QueueModel(RowsTableModel):
    COLUMNS = ("Shift", "Needs attention")

    def cells(self, row: dict) -> tuple:
        return (f"{row['unit']} · {day(row['started_at'])}\n{STATE_TEXT[row['state']]}",
                " · ".join(FLAG_SHORT[f] for f in row["flags"]) or "—")


class TimelineModel(RowsTableModel):
    COLUMNS = ("Time", "Record", "Detail")

    def cells(self, row: dict) -> tuple:
        marks = "".join(f"⚠ {review.FLAG_TEXT[f]} · " for f in row["flags"])
        return (clock(row["at"]), row["title"], marks + row["detail"])


class AssignmentDialog(QDialog):
    """A supervisor's task for a unit: what, where, how urgent."""

    def __init__(self, parent, unit: str = ""):
        super().__init__(parent)
        self.setWindowTitle("New assignment")
        self.errors = FieldErrors()
        self.unit = QLineEdit(unit, placeholderText="e.g. MHST-12")
        self.priority = QComboBox()
        self.priority.addItems(["1 (urgent)", "2", "3"])
        self.priority.setCurrentIndex(1)
        self.summary = QLineEdit(placeholderText="what the unit should do")
        self.place = QLineEdit(placeholderText="where")
        body = QWidget()
        form = QFormLayout(body)
        form.addRow(self.errors.general)
        add_rows(form, self.errors, (("Unit", self.unit, "unit"), ("Priority", self.priority, None),
                                     ("Summary", self.summary, "summary"),
                                     ("Place", self.place, "place")))
        scrolling_body(self, body, ok_cancel(self))
        fit_dialog(self, 520, 0)
        fit_height(self)

    def values(self) -> dict:
        return {"source": "supervisor", "type": "scheduled_task",
                "priority": self.priority.currentIndex() + 1, "unit": self.unit.text().strip(),
                "summary": self.summary.text().strip(), "place": self.place.text().strip() or None}


def people_of_team(session, text: str, team: str) -> list[dict]:
    """People on file of this team matching what is typed (labels only): a follow-up's person
    must be one the team's laptops hold."""
    return persons.search_people(session, text, teams=[team])


class FollowUpDialog(QDialog):
    """A supervisor's follow-up for a unit or the whole team: who, why, by when, how urgent."""

    def __init__(self, parent, ctx: Context, assignee: str = ""):
        super().__init__(parent)
        self.setWindowTitle("New follow-up")
        self.ctx = ctx
        self.person: dict | None = None
        self.errors = FieldErrors()
        self.team = QComboBox()
        self.team.addItems(ctx.profile.teams)
        self.team.setCurrentText(ctx.profile.team)
        self.team.currentIndexChanged.connect(self._team_changed)
        self.person_text = QLineEdit(placeholderText="Search people on file: name, alias or "
                                                     "description")
        self.person_text.setObjectName("followUpPerson")
        self._search_timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS,
                                    timeout=self.search)
        self.person_text.textChanged.connect(lambda _: self._search_timer.start())
        self.matches = MatchesModel()
        self.matches_view = QListView()
        self.matches_view.setObjectName("followUpMatches")
        self.matches_view.setModel(self.matches)
        self.matches_view.setFixedHeight(150)
        self.matches_view.clicked.connect(self.pick)
        for widget in (self.person_text, self.matches_view):  # Enter picks, it does not send
            widget.installEventFilter(self)
        self.picked = WrappedLabel("No one picked yet: click a person in the list.")
        self.picked.setObjectName("followUpPicked")
        self.reason = QComboBox()
        for r in FOLLOW_UP_REASONS:
            self.reason.addItem(labels.text(r), r)
        self.due = QLineEdit((today() + timedelta(days=1)).isoformat(),
                             placeholderText="YYYY-MM-DD")
        self.due.setObjectName("followUpDue")
        self.priority = QComboBox()
        self.priority.addItems(["1 (urgent)", "2", "3"])
        self.priority.setCurrentIndex(1)
        self.assignee = QLineEdit(assignee, placeholderText="unit or username; empty: the team")
        self.assignee.setObjectName("followUpAssignee")
        self.note = QLineEdit(placeholderText="what the team should know (optional)")
        body = QWidget()
        form = QFormLayout(body)
        form.addRow(self.errors.general)
        add_rows(form, self.errors, (
                ("Team", self.team, "team"), ("Person", self.person_text, None),
                ("", self.matches_view, None), ("", self.picked, "person_id"),
                ("Reason", self.reason, "reason"), ("Due on", self.due, "due_on"),
                ("Priority", self.priority, "priority"), ("Assign to", self.assignee, "assignee"),
                ("Note", self.note, "note")))
        scrolling_body(self, body, ok_cancel(self))
        fit_dialog(self, 560, 0)
        fit_height(self)
        self.search()

    def search(self) -> None:
        typed, team = self.person_text.text().strip(), self.team.currentText()
        self.ctx.tasks.db(people_of_team, typed, team).success(
            lambda rows: self._show_matches(rows, typed, team)).run()

    def _show_matches(self, rows: list[dict], typed: str, team: str) -> None:
        if (typed, team) == (self.person_text.text().strip(), self.team.currentText()):
            self.matches.set_rows(rows)  # else typing went on; a newer search is coming

    def _team_changed(self, _index) -> None:
        self.person = None
        self.picked.setText("No one picked yet: click a person in the list.")
        self.search()

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.KeyPress and event.key() in (Qt.Key.Key_Return,
                                                                   Qt.Key.Key_Enter):
            current = self.matches_view.currentIndex()
            self.pick(current if current.isValid() else self.matches.index(0))
            return True
        return super().eventFilter(watched, event)

    def pick(self, index) -> None:
        person = self.matches.row_at(index)
        if person is not None:
            self.person = person
            self.picked.setText(f"Follow-up for {persons.label(person)}")

    def values(self) -> dict:
        return {"team": self.team.currentText(),
                "person_id": self.person["id"] if self.person else None,
                "reason": self.reason.currentData(), "due_on": self.due.text().strip(),
                "priority": self.priority.currentIndex() + 1,
                "assignee": self.assignee.text().strip() or None,
                "note": self.note.text().strip() or None}


class ReviewView(QWidget):
    title = "Review"

    def __init__(self, ctx: Context):
        super().__init__()
        self.ctx = ctx
        self.shift_id: str | None = None
        self.shown: dict | None = None
        self.errors = FieldErrors()
        self.queue_model = QueueModel()
        self.queue = record_table(self.queue_model, stretch=(1,))
        self.queue.setWordWrap(True)
        fit_row_heights(self.queue)
        self.queue.selectionModel().selectionChanged.connect(self._picked)
        self.empty = WrappedLabel("No shifts waiting for review. Shifts appear here when a "
                                  "unit ends its shift and its laptop syncs.")
        self.notice = WrappedLabel()
        self.notice.setObjectName("reviewNotice")
        self.notice.hide()
        self.fleet = WrappedLabel()
        self.fleet.setObjectName("reviewFleet")
        set_state(self.fleet, "attention", True)
        self.fleet.hide()

        self.title_label = WrappedLabel("Select a shift")
        self.title_label.setObjectName("subheading")
        self.info = WrappedLabel()
        self.flag_label = WrappedLabel()
        self.flag_label.setObjectName("reviewFlags")
        set_state(self.flag_label, "attention", True)
        self.timeline_model = TimelineModel()
        self.timeline = record_table(self.timeline_model, stretch=(1, 2))
        self.timeline.setWordWrap(True)
        fit_row_heights(self.timeline)
        # read, not picked from: no selection, so its rows need not be touch-sized
        self.timeline.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.comment = QPlainTextEdit(placeholderText="Comment for the team (required to return)")
        self.comment.setObjectName("reviewComment")
        self.comment.setFixedHeight(64)
        self.approve_button = button("Approve (Alt+A)", self.approve, name="approveShift",
                                     primary=True)
        self.return_button = button("Return with comment (Alt+R)", self.return_shift,
                                    name="returnShift")
        for b in (self.approve_button, self.return_button):
            b.setEnabled(False)

        top = QHBoxLayout()
        top.addWidget(heading("Shift review"))
        top.addStretch(1)
        top.addWidget(button("New assignment…", self.new_assignment, name="newAssignment"))
        top.addWidget(button("New follow-up…", self.new_follow_up, name="newFollowUp"))
        top.addWidget(button("Import discharge list…", self.import_list, name="importList"))

        left = QVBoxLayout()
        left.addWidget(self.empty)
        left.addWidget(self.queue, 1)
        right = QVBoxLayout()
        right.addWidget(self.title_label)
        right.addWidget(self.info)
        right.addWidget(self.flag_label)
        right.addWidget(self.timeline, 1)
        body = QHBoxLayout()
        body.addLayout(left, 6)
        body.addLayout(right, 5)
        decide = QHBoxLayout()  # under both halves: the comment and both buttons whole at 1024 px
        decide.addWidget(self.comment, 1)
        decide.addWidget(self.return_button)
        decide.addWidget(self.approve_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.errors.general)
        layout.addWidget(self.notice)
        layout.addWidget(self.fleet)
        layout.addLayout(body, 1)
        layout.addWidget(self.errors.label("comment"))
        layout.addLayout(decide)
        shortcut(self, "Approve the shift", "Alt+A", self.approve)
        shortcut(self, "Return the shift with the comment", "Alt+R", self.return_shift)
        ctx.watch(self, REVIEWED_TABLES, self.refresh)
        self.refresh()
        self.fetch_conflicts()

    # -- loading
    def refresh(self) -> None:
        self.ctx.tasks.db(load_queue).success(self._show_queue).run()

    def fetch_conflicts(self) -> None:
        """Conflicts flagged on other laptops, when the server can be reached (new ones come
        back on the change signal)."""
        self.ctx.tasks.net(pull_server_conflicts).failure(lambda _e: None).run()
        self.ctx.tasks.net(pull_fleet).success(self._show_fleet).failure(lambda _e: None).run()

    def _show_fleet(self, flagged: list[dict]) -> None:
        self.fleet.setText(fleet_text(flagged))
        self.fleet.setVisible(bool(flagged))

    def _show_queue(self, rows: list[dict]) -> None:
        self.queue_model.set_rows(rows)
        self.empty.setVisible(not rows)
        ids = [r["id"] for r in rows]
        if not rows:
            self.shift_id = None
            self._show_shift(None)
            return
        self.shift_id = self.shift_id if self.shift_id in ids else ids[0]
        self.queue.selectRow(ids.index(self.shift_id))
        self._load_shift(self.shift_id)

    def _picked(self, *_args) -> None:
        rows = self.queue.selectionModel().selectedRows()
        if rows:
            shift_id = self.queue_model.data(rows[0], QueueModel.IdRole)
            if shift_id != self.shift_id:
                self._load_shift(shift_id)

    def _load_shift(self, shift_id: str) -> None:
        self.shift_id = shift_id
        self.ctx.tasks.db(load_shift, shift_id).success(self._show_shift).run()

    def _show_shift(self, data: dict | None) -> None:
        self.shown = data
        can_decide = bool(data) and is_supervisor(self.ctx.profile.role) and data["state"] in (
            "waiting", "amended")
        self.approve_button.setEnabled(can_decide)
        self.return_button.setEnabled(can_decide)
        if not data:
            self.title_label.setText("Select a shift")
            for w in (self.info, self.flag_label):
                w.clear()
            self.timeline_model.set_rows([])
            return
        shift = data["shift"]
        members = ", ".join(f"{m.get('username')} ({m.get('role')})" for m in shift["members"])
        self.title_label.setText(
            f"{shift['unit']}{' · vehicle ' + shift['vehicle'] if shift['vehicle'] else ''}"
            f" · {day_clock(shift['started_at'])} – {clock(shift['ended_at'])}"
            f" · {STATE_TEXT[data['state']]}")
        last = data["review"]
        said = (f"  Last review: {last['decision']} by {last['author']}"
                f"{' — “' + last['comment'] + '”' if last['comment'] else ''}") if last else ""
        self.info.setText(f"Team {shift['team']}: {members}.{said}")
        self.flag_label.setText("   ".join(f"⚠\u00a0{review.FLAG_TEXT[f]}".replace(" ", "\u00a0")
                                           for f in data["flags"]))
        self.flag_label.setVisible(bool(data["flags"]))
        self.timeline_model.set_rows(data["timeline"])

    # -- decisions
    def approve(self) -> None:
        self._decide(review.approve)

    def return_shift(self) -> None:
        if not self.comment.toPlainText().strip():
            self.errors.show_one("comment", "Say what the team should fix before returning it.")
            return
        self._decide(review.return_shift)

    def _decide(self, fn) -> None:
        if not self.approve_button.isEnabled() or not self.shift_id:
            return
        self.errors.clear()
        self.ctx.tasks.db(fn, self.shift_id, self.comment.toPlainText().strip() or None).success(
            self._decided).failure(self.errors.handle).run()

    def _decided(self, _review_id) -> None:
        self.comment.clear()

    # -- work for the teams
    def new_assignment(self) -> None:
        unit = (self.shown or {}).get("shift", {}).get("unit", "")
        dialog = AssignmentDialog(self, unit)
        self.assignment_dialog = dialog
        dialog.accepted.connect(lambda: self._create_assignment(dialog))
        dialog.open()

    def _create_assignment(self, dialog: AssignmentDialog) -> None:
        values = dialog.values()

        def failed(error):
            dialog.errors.handle(error)
            dialog.open()
        self.ctx.tasks.db(assignments.create_assignment, values).success(
            lambda _id: self._said(f"Assignment for {values['unit'] or 'the team'} created; "
                                   "it reaches the unit's laptop on its next sync.")
        ).failure(failed).run()

    def new_follow_up(self) -> None:
        unit = (self.shown or {}).get("shift", {}).get("unit", "")
        dialog = FollowUpDialog(self, self.ctx, unit)
        self.follow_up_dialog = dialog
        dialog.accepted.connect(lambda: self._create_follow_up(dialog))
        dialog.open()

    def _create_follow_up(self, dialog: FollowUpDialog) -> None:
        values = dialog.values()
        who = persons.label(dialog.person) if dialog.person else ""

        def failed(error):
            dialog.errors.handle(error)
            dialog.open()
        self.ctx.tasks.db(followups.create_follow_up, values).success(
            lambda _id: self._said(f"Follow-up for {who} due {day(values['due_on'])} assigned to "
                                   f"{values['assignee'] or 'team ' + values['team']}; it "
                                   "reaches the team's laptops on their next sync.")
        ).failure(failed).run()

    def import_list(self, path: str | None = None) -> None:
        """Import the CRC's discharge list at `path`; with none, ask for the file first."""
        if not path:
            dialog = file_dialog(self, "CRC discharge list", "CSV files (*.csv);;All files (*)")
            dialog.setObjectName("importDialog")
            dialog.fileSelected.connect(self.import_list)
            self.import_dialog = dialog
            dialog.open()
            return
        self.errors.clear()
        self.ctx.tasks.db(read_and_import, path, self.ctx.profile.team).success(
            lambda plan: self._said("\n".join(plan.summary_lines()[:8]))).failure(
            self._import_failed).run()

    def _import_failed(self, error: BaseException) -> None:
        if isinstance(error, OSError):
            self.errors.message(f"Cannot read the file: {error.strerror}")
        else:
            self.errors.handle(error)

    def _said(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.show()



class ReturnedNotice(QWidget):
    """On the team's shift screen: a shift a supervisor returned, the comment, a box to answer
    it (an amendment on the shift with no field changes) and the way to correct one of its
    records (an amendment with the changes). Hidden when nothing waits on this user."""

    def __init__(self, ctx: Context):
        super().__init__()
        self.ctx = ctx
        self.setObjectName("returnedNotice")
        self.items: list[dict] = []
        self.errors = FieldErrors()
        self.text = WrappedLabel()
        self.text.setObjectName("returnedComment")
        set_state(self.text, "attention", True)
        self.answer = QLineEdit(placeholderText="Your answer to the supervisor")
        self.answer.setObjectName("reviewAnswer")
        row = QHBoxLayout()
        row.addWidget(self.answer, 1)
        row.addWidget(button("Send answer", self.send, name="sendAnswer"))
        row.addWidget(button("Amend a record…", self.amend_record, name="amendRecord"))
        v = QVBoxLayout(self)
        v.setContentsMargins(0, 0, 0, 0)
        v.addWidget(self.text)
        v.addWidget(self.errors.general)
        v.addLayout(row)
        self.hide()

    def refresh(self) -> None:
        self.ctx.tasks.db(review.my_returned_shifts).success(self._show).run()

    def _show(self, items: list[dict]) -> None:
        self.items = items
        self.setVisible(bool(items))
        if items:
            shift, said = items[0]["shift"], items[0]["review"]
            self.text.setText(f"Returned by {said['author']}: shift {shift['unit']} of "
                              f"{day_clock(shift['started_at'])} — “{said['comment']}”"
                              + (f"  (+{len(items) - 1} more)" if len(items) > 1 else ""))

    def amend_record(self) -> None:
        if not self.items:
            return
        self.amend_dialog = AmendDialog(self.ctx, self.items[0], self.window())
        self.amend_dialog.finished.connect(lambda _result: self.refresh())
        self.amend_dialog.open()

    def send(self) -> None:
        if not self.items:
            return
        self.errors.clear()
        self.ctx.tasks.db(review.amend, "shift", self.items[0]["shift"]["id"], {},
                          self.answer.text()).success(self._sent).failure(
            self.errors.handle).run()

    def _sent(self, _id) -> None:
        self.answer.clear()  # the notice redraws from the change signal (the shift screen's)
