"""The encounter form, in the order a call unfolds: what is happening, who is there, how it ended,
the flags, the police note, and (clinicians only) the clinical note.

It starts a new encounter, one for an assignment's call (with the call's place, summary and
CAD number; the partner's, when it has synced), or opens one on file to add to it, showing
every note written so far with who wrote it and when. Every change is saved as a draft ~300 ms
after typing pauses (on the DB worker), so a crash or a restart reopens the form as it was.
A draft the cache cannot write (a full disk) is said beside the heading, not in a dialog that
would take the keys being typed, and tried again until it is written.
Saving is one service call (encounters.save_documentation). Officers never get the clinical
note field at all.
"""

from fieldapp import assignments, encounters, labels, persons
from fieldapp.ids import new_id
from fieldapp.records import (
    DISPOSITIONS,
    PERSON_KINDS,
    PRESENTING_SITUATIONS,
    USE_OF_FORCE_TYPES,
)
from fieldapp.timeutil import now_iso

from . import errors
from .callrecord import CallRecordView, notes_html
from .context import Context
from .models import RowsListModel
from .qt import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QModelIndex,
    QPlainTextEdit,
    QScrollArea,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
)
from .timefmt import clock, day_clock
from .widgets import ElidedLabel, FieldErrors, WrappedLabel, button, heading, set_state, shortcut

DRAFT_DELAY_MS = 300
DRAFT_RETRY_MS = 10_000  # a draft the disk refused is tried again this often
WIDE_FLAGS_PX = 900  # the screen's width from which the flags sit in three columns
SEARCH_DELAY_MS = 200
# What the form shows; every other field of an encounter on file rides along unchanged.
SHOWN = ("presenting_situation", "place", "disposition", "police_note", "assignment_id",
         "use_of_force_type", "person_ids")
FLAGS = ("use_of_force", "pickup_order_attempted", "pickup_order_served", "emergency_petition",
         "deflection", "warm_handoff_crisis_line", "crisis_mobile_team_requested",
         "connected_to_care", "stabilized_on_scene")


class PeopleModel(RowsListModel):
    """People on this encounter: someone on file (with an id) is linked as they are; anyone
    else becomes a new person record when the encounter is saved."""

    def add(self, person: dict) -> None:
        self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows))
        self.rows.append(person)
        self.endInsertRows()

    def remove(self, row: int) -> None:
        self.beginRemoveRows(QModelIndex(), row, row)
        del self.rows[row]
        self.endRemoveRows()

    def display(self, person: dict) -> str:
        on_file = "on file" if person.get("id") else "new"
        caution = f"  ⚠ {person['safety_cautions']}" if person.get("safety_cautions") else ""
        return f"{persons.label(person)}  ({person['kind']}, {on_file}){caution}"


class MatchesModel(RowsListModel):
    """People on file whose name, alias or description matches what is typed."""

    def display(self, person: dict) -> str:
        return f"{persons.label(person)}  ({person['kind']})"


class AssignmentChoice(QComboBox):
    """No assignment, or one of the unit's assignments not yet cleared."""

    def __init__(self):
        super().__init__()
        self.setObjectName("assignment")
        # a long CAD summary is cut in the box (whole in the list), never widening the form
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(40)
        self.set_assignments([])

    def set_assignments(self, rows: list[dict]) -> None:
        keep = self.currentData()
        self.blockSignals(True)
        self.clear()
        self.addItem("No assignment", None)
        for a in rows:
            incident = f"[{a['cad_incident']}] " if a.get("cad_incident") else ""
            text = f"P{a['priority']} · {labels.text(a['status'])} · {incident}{a['summary']}"
            self.addItem(text, a["id"])
            self.setItemData(self.count() - 1, text, Qt.ItemDataRole.ToolTipRole)
        self.choose(keep)  # the same choice as before the reload: not a change to save
        self.blockSignals(False)

    def choose(self, assignment_id: str | None) -> None:
        """Pick the assignment. One not in the list stays linked: the unit's list has not
        loaded yet (a restored draft), or the call is cleared (an encounter on file)."""
        index = self.findData(assignment_id) if assignment_id else 0
        if index < 0:
            self.addItem("This call's assignment (not open)", assignment_id)
            index = self.count() - 1
        self.setCurrentIndex(index)


def person_from_text(kind: str, text: str) -> dict:
    """What was typed in the one people box, as a person record's values."""
    text = text.strip()
    if kind == "named":
        first, _, last = text.rpartition(" ")
        return {"kind": "named", "first_name": first or None, "last_name": last or None}
    if kind == "alias":
        return {"kind": "alias", "alias": text}
    return {"kind": "anonymous", "description": text or None}


class EncounterView(QWidget):
    title = "Encounter"

    def __init__(self, ctx: Context):
        super().__init__()
        self.ctx = ctx
        self.clinician = ctx.profile.can_write_clinical
        self.encounter_id = new_id()
        self.base: dict | None = None  # the encounter as opened; None for a new one
        self.hidden: dict = {}  # its fields the form does not show, kept as they are
        self._restoring = False
        self._dirty = False
        self.draft_problem = ""  # why the last draft could not be written, while it is so
        self.errors = FieldErrors()
        self._draft_timer = QTimer(self, singleShot=True, interval=DRAFT_DELAY_MS,
                                   timeout=self.flush_draft)

        form = QWidget()
        v = QVBoxLayout(form)
        top = QHBoxLayout()
        self.heading = heading("New encounter")
        top.addWidget(self.heading)
        self.saved_label = ElidedLabel()  # what became of the draft, never wider than the form
        self.saved_label.setObjectName("draftState")
        self.saved_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        top.addWidget(self.saved_label, 1)
        v.addLayout(top)
        self.call_label = WrappedLabel()
        self.call_label.setObjectName("subheading")
        self.call_label.hide()
        v.addWidget(self.call_label)
        self.notes_so_far = CallRecordView()
        self.notes_so_far.setMinimumHeight(150)
        self.notes_so_far.setMaximumHeight(240)
        self.notes_so_far_box = QGroupBox("Notes so far (who wrote each, and when)")
        QVBoxLayout(self.notes_so_far_box).addWidget(self.notes_so_far)
        self.notes_so_far_box.hide()
        v.addWidget(self.notes_so_far_box)
        v.addWidget(self.errors.general)

        situation = QGroupBox("Presenting situation")
        grid = QGridLayout(situation)
        self.situation = QButtonGroup(self)
        self.situation.setExclusive(True)
        for n, s in enumerate(PRESENTING_SITUATIONS):
            b = button(labels.text(s), name=f"situation_{s}", checkable=True)
            b.setProperty("toggle", True)
            b.setProperty("value", s)
            self.situation.addButton(b)
            grid.addWidget(b, n // 3, n % 3)
        grid.addWidget(self.errors.label("presenting_situation"), 3, 0, 1, 3)
        self.situation.buttonToggled.connect(self._changed)
        v.addWidget(situation)

        where = QFormLayout()
        self.place = QLineEdit(placeholderText="address or landmark")
        self.place.textChanged.connect(self._changed)
        where.addRow("Place", self.place)
        where.addRow("", self.errors.label("place"))
        self.assignment = AssignmentChoice()
        self.assignment.currentIndexChanged.connect(self._assignment_chosen)
        where.addRow("Assignment", self.assignment)
        where.addRow("", self.errors.label("assignment_id"))
        v.addLayout(where)

        people = QGroupBox("People (optional; many contacts are anonymous)")
        pv = QVBoxLayout(people)
        add_row = QHBoxLayout()
        self.person_kind = QComboBox()
        for k in PERSON_KINDS:
            self.person_kind.addItem(labels.text(k), k)
        self.person_text = QLineEdit(
            placeholderText="Search people on file, or type First Last / alias / description")
        self.person_text.setObjectName("personText")
        self.person_text.returnPressed.connect(self.add_person)
        self.person_text.textChanged.connect(lambda _: self._search_timer.start())
        self._search_timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS,
                                    timeout=self.search_people)
        add_row.addWidget(self.person_kind)
        add_row.addWidget(self.person_text, 1)
        add_row.addWidget(button("Add as new", self.add_person, name="addPerson"))
        add_row.addWidget(button("Remove", self.remove_person, name="removePerson"))
        self.people = PeopleModel()
        self.people_view = QListView()
        self.people_view.setModel(self.people)
        self.people_view.setMaximumHeight(110)
        self.matches = MatchesModel()
        self.matches_view = QListView()
        self.matches_view.setObjectName("personMatches")
        self.matches_view.setModel(self.matches)
        self.matches_view.setMaximumHeight(110)
        self.matches_view.setToolTip("Click (or Enter) to add someone on file to this encounter")
        self.matches_view.clicked.connect(self.pick_person)
        self.matches_view.activated.connect(self.pick_person)
        self.matches_label = QLabel("On file: click one to add them (opening a record is logged)")
        self.matches_label.hide()
        self.matches_view.hide()
        pv.addLayout(add_row)
        pv.addWidget(self.matches_label)
        pv.addWidget(self.matches_view)
        pv.addWidget(self.errors.label("person_ids"))
        pv.addWidget(QLabel("On this encounter:"))
        pv.addWidget(self.people_view)
        v.addWidget(people)

        outcome = QGroupBox("Disposition and flags")
        ov = QVBoxLayout(outcome)
        self.disposition = QComboBox()
        self.disposition.addItem("Not yet", None)
        for d in DISPOSITIONS:
            self.disposition.addItem(labels.text(d), d)
        self.disposition.currentIndexChanged.connect(self._changed)
        row = QHBoxLayout()
        row.addWidget(QLabel("Disposition (clears the assignment)"))
        row.addWidget(self.disposition, 1)
        ov.addLayout(row)
        ov.addWidget(self.errors.label("disposition"))
        self.flags: dict[str, QCheckBox] = {}
        for f in FLAGS:
            box = QCheckBox(labels.text(f))
            box.setObjectName(f"flag_{f}")
            box.toggled.connect(self._changed)
            self.flags[f] = box
        self.flag_grid = QGridLayout()
        self._lay_out_flags(3)
        ov.addLayout(self.flag_grid)
        self.force_type = QComboBox()
        self.force_type.addItem("Type of force…", None)
        for t in USE_OF_FORCE_TYPES:
            self.force_type.addItem(labels.text(t), t)
        self.force_type.currentIndexChanged.connect(self._changed)
        self.flags["use_of_force"].toggled.connect(self.force_type.setEnabled)
        self.force_type.setEnabled(False)
        row = QHBoxLayout()
        row.addWidget(QLabel("Use of force type"))
        row.addWidget(self.force_type, 1)
        ov.addLayout(row)
        ov.addWidget(self.errors.label("use_of_force_type"))
        v.addWidget(outcome)

        self.police_label = QLabel("Police note")
        v.addWidget(self.police_label)
        self.police_note = QPlainTextEdit()
        self.police_note.setObjectName("policeNote")
        self.police_note.setMinimumHeight(120)
        self.police_note.textChanged.connect(self._changed)
        v.addWidget(self.police_note)
        v.addWidget(self.errors.label("police_note"))
        self.clinical_note: QPlainTextEdit | None = None
        if self.clinician:
            self.clinical_label = QLabel("Clinical note (clinicians only; saved as a separate, "
                                         "append-only note)")
            v.addWidget(self.clinical_label)
            self.clinical_note = QPlainTextEdit()
            self.clinical_note.setObjectName("clinicalNote")
            self.clinical_note.setMinimumHeight(120)
            self.clinical_note.textChanged.connect(self._changed)
            v.addWidget(self.clinical_note)
            v.addWidget(self.errors.label("body"))

        # Two rows: at 1024×768, once the form scrolls (its bar takes width), the three
        # buttons on one row were cut ("Save encounter (Ctrl+" …).
        actions = QHBoxLayout()
        actions.addWidget(button("New encounter (Ctrl+N)", self.new, name="newEncounter"))
        actions.addWidget(button("CRC drop-off for this encounter", self.to_crc,
                                 name="encounterToCrc"))
        actions.addStretch(1)
        v.addLayout(actions)
        save = QHBoxLayout()
        save.addStretch(1)
        self.save_button = button("Save encounter (Ctrl+S)", lambda: self.save(),
                                  name="saveEncounter", primary=True)
        save.addWidget(self.save_button)
        v.addLayout(save)

        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(form)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.scroll)
        shortcut(self, "Save the encounter", "Ctrl+S", lambda: self.save())
        shortcut(self, "Start a new encounter", "Ctrl+N", self.new)
        self.ctx.tasks.db(encounters.latest_form).success(self._load).run()
        self.ctx.shift_changed.connect(lambda _shift: self.refresh())
        ctx.watch(self, {"assignment", "shift", "person"}, self.refresh)
        self.refresh()

    def _lay_out_flags(self, columns: int) -> None:
        self.flag_columns = columns
        for n, box in enumerate(self.flags.values()):
            self.flag_grid.addWidget(box, n // columns, n % columns)

    def resizeEvent(self, event) -> None:
        """Three columns of flags where they fit, two on a narrow screen (1024 px)."""
        columns = 3 if event.size().width() >= WIDE_FLAGS_PX else 2
        if columns != self.flag_columns:
            self._lay_out_flags(columns)
        super().resizeEvent(event)

    def refresh(self) -> None:
        """The form keeps what is typed; only the unit's assignments, and the people on file
        matching what is typed in the people box, are reloaded."""
        self.ctx.tasks.db(assignments.open_assignments, self.ctx.unit).success(
            self.assignment.set_assignments).run()
        if self.person_text.text().strip():
            self.search_people()

    def start_from_assignment(self, assignment_id: str) -> None:
        """Called from the assignments screen: the call's encounter (a new one with its place,
        summary and CAD number, or the partner's when it has synced)."""
        self.flush_draft()
        self.ctx.tasks.db(encounters.form_for_assignment, assignment_id).success(
            self._load).failure(self.errors.handle).run()

    def open_encounter(self, encounter_id: str) -> None:
        """Called from the encounter list: an encounter on file, to add to it."""
        self.flush_draft()
        self.ctx.tasks.db(encounters.form_for, encounter_id).success(self._load).failure(
            self.errors.handle).run()

    # -- drafts
    def values(self) -> dict:
        checked = self.situation.checkedButton()
        values = {**self.hidden,
                  "presenting_situation": checked.property("value") if checked else None,
                  "place": self.place.text().strip() or None,
                  "disposition": self.disposition.currentData(),
                  "police_note": self.police_note.toPlainText() or None,
                  "assignment_id": self.assignment.currentData(),
                  "use_of_force_type": self.force_type.currentData()
                  if self.flags["use_of_force"].isChecked() else None}
        values.update({f: box.isChecked() for f, box in self.flags.items()})
        if self.base is None and self.ctx.shift_id:
            values["shift_id"] = self.ctx.shift_id
        return values

    def form(self) -> dict:
        """What is on the form, as the encounter services take it."""
        return {"id": self.encounter_id, "values": self.values(), "people": self.people.rows,
                "base": self.base}

    def _changed(self, *_args) -> None:
        if self._restoring:
            return
        self._dirty = True
        self._draft_timer.start(DRAFT_DELAY_MS)

    def _assignment_chosen(self, *_args) -> None:
        """A new encounter linked to an assignment becomes that call's encounter: its derived
        id (so the partner's laptop writes the same record), and what the call says where the
        form is still empty."""
        if self._restoring:
            return
        self._changed()
        assignment_id = self.assignment.currentData()
        if self.base is None and assignment_id and \
                self.encounter_id != encounters.id_for_assignment(assignment_id):
            self.ctx.tasks.db(encounters.discard_form_draft, self.encounter_id).run()
            self.ctx.tasks.db(encounters.form_for_assignment, assignment_id).success(
                self._adopt).run()

    def _adopt(self, form: dict) -> None:
        """Take on an assignment's encounter (perhaps the partner's, already synced): what it
        holds, with everything already typed here laid over it."""
        values = dict(form["values"])
        for name, typed in self.values().items():
            if name in FLAGS:
                values[name] = bool(values.get(name)) or typed
            elif name in SHOWN and typed not in (None, ""):
                values[name] = typed
        known = {p.get("id") for p in form["people"]}
        people = form["people"] + [p for p in self.people.rows
                                   if not p.get("id") or p["id"] not in known]
        clinical = self.clinical_note.toPlainText() if self.clinical_note else ""
        self._load({**form, "values": values, "people": people, "clinical_note": clinical,
                    "restored": False})
        self._dirty = True
        self.flush_draft()

    def flush_draft(self) -> None:
        """Save the draft now (also called when the window closes)."""
        self._draft_timer.stop()
        if not self._dirty:
            return
        self._dirty = False
        clinical = self.clinical_note.toPlainText() if self.clinical_note else None
        self.ctx.tasks.db(encounters.save_form_draft, self.form(), clinical).success(
            self._draft_saved).failure(self._draft_failed).run()

    def _draft_saved(self, _result) -> None:
        self.draft_problem = ""
        self._say("Draft saved")

    def _draft_failed(self, error: BaseException) -> None:
        """A draft the cache refused (a full disk) stays on the form and is tried again: said
        beside the heading, never in a dialog, which would take the keys being typed."""
        self._dirty = True
        if getattr(self.window(), "leaving", None) is None:  # leaving queues no more work
            self._draft_timer.start(DRAFT_RETRY_MS)
        message = errors.environment_message(error)
        if message is None:  # a bug: reported (one dialog, however often it recurs)
            errors.show(error, self.window())
            message = "Tandem hit a problem it did not expect."
        self.draft_problem = message
        self._say(f"Draft not saved · {message} What you typed stays here.", attention=True)

    def _say(self, text: str, attention: bool = False) -> None:
        """What became of the draft or the save (whole in its tooltip)."""
        self.saved_label.setText(text)
        set_state(self.saved_label, "attention", attention)

    def _load(self, form: dict | None) -> None:
        """Show a form from the encounter services: a draft, an encounter on file, or an
        assignment's new encounter."""
        if not form:
            return
        self._restoring = True
        try:
            self._clear_fields()
            self.encounter_id, self.base = form["id"], form.get("base")
            values = form.get("values", {})
            self.hidden = {k: v for k, v in values.items() if k not in SHOWN and k not in FLAGS}
            for b in self.situation.buttons():
                b.setChecked(b.property("value") == values.get("presenting_situation"))
            self.place.setText(values.get("place") or "")
            self.assignment.choose(values.get("assignment_id"))
            self.disposition.setCurrentIndex(max(0, self.disposition.findData(values.get("disposition"))))
            for f, box in self.flags.items():
                box.setChecked(bool(values.get(f)))
            self.force_type.setCurrentIndex(max(0, self.force_type.findData(values.get("use_of_force_type"))))
            self.police_note.setPlainText(values.get("police_note") or "")
            self.people.set_rows(form.get("people", []))
            if self.clinical_note is not None:
                self.clinical_note.setPlainText(form.get("clinical_note") or "")
            self._say("Draft restored" if form.get("restored") else "")
        finally:
            self._restoring = False
        self._show_call(form)

    def _show_call(self, form: dict) -> None:
        """The call's CAD number and summary, and for an encounter on file its notes so far."""
        values = {**self.hidden, **form.get("values", {})}
        call = " — ".join(x for x in (values.get("cad_incident") and f"CAD {values['cad_incident']}",
                                       values.get("call_summary")) if x)
        self.call_label.setText(call)
        self.call_label.setVisible(bool(call))
        on_file = form.get("call")
        self.heading.setText("Encounter on file — add to it" if self.base is not None
                             else "New encounter")
        self.notes_so_far_box.setVisible(bool(on_file))
        if on_file:
            self.notes_so_far.setHtml(notes_html(on_file))
            e = on_file["encounter"]
            by = (f" — last written by {e['police_note_by']}, {day_clock(e['police_note_at'])}"
                  if e.get("police_note_by") else "")
            self.police_label.setText(f"Police note{by}")
            if self.clinical_note is not None:
                self.clinical_label.setText("Add a clinical note (clinicians only; each note is "
                                            "kept, with its author and time)")
        else:
            self.police_label.setText("Police note")

    # -- people
    def search_people(self) -> None:
        text = self.person_text.text().strip()
        if not text:
            self._show_matches([])
            return
        self.ctx.tasks.db(persons.search_people, text).success(
            lambda rows, typed=text: self._show_matches(rows, typed)).run()

    def _show_matches(self, rows: list[dict], typed: str = "") -> None:
        if typed != self.person_text.text().strip():
            return  # typing went on; a newer search is coming
        linked = {p.get("id") for p in self.people.rows}
        self.matches.set_rows([r for r in rows if r["id"] not in linked])
        self.matches_view.setVisible(bool(self.matches.rows))
        self.matches_label.setVisible(bool(self.matches.rows))

    def pick_person(self, index) -> None:
        """Link someone on file: their record is read (and the view audited) on the DB worker."""
        row = self.matches.row_at(index)
        if row is None:
            return
        self.ctx.tasks.db(persons.on_file, row["id"]).success(self._add_on_file).run()

    def _add_on_file(self, person: dict) -> None:
        if all(p.get("id") != person["id"] for p in self.people.rows):
            self.people.add(person)
            self._changed()
        self.person_text.clear()
        self._show_matches([])

    def add_person(self) -> None:
        kind = self.person_kind.currentData()
        text = self.person_text.text()
        if kind != "anonymous" and not text.strip():
            self.errors.label("person_ids").setText("Type a name or an alias first.")
            self.errors.label("person_ids").show()
            return
        self.errors.label("person_ids").hide()
        self.people.add(person_from_text(kind, text))
        self.person_text.clear()
        self._changed()

    def remove_person(self) -> None:
        rows = self.people_view.selectionModel().selectedRows()
        if rows:
            self.people.remove(rows[0].row())
            self._changed()

    # -- save
    def save(self, then=None) -> None:
        """Save the form (one service call); `then(encounter_id)` runs once it is saved."""
        self._draft_timer.stop()
        self.flush_draft()  # queued before the save, so the save's draft discard comes after it
        self.errors.clear()
        clinical = self.clinical_note.toPlainText() if self.clinical_note else ""
        self.save_button.setEnabled(False)
        self.ctx.tasks.db(encounters.save_documentation, self.encounter_id, self.values(),
                          self.people.rows, clinical, self.base
                          ).success(lambda eid: self._saved(eid, then)).failure(
            self._failed).run()

    def _saved(self, encounter_id: str, then=None) -> None:
        self.save_button.setEnabled(True)
        self._clear_form()
        self._say(f"Encounter saved at {clock(now_iso())}")
        if then:
            then(encounter_id)

    def _failed(self, error: BaseException) -> None:
        self.save_button.setEnabled(True)
        self.errors.handle(error)

    def to_crc(self) -> None:
        """A CRC drop-off for this encounter: saved first, so the drop-off links to it."""
        self.save(then=lambda eid: self.window().show_screen("crc").start_from_encounter(eid))

    def new(self) -> None:
        """Start another encounter; the current one stays as a draft if anything was typed."""
        self.flush_draft()
        self._clear_form()

    def _clear_form(self) -> None:
        self._restoring = True
        try:
            self._clear_fields()
            self.encounter_id, self.base, self.hidden = new_id(), None, {}
            self.draft_problem = ""
            self._say("")
        finally:
            self._restoring = False
        self._show_call({})

    def _clear_fields(self) -> None:
        self.situation.setExclusive(False)
        for b in self.situation.buttons():
            b.setChecked(False)
        self.situation.setExclusive(True)
        self.place.clear()
        self.disposition.setCurrentIndex(0)
        for box in self.flags.values():
            box.setChecked(False)
        self.force_type.setCurrentIndex(0)
        self.assignment.choose(None)
        self.police_note.clear()
        self.people.set_rows([])
        if self.clinical_note is not None:
            self.clinical_note.clear()
        self.errors.clear()
