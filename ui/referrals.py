"""Referrals: send a person from an encounter or an outreach contact to a directory service,
and move the team's referrals on (accepted, declined, completed) as word comes back."""

from fieldapp import directory, labels, referrals
from fieldapp.records import REFERRAL_CATEGORIES

from .context import DIRECTORY, Context
from .models import RowsTableModel
from .qt import (QAbstractItemView, QCheckBox, QComboBox, QGroupBox, QHBoxLayout, QLabel,
                 QLineEdit, QListView, Qt, QTimer, QVBoxLayout, QWidget)
from .resources import SEARCH_DELAY_MS, ResultsModel
from .timefmt import day_clock
from .widgets import (FieldErrors, WrappedLabel, button, fill_height, heading, record_table,
                      shortcut)

OUTCOMES = ("accepted", "declined", "completed")


def search(session, text: str) -> list[dict]:
    return directory.search(session.db, text, limit=30)


def load(session, open_only: bool) -> dict:
    return {"sources": referrals.recent_sources(session),
            "referrals": referrals.team_referrals(session, open_only)}


class ReferralsModel(RowsTableModel):
    COLUMNS = ("Sent", "Service", "For", "Made on", "Status")

    def cells(self, row: dict) -> tuple:
        service = row["service_name"] + (f" — {row['organization_name']}"
                                         if row.get("organization_name") else "")
        made_on = "encounter" if row.get("encounter_id") else "outreach contact"
        return (day_clock(row["sent_at"]), service, labels.text(row["category"]), made_on,
                labels.text(row["status"]))


class ReferralsView(QWidget):
    title = "Referrals"

    def __init__(self, ctx: Context):
        super().__init__()
        self.ctx = ctx
        self.errors = FieldErrors()
        self.wanted_source: str | None = None
        self.source = QComboBox()
        self.source.setObjectName("referralSource")
        self.source.currentIndexChanged.connect(self._source_chosen)
        self.person = QComboBox()
        self.person.setObjectName("referralPerson")
        self.query = QLineEdit(placeholderText="Search the directory for the service (Ctrl+F)")
        self.query.setObjectName("referralSearch")
        self.query.setClearButtonEnabled(True)
        self._timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS,
                             timeout=self.search)
        self.query.textChanged.connect(self._timer.start)
        self.results = ResultsModel()
        self.results_view = QListView()
        self.results_view.setModel(self.results)
        self.results_view.setWordWrap(True)
        self.results_view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.results_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self._suggest = True  # a newly selected service suggests its category
        self.results_view.selectionModel().currentChanged.connect(self._service_chosen)
        self.category = QComboBox()
        self.category.setObjectName("referralCategory")
        for c in REFERRAL_CATEGORIES:
            self.category.addItem(labels.text(c), c)
        self.note = QLineEdit(placeholderText="what for, who to ask for (optional; not a "
                                              "clinical note)")
        self.note.setMaxLength(2000)
        self.send_button = button("Send referral (Ctrl+S)", self.send, name="sendReferral",
                                  primary=True)
        self.sent = WrappedLabel()

        self.model = ReferralsModel()
        self.table = record_table(self.model, stretch=(1,))
        self.open_only = QCheckBox("Open only")
        self.open_only.setChecked(True)
        self.open_only.toggled.connect(self.refresh)
        self.outcome_buttons = {}
        outcomes = QHBoxLayout()
        outcomes.addWidget(QLabel("The selected referral was"))
        for n, status in enumerate(OUTCOMES, 1):
            b = button(f"{labels.text(status)} (Alt+{n})", lambda _=False, s=status: self.mark(s),
                       name=f"referral_{status}")
            self.outcome_buttons[status] = b
            outcomes.addWidget(b)
            shortcut(self, f"Mark the referral {status}", f"Alt+{n}",
                     lambda _=False, s=status: self.mark(s))
        outcomes.addStretch(1)

        new = QGroupBox("New referral")
        form = QVBoxLayout(new)
        made_on = QHBoxLayout()
        made_on.addWidget(QLabel("Made on"))
        made_on.addWidget(self.source, 3)
        made_on.addWidget(QLabel("Person"))
        made_on.addWidget(self.person, 2)
        form.addLayout(made_on)
        form.addWidget(self.errors.label("encounter_id"))
        form.addWidget(self.query)
        form.addWidget(fill_height(self.results_view), 1)
        form.addWidget(self.errors.label("service_id"))
        send = QHBoxLayout()
        send.addWidget(QLabel("For"))
        send.addWidget(self.category)
        send.addWidget(self.note, 1)
        send.addWidget(self.send_button)
        form.addLayout(send)
        listed = QHBoxLayout()
        listed.addWidget(QLabel("The team's referrals"), 1)
        listed.addWidget(self.open_only)
        top = QHBoxLayout()
        top.addWidget(heading("Referrals"), 1)
        top.addWidget(self.sent)
        v = QVBoxLayout(self)
        v.addLayout(top)
        v.addWidget(self.errors.general)
        v.addWidget(new, 3)
        v.addLayout(listed)
        v.addWidget(fill_height(self.table), 1)
        v.addLayout(outcomes)
        shortcut(self, "Search the directory for the service", "Ctrl+F", self.focus_search)
        shortcut(self, "Send the referral", "Ctrl+S", self.send)
        # the referrals, and what they are made from (encounters, outreach contacts, people)
        ctx.watch(self, {"referral", "encounter", "outreach_contact", "person"}, self.refresh)
        ctx.watch(self, {DIRECTORY}, lambda: self.search(keep_choice=True))
        self.refresh()
        self.search()

    # -- loading
    def refresh(self) -> None:
        self.ctx.tasks.db(load, self.open_only.isChecked()).success(self._show).run()

    def _show(self, found: dict) -> None:
        wanted = self.wanted_source or (self.source.currentData() or {}).get("id")
        person = self.person.currentData()  # kept when the same record is shown again
        self.source.blockSignals(True)
        self.source.clear()
        for s in found["sources"]:
            kind = "Encounter" if s["kind"] == "encounter" else "Outreach"
            what = ", ".join(labels.text(w.strip()) for w in s["what"].split(",") if w.strip())
            people = ", ".join(p["label"] for p in s["people"])
            self.source.addItem(" · ".join(x for x in (day_clock(s["at"]), kind, what, people)
                                           if x), s)
        self.source.blockSignals(False)
        ids = [self.source.itemData(i)["id"] for i in range(self.source.count())]
        self.source.setCurrentIndex(ids.index(wanted) if wanted in ids else 0)
        self._source_chosen()
        if self.person.findData(person) >= 0:
            self.person.setCurrentIndex(self.person.findData(person))
        self.wanted_source = None
        selected = self.selected_id()
        self.model.set_rows(found["referrals"])
        for n, row in enumerate(found["referrals"]):
            if row["id"] == selected:
                self.table.selectRow(n)

    def refer_from(self, contact_or_encounter_id: str) -> None:
        """Called from another screen: make the next referral on that record."""
        self.wanted_source = contact_or_encounter_id
        self.refresh()
        self.focus_search()

    def _source_chosen(self, *_args) -> None:
        source = self.source.currentData()
        self.person.clear()
        people = source["people"] if source else []
        if not people:
            self.person.addItem("Not identified", None)
        for p in people:
            self.person.addItem(p["label"], p["id"])

    # -- the service
    def focus_search(self) -> None:
        self.query.setFocus()
        self.query.selectAll()

    def search(self, keep_choice: bool = False) -> None:
        """Look the typed text up; the first service found is selected. With `keep_choice` (the
        directory changed under a sync) the selection and the category stay as the user left
        them: a sync never picks a service or a category for them."""
        self._timer.stop()
        text = self.query.text()
        self.ctx.tasks.db(search, text).success(
            lambda rows, t=text: self._results(t, rows, keep_choice)).run()

    def _results(self, text: str, rows: list[dict], keep_choice: bool) -> None:
        if text != self.query.text():
            return  # typing moved on
        selected = (self.selected_service() or {}).get("id")
        ids = [r.get("id") for r in rows]
        if selected in ids:
            row = ids.index(selected)
        elif rows and not keep_choice:
            row = 0
        else:
            row = None
        self._suggest = selected not in ids  # the same service again keeps the chosen category
        self.results.set_rows(rows)
        if row is not None:
            self.results_view.setCurrentIndex(self.results.index(row))
        self._suggest = True

    def selected_service(self) -> dict | None:
        index = self.results_view.currentIndex()
        return self.results.data(index, ResultsModel.RowRole) if index.isValid() else None

    def _service_chosen(self, *_args) -> None:
        service = self.selected_service()
        if service and self._suggest:
            self.category.setCurrentIndex(self.category.findData(
                referrals.suggested_category(service)))

    # -- sending and moving on
    def send(self) -> None:
        self.errors.clear()
        source, service = self.source.currentData(), self.selected_service()
        if source is None:
            self.errors.message("Log an encounter or an outreach contact first: a referral is "
                                "made on one.")
            return
        if service is None:
            self.errors.message("Search for the service and select it.")
            return
        made_on = ({"encounter_id": source["id"]} if source["kind"] == "encounter"
                   else {"outreach_contact_id": source["id"]})
        self.send_button.setEnabled(False)
        self.ctx.tasks.db(referrals.refer, service_id=service["id"],
                          category=self.category.currentData(),
                          person_id=self.person.currentData(), note=self.note.text().strip(),
                          **made_on).success(lambda _id, s=service: self._sent(s)).failure(
            self._failed).run()

    def _sent(self, service: dict) -> None:
        self.send_button.setEnabled(True)
        self.note.clear()
        self.sent.setText(f"Referred to {service['name']}")

    def _failed(self, error: BaseException) -> None:
        self.send_button.setEnabled(True)
        self.errors.handle(error)

    def selected_id(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.data(rows[0], ReferralsModel.IdRole) if rows else None

    def mark(self, status: str) -> None:
        self.errors.clear()
        referral_id = self.selected_id()
        if referral_id is None:
            self.errors.message("Select a referral in the list first.")
            return
        self.ctx.tasks.db(referrals.set_status, referral_id, status).success(
            lambda _r: self._marked(status)).failure(self.errors.handle).run()

    def _marked(self, status: str) -> None:
        self.sent.setText(f"Marked {status}")
