"""Amending a record of a returned (submitted) shift, from the team's laptop: pick one of the
shift's records, correct what happened or when, say why. The change and the reason go into one
amendment (fieldapp.review.amend) that the supervisor sees; nothing changes silently."""

from datetime import datetime

from fieldapp import changes, encounters, labels, review
from fieldapp.errors import ValidationError
from fieldapp.records import TEXT_MAX, Field, record_type
from fieldapp.timeutil import to_iso

from . import timefmt
from .context import Context
from .encounter import FLAGS
from .models import RowsListModel
from .qt import (QCheckBox, QComboBox, QDialog, QFormLayout, QGridLayout, QHBoxLayout, QLabel,
                 QLineEdit, QListView, QPlainTextEdit, QScrollArea, Qt, QVBoxLayout, QWidget)
from .timefmt import clock, day_clock
from .widgets import FieldErrors, WrappedLabel, button, fit_dialog, shortcut, vertical_scroll

# What a correction after submission may touch: what happened and when; never who, which team,
# or the links between records.
AMEND_FIELDS = {
    "encounter": ("presenting_situation", "disposition", *FLAGS, "use_of_force_type",
                  "place", "police_note", "started_at"),
    "assignment": ("disposition", "place", "taken_at", "cleared_at"),
    "crc_dropoff": ("transport", "arrived_at", "handed_off_at", "cleared_at", "delay_reason"),
}
TIME_FORMAT = "%Y-%m-%d %H:%M"  # local time, as people read it off the clock


def load_records(session, shift_id: str) -> list[dict]:
    return review.timeline_of(session, shift_id, set(AMEND_FIELDS))


def load_record(session, table: str, record_id: str) -> dict:
    """The record's current values; opening an encounter is an audited view."""
    if table == "encounter":
        return encounters.view_encounter(session, record_id)
    return changes.get(session, table, record_id)


def local_time_text(iso: str | None) -> str:
    """A stored time as the agency's wall clock, as it is typed."""
    return timefmt.local(iso).strftime(TIME_FORMAT) if iso else ""


def parse_local_time(text: str) -> str | None:
    """A time typed on the agency's clock ('2026-05-14 14:05') as stored UTC text; empty is
    no time."""
    if not text.strip():
        return None
    try:
        return to_iso(datetime.strptime(text.strip(), TIME_FORMAT).replace(
            tzinfo=timefmt.zone()))
    except ValueError:
        raise ValueError("a local date and time like 2026-05-14 14:05") from None


class FieldEditor:
    """One field's widget, built from the record type's field; it remembers what it showed
    first, so only what the user actually changed goes into the amendment."""

    def __init__(self, f: Field, value):
        self.field = f
        self.label = labels.text(f.name)
        if f.type is bool:
            self.widget = QCheckBox(self.label)
            self.widget.setChecked(bool(value))
        elif f.choices:
            self.widget = QComboBox()
            if not f.required:
                self.widget.addItem("Not set", None)
            for choice in f.choices:
                self.widget.addItem(labels.text(choice), choice)
            self.widget.setCurrentIndex(max(0, self.widget.findData(value)))
        elif f.type is str and (f.max_len or 0) > TEXT_MAX:
            self.widget = QPlainTextEdit(value or "")
            self.widget.setFixedHeight(90)
        elif f.type is datetime:
            self.widget = QLineEdit(local_time_text(value),
                                    placeholderText="YYYY-MM-DD HH:MM (local time)")
        else:
            self.widget = QLineEdit(value or "")
        self.widget.setObjectName(f"amend_{f.name}")
        self.first = self.shown()

    def shown(self):
        w = self.widget
        if isinstance(w, QCheckBox):
            return w.isChecked()
        if isinstance(w, QComboBox):
            return w.currentData()
        return w.toPlainText() if isinstance(w, QPlainTextEdit) else w.text()

    @property
    def changed(self) -> bool:
        return self.shown() != self.first

    def value(self):
        """The value to store; ValueError says what is wrong with what was typed."""
        shown = self.shown()
        if self.field.type is datetime:
            return parse_local_time(shown)
        if isinstance(shown, str):
            return shown.strip() or None
        return shown


class RecordsModel(RowsListModel):
    def display(self, entry: dict) -> str:
        detail = f" — {entry['detail']}" if entry["detail"] else ""
        return f"{clock(entry['at'])}  {entry['title']}{detail}"


class AmendDialog(QDialog):
    """The shift's records on the left; the picked one's correctable fields on the right; the
    reason, which every amendment needs, below both."""

    def __init__(self, ctx: Context, returned: dict, parent: QWidget | None = None):
        """`returned`: a shift and its latest review, as review.my_returned_shifts lists them."""
        super().__init__(parent)
        self.setObjectName("amendDialog")
        self.setWindowTitle("Amend a record")
        self.ctx, self.shift = ctx, returned["shift"]
        self.picked: dict | None = None  # the timeline entry whose record is shown
        self.record: dict | None = None
        self.editors: dict[str, FieldEditor] = {}
        self.general = FieldErrors().general  # stays while the field form is rebuilt per record
        self.errors = FieldErrors(self.general)
        said = returned["review"]
        intro = WrappedLabel(
            f"Shift {self.shift['unit']} of {day_clock(self.shift['started_at'])}, returned by "
            f"{said['author']}: “{said['comment']}”\nPick the record to correct, change what "
            "was wrong and say why: the supervisor sees each change with your reason.")
        self.records = RecordsModel()
        self.records_view = QListView()
        self.records_view.setObjectName("amendRecords")
        self.records_view.setModel(self.records)
        self.records_view.setWordWrap(True)
        self.records_view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.records_view.selectionModel().currentChanged.connect(self._pick)
        self.form_area = QScrollArea()
        self.form_area.setWidgetResizable(True)
        self.form_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.form_area.setWidget(QLabel("Pick a record on the left."))
        self.reason = QLineEdit(placeholderText="What was wrong, or what the supervisor asked")
        self.reason.setObjectName("amendReason")
        self.reason_row = QFormLayout()
        self.reason_row.addRow("Why (required)", self.reason)
        self.reason_error = self.errors.label("reason")
        self.reason_row.addRow("", self.reason_error)
        self.saved = WrappedLabel()
        self.saved.setObjectName("amendSaved")
        self.save_button = button("Save amendment (Ctrl+S)", self.save, name="saveAmendment",
                                  primary=True)
        body = QHBoxLayout()
        body.addWidget(self.records_view, 1)
        body.addWidget(self.form_area, 2)
        actions = QHBoxLayout()
        actions.addWidget(self.saved, 1)
        actions.addWidget(button("Close", self.reject, name="closeAmend"))
        actions.addWidget(self.save_button)
        top = QWidget()
        t = QVBoxLayout(top)
        t.setContentsMargins(0, 0, 0, 0)
        t.addWidget(intro)
        t.addWidget(self.general)
        t.addLayout(body, 1)
        t.addLayout(self.reason_row)
        v = QVBoxLayout(self)
        # A long comment and messages scroll on a short screen; the buttons always show.
        v.addWidget(vertical_scroll(top), 1)
        v.addLayout(actions)
        shortcut(self, "Save the amendment", "Ctrl+S", self.save)
        fit_dialog(self, 1200, 660)
        self.refresh()

    def refresh(self) -> None:
        self.ctx.tasks.db(load_records, self.shift["id"]).success(self._show_records).run()

    def _show_records(self, entries: list[dict]) -> None:
        picked = self.picked["id"] if self.picked else None
        self.records.set_rows(entries)
        if not entries:
            self.errors.message("This shift has no encounter, assignment or CRC drop-off to "
                                "amend; answer the supervisor in the box instead.")
        for n, entry in enumerate(entries):
            if entry["id"] == picked:
                self.records_view.setCurrentIndex(self.records.index(n))

    def _pick(self, index, _previous=None) -> None:
        entry = self.records.row_at(index)
        if entry is None:
            return
        self.picked = entry
        self.ctx.tasks.db(load_record, entry["table"], entry["id"]).success(
            lambda record, e=entry: self._show_record(e, record)).failure(
            self.errors.handle).run()

    def _show_record(self, entry: dict, record: dict) -> None:
        if self.picked is None or entry["id"] != self.picked["id"]:
            return  # another record was picked meanwhile
        self.record = record
        rt = record_type(entry["table"])
        self.editors = {name: FieldEditor(rt.field(name), record.get(name))
                        for name in AMEND_FIELDS[entry["table"]]}
        # Error labels belong to the form they sit in: a new set for the new form, with the
        # reason's label moved into its place under the reason.
        self.errors = FieldErrors(self.general)
        reason_error = self.errors.label("reason")
        self.reason_row.replaceWidget(self.reason_error, reason_error)
        self.reason_error.deleteLater()
        self.reason_error = reason_error
        form_widget = QWidget()
        form = QFormLayout(form_widget)
        form.addRow(QLabel(f"<b>{entry['title']}</b>"))
        flags = QGridLayout()
        for name, editor in self.editors.items():
            if isinstance(editor.widget, QCheckBox):
                if not flags.count():
                    form.addRow("Flags", flags)
                flags.addWidget(editor.widget, flags.count() // 2, flags.count() % 2)
            else:
                form.addRow(editor.label, editor.widget)
            form.addRow("", self.errors.label(name))
        self.form_area.setWidget(form_widget)  # the old form is deleted with its widgets

    def save(self) -> None:
        self.saved.clear()
        if self.record is None:
            self.errors.message("Pick the record to correct first.")
            return
        problems, values = {}, {}
        for name, editor in self.editors.items():
            if editor.changed:
                try:
                    values[name] = editor.value()
                except ValueError as why:
                    problems[name] = str(why)
        if not values and not problems:
            self.errors.message("Nothing changed: correct a field, then save.")
            return
        if not self.reason.text().strip():
            problems["reason"] = "Say why (what was wrong, or what the supervisor asked)."
        if problems:
            self.errors.show(ValidationError(self.picked["table"], problems))
            return
        self.errors.clear()
        self.save_button.setEnabled(False)
        entry = self.picked
        self.ctx.tasks.db(review.amend, entry["table"], entry["id"], values,
                          self.reason.text().strip()).success(
            lambda _id: self._amended(entry, sorted(values))).failure(self._failed).run()

    def _amended(self, entry: dict, fields: list[str]) -> None:
        self.save_button.setEnabled(True)
        self.reason.clear()
        self.saved.setText(f"Amended {entry['title'].lower()}: "
                           f"{', '.join(labels.phrase(f) for f in fields)}. "
                           "The supervisor sees it after your next sync.")
        self.refresh()  # picks the record again: what is stored now is the new baseline

    def _failed(self, error: BaseException) -> None:
        self.save_button.setEnabled(True)
        self.errors.handle(error)
