"""The encounter form, in the order a call unfolds: what is happening, who is there, how it ended,
the flags, the police note, and (clinicians only) the clinical note.

Every change is saved as a draft ~300 ms after typing pauses (on the DB worker), so a crash or a
restart reopens the form as it was. Officers never get the clinical note field at all.
"""

from fieldapp import assignments, drafts, encounters, persons
from fieldapp.ids import new_id
from fieldapp.records import (
    DISPOSITIONS,
    PERSON_KINDS,
    PRESENTING_SITUATIONS,
    USE_OF_FORCE_TYPES,
)
from fieldapp.timeutil import now_iso

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
from .timefmt import clock
from .widgets import FieldErrors, button, heading, pretty, shortcut

DRAFT_DELAY_MS = 300
SEARCH_DELAY_MS = 200
# What the form keeps of a person already on file: enough to show them, and their id.
ON_FILE_FIELDS = ("id", "kind", "first_name", "last_name", "alias", "description",
                  "safety_cautions")
FLAGS = ("use_of_force", "pickup_order_attempted", "pickup_order_served", "emergency_petition",
         "deflection", "warm_handoff_crisis_line", "crisis_mobile_team_requested",
         "connected_to_care", "stabilized_on_scene")
FLAG_LABELS = {"warm_handoff_crisis_line": "Warm hand-off to crisis line",
               "crisis_mobile_team_requested": "Crisis mobile team requested"}


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
        self.wanted: str | None = None  # kept until the list holds it (a restored draft)
        self.set_assignments([])

    def set_assignments(self, rows: list[dict]) -> None:
        keep = self.currentData() or self.wanted
        self.blockSignals(True)
        self.clear()
        self.addItem("No assignment", None)
        for a in rows:
            incident = f"[{a['cad_incident']}] " if a.get("cad_incident") else ""
            text = f"P{a['priority']} · {pretty(a['status'])} · {incident}{a['summary']}"
            self.addItem(text, a["id"])
            self.setItemData(self.count() - 1, text, Qt.ItemDataRole.ToolTipRole)
        self.choose(keep)  # the same choice as before the reload: not a change to save
        self.blockSignals(False)

    def choose(self, assignment_id: str | None) -> None:
        index = self.findData(assignment_id) if assignment_id else 0
        self.wanted = assignment_id if index < 0 else None
        self.setCurrentIndex(max(0, index))


def person_from_text(kind: str, text: str) -> dict:
    """What was typed in the one people box, as a person record's values."""
    text = text.strip()
    if kind == "named":
        first, _, last = text.rpartition(" ")
        return {"kind": "named", "first_name": first or None, "last_name": last or None}
    if kind == "alias":
        return {"kind": "alias", "alias": text}
    return {"kind": "anonymous", "description": text or None}


def save(session, encounter_id: str, values: dict, people: list[dict],
         clinical_text: str) -> str:
    """People, the encounter and the clinical note in one transaction: all saved or none."""
    with session.db.atomic():
        person_ids = [p["id"] if p.get("id") else persons.add_person(session, p) for p in people]
        encounters.save_encounter(session, {**values, "person_ids": person_ids}, encounter_id)
        if clinical_text.strip():
            encounters.add_clinical_note(session, encounter_id, clinical_text)
    return encounter_id


def person_on_file(session, person_id: str) -> dict:
    """The person picked from the matches, read through view_person (an audited view)."""
    person = persons.view_person(session, person_id)
    return {k: person.get(k) for k in ON_FILE_FIELDS}


def save_drafts(session, encounter_id: str, body: dict, clinical: dict | None) -> None:
    drafts.save_draft(session, encounters.draft_key(encounter_id), "encounter", body)
    if clinical is not None:
        drafts.save_draft(session, encounters.clinical_draft_key(encounter_id), "clinical_note",
                          clinical)


def latest_draft(session, with_clinical: bool) -> dict | None:
    """The newest encounter draft (and its clinical note draft, for a clinician), if any."""
    found = drafts.drafts(session, "encounter")
    if not found:
        return None
    body = found[0]["body"]
    if with_clinical:
        clinical = drafts.load_draft(session, encounters.clinical_draft_key(body["id"]))
        body["clinical_note"] = (clinical or {}).get("body", "")
    return body


class EncounterView(QWidget):
    title = "Encounter"

    def __init__(self, ctx: Context):
        super().__init__()
        self.ctx = ctx
        self.clinician = ctx.profile.can_write_clinical
        self.encounter_id = new_id()
        self._restoring = False
        self._dirty = False
        self.errors = FieldErrors()
        self._draft_timer = QTimer(self, singleShot=True, interval=DRAFT_DELAY_MS,
                                   timeout=self.flush_draft)

        form = QWidget()
        v = QVBoxLayout(form)
        top = QHBoxLayout()
        top.addWidget(heading("Encounter"), 1)
        self.saved_label = QLabel()
        top.addWidget(self.saved_label)
        v.addLayout(top)
        v.addWidget(self.errors.general)

        situation = QGroupBox("Presenting situation")
        grid = QGridLayout(situation)
        self.situation = QButtonGroup(self)
        self.situation.setExclusive(True)
        for n, s in enumerate(PRESENTING_SITUATIONS):
            b = button(pretty(s), name=f"situation_{s}", checkable=True)
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
        self.assignment.currentIndexChanged.connect(self._changed)
        where.addRow("Assignment", self.assignment)
        where.addRow("", self.errors.label("assignment_id"))
        v.addLayout(where)

        people = QGroupBox("People (optional; many contacts are anonymous)")
        pv = QVBoxLayout(people)
        add_row = QHBoxLayout()
        self.person_kind = QComboBox()
        for k in PERSON_KINDS:
            self.person_kind.addItem(pretty(k), k)
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
        ov = QGridLayout(outcome)
        self.disposition = QComboBox()
        self.disposition.addItem("Not yet", None)
        for d in DISPOSITIONS:
            self.disposition.addItem(pretty(d), d)
        self.disposition.currentIndexChanged.connect(self._changed)
        ov.addWidget(QLabel("Disposition"), 0, 0)
        ov.addWidget(self.disposition, 0, 1, 1, 2)
        ov.addWidget(self.errors.label("disposition"), 1, 0, 1, 3)
        self.flags: dict[str, QCheckBox] = {}
        for n, f in enumerate(FLAGS):
            box = QCheckBox(FLAG_LABELS.get(f, pretty(f)))
            box.setObjectName(f"flag_{f}")
            box.toggled.connect(self._changed)
            self.flags[f] = box
            ov.addWidget(box, 2 + n // 2, 1 + n % 2)
        self.force_type = QComboBox()
        self.force_type.addItem("Type of force…", None)
        for t in USE_OF_FORCE_TYPES:
            self.force_type.addItem(pretty(t), t)
        self.force_type.currentIndexChanged.connect(self._changed)
        self.flags["use_of_force"].toggled.connect(self.force_type.setEnabled)
        self.force_type.setEnabled(False)
        ov.addWidget(QLabel("Flags"), 2, 0, Qt.AlignmentFlag.AlignTop)
        ov.addWidget(QLabel("Use of force type"), 7, 0)
        ov.addWidget(self.force_type, 7, 1, 1, 2)
        ov.addWidget(self.errors.label("use_of_force_type"), 8, 0, 1, 3)
        v.addWidget(outcome)

        v.addWidget(QLabel("Police note"))
        self.police_note = QPlainTextEdit()
        self.police_note.setObjectName("policeNote")
        self.police_note.setMinimumHeight(120)
        self.police_note.textChanged.connect(self._changed)
        v.addWidget(self.police_note)
        v.addWidget(self.errors.label("police_note"))
        self.clinical_note: QPlainTextEdit | None = None
        if self.clinician:
            v.addWidget(QLabel("Clinical note (clinicians only; saved as a separate, "
                               "append-only note)"))
            self.clinical_note = QPlainTextEdit()
            self.clinical_note.setObjectName("clinicalNote")
            self.clinical_note.setMinimumHeight(120)
            self.clinical_note.textChanged.connect(self._changed)
            v.addWidget(self.clinical_note)
            v.addWidget(self.errors.label("body"))

        actions = QHBoxLayout()
        actions.addWidget(button("New encounter (Ctrl+N)", self.new, name="newEncounter"))
        actions.addStretch(1)
        self.save_button = button("Save encounter (Ctrl+S)", self.save, name="saveEncounter",
                                  primary=True)
        actions.addWidget(self.save_button)
        v.addLayout(actions)

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(form)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        shortcut(self, "Save the encounter", "Ctrl+S", self.save)
        shortcut(self, "Start a new encounter", "Ctrl+N", self.new)
        self.ctx.tasks.db(latest_draft, self.clinician).success(self._restore).run()
        self.ctx.shift_changed.connect(lambda _shift: self.refresh())
        self.refresh()

    def refresh(self) -> None:
        """The form keeps what is typed; only the unit's assignments are reloaded."""
        self.ctx.tasks.db(assignments.open_assignments, self.ctx.unit).success(
            self.assignment.set_assignments).run()

    def start_from_assignment(self, assignment_id: str) -> None:
        """Called from the assignments screen: a new encounter linked to that assignment."""
        self.new()
        self.assignment.choose(assignment_id)
        self.refresh()

    # -- drafts
    def values(self) -> dict:
        checked = self.situation.checkedButton()
        values = {"presenting_situation": checked.property("value") if checked else None,
                  "place": self.place.text().strip() or None,
                  "disposition": self.disposition.currentData(),
                  "police_note": self.police_note.toPlainText() or None,
                  "assignment_id": self.assignment.currentData() or self.assignment.wanted,
                  "use_of_force_type": self.force_type.currentData()
                  if self.flags["use_of_force"].isChecked() else None}
        values.update({f: box.isChecked() for f, box in self.flags.items()})
        if self.ctx.shift_id:
            values["shift_id"] = self.ctx.shift_id
        return values

    def _changed(self, *_args) -> None:
        if self._restoring:
            return
        self._dirty = True
        self._draft_timer.start()

    def flush_draft(self) -> None:
        """Save the draft now (also called when the window closes)."""
        self._draft_timer.stop()
        if not self._dirty:
            return
        self._dirty = False
        body = {"id": self.encounter_id, "values": self.values(), "people": self.people.rows}
        clinical = {"body": self.clinical_note.toPlainText()} if self.clinical_note else None
        self.ctx.tasks.db(save_drafts, self.encounter_id, body, clinical).success(
            lambda _: self.saved_label.setText("Draft saved")).run()

    def _restore(self, draft: dict | None) -> None:
        if not draft:
            return
        self._restoring = True
        try:
            self.encounter_id = draft["id"]
            values = draft.get("values", {})
            for b in self.situation.buttons():
                b.setChecked(b.property("value") == values.get("presenting_situation"))
            self.place.setText(values.get("place") or "")
            self.assignment.choose(values.get("assignment_id"))
            self.disposition.setCurrentIndex(max(0, self.disposition.findData(values.get("disposition"))))
            for f, box in self.flags.items():
                box.setChecked(bool(values.get(f)))
            self.force_type.setCurrentIndex(max(0, self.force_type.findData(values.get("use_of_force_type"))))
            self.police_note.setPlainText(values.get("police_note") or "")
            self.people.set_rows(draft.get("people", []))
            if self.clinical_note is not None:
                self.clinical_note.setPlainText(draft.get("clinical_note", ""))
            self.saved_label.setText("Draft restored")
        finally:
            self._restoring = False

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
        self.ctx.tasks.db(person_on_file, row["id"]).success(self._add_on_file).run()

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
    def save(self) -> None:
        self._draft_timer.stop()
        self.flush_draft()  # queued before the save, so the save's draft discard comes after it
        self.errors.clear()
        clinical = self.clinical_note.toPlainText() if self.clinical_note else ""
        self.save_button.setEnabled(False)
        self.ctx.tasks.db(save, self.encounter_id, self.values(), self.people.rows,
                          clinical).success(self._saved).failure(self._failed).run()

    def _saved(self, _encounter_id: str) -> None:
        self.save_button.setEnabled(True)
        self.ctx.changed.emit("encounter")
        self._clear_form()
        self.saved_label.setText(f"Encounter saved at {clock(now_iso())}")

    def _failed(self, error: BaseException) -> None:
        self.save_button.setEnabled(True)
        self.errors.handle(error)

    def new(self) -> None:
        """Start another encounter; the current one stays as a draft if anything was typed."""
        self.flush_draft()
        self._clear_form()

    def _clear_form(self) -> None:
        self._restoring = True
        try:
            self.encounter_id = new_id()
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
            self.saved_label.clear()
        finally:
            self._restoring = False
