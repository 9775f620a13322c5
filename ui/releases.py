"""Releases of information (42 CFR §2.31), for clinical staff: find the person, see every
release they signed and where each stands (ending soon shows ahead of time, for the whole
team's people too), record a signed one with each element the rule asks for, and record that
the person revoked one. The agency server applies them (who receives which clinical notes)
on the next sync."""

from datetime import timedelta

from fieldapp import labels, persons, releases, roster
from fieldapp.records import RELEASE_SCOPES, ROLES

from . import timefmt
from .context import Context
from .models import RowsListModel, RowsTableModel
from .qt import (QComboBox, QDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QListView,
                 QMessageBox, Qt, QTimer, QVBoxLayout, QWidget)
from .widgets import (FieldErrors, WrappedLabel, add_rows, button, fit_dialog, fit_height,
                      heading, ok_cancel, record_table, scrolling_body, shortcut)

SEARCH_DELAY_MS = 200


def standing(row: dict) -> str:
    """Where a release stands, in words."""
    if row["status"] == releases.EXPIRING:
        return f"⚠ Ends in {row['days_left']} day{'s' if row['days_left'] != 1 else ''}"
    if row["status"] == releases.IN_FORCE:
        return f"In force · {row['days_left']} days left"
    return row["status"].capitalize()


def recipient_words(recipient: str) -> str:
    kind, _, name = recipient.partition(":")
    return {"user": name, "role": f"every {labels.phrase(name)}",
            "team": f"team {name}"}.get(kind, recipient)


class ReleasesModel(RowsTableModel):
    COLUMNS = ("Standing", "To", "Purpose", "Signed", "Ends")
    StatusRole = Qt.ItemDataRole.UserRole + 2

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        row = self.row_at(index)
        if role == self.StatusRole and row is not None:
            return row["status"]
        return super().data(index, role)

    def cells(self, row: dict) -> tuple:
        ends = str(row["expires_on"]) + (f" or when {row['expiry_event']}"
                                         if row.get("expiry_event") else "")
        return (standing(row), recipient_words(row["recipient"]), row["purpose"],
                f"{row['signed_on']}\nby {row.get('signed_by') or 'the patient'}", ends)


class PeopleModel(RowsListModel):
    def display(self, person: dict) -> str:
        return persons.label(person)


class EndingModel(RowsListModel):
    def display(self, row: dict) -> str:
        return (f"{row['label']} → {recipient_words(row['recipient'])}: "
                f"{standing(row)} ({row['expires_on']})")


class ReleasesView(QWidget):
    title = "Releases"

    def __init__(self, ctx: Context):
        super().__init__()
        self.ctx = ctx
        self.person: dict | None = None
        self.errors = FieldErrors()

        self.ending = EndingModel()
        self.ending_view = QListView()
        self.ending_view.setObjectName("releasesEnding")
        self.ending_view.setModel(self.ending)
        self.ending_view.setMaximumHeight(110)
        self.ending_view.clicked.connect(self._pick_ending)
        self.ending_label = QLabel("Ending within two weeks: a new release needs signing in time")

        self.search = QLineEdit(placeholderText="Find the person: name, alias or description")
        self.search.setObjectName("releasePersonSearch")
        self._timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS,
                             timeout=self._search)
        self.search.textChanged.connect(lambda _: self._timer.start())
        self.matches = PeopleModel()
        self.matches_view = QListView()
        self.matches_view.setObjectName("releaseMatches")
        self.matches_view.setModel(self.matches)
        self.matches_view.setMaximumHeight(150)
        self.matches_view.clicked.connect(self._pick_match)
        self.matches_view.activated.connect(self._pick_match)
        self.matches_view.hide()

        self.person_label = WrappedLabel("No one picked yet.")
        self.person_label.setObjectName("subheading")
        self.model = ReleasesModel()
        self.table = record_table(self.model, stretch=(2, 4))
        self.record_button = button("Record a signed release (Ctrl+R)", self.record,
                                    name="recordRelease", primary=True)
        self.revoke_button = button("The person revoked it", self.revoke, name="revokeRelease")
        actions = QHBoxLayout()
        actions.addWidget(self.revoke_button)
        actions.addStretch(1)
        actions.addWidget(self.record_button)

        v = QVBoxLayout(self)
        v.addWidget(heading("Releases of information"))
        v.addWidget(self.errors.general)
        v.addWidget(self.ending_label)
        v.addWidget(self.ending_view)
        v.addWidget(self.search)
        v.addWidget(self.matches_view)
        v.addWidget(self.person_label)
        v.addWidget(self.table, 1)
        v.addLayout(actions)
        shortcut(self, "Find a person", "Ctrl+F", self.search.setFocus)
        shortcut(self, "Record a signed release", "Ctrl+R", self.record)
        ctx.watch(self, {"release_of_information", "person"}, self.refresh)
        self.refresh()

    def refresh(self) -> None:
        self.ctx.tasks.db(releases.expiring).success(self._show_ending).run()
        if self.person:
            self.ctx.tasks.db(releases.for_person, self.person["id"]).success(
                self.model.set_rows).run()

    def _show_ending(self, rows: list[dict]) -> None:
        self.ending.set_rows(rows)
        for w in (self.ending_view, self.ending_label):
            w.setVisible(bool(rows))

    def _search(self) -> None:
        text = self.search.text().strip()
        if not text:
            self._show_matches([])
            return
        self.ctx.tasks.db(persons.search_people, text).success(
            lambda rows, typed=text: typed == self.search.text().strip()
            and self._show_matches(rows)).run()

    def _show_matches(self, rows: list[dict]) -> None:
        self.matches.set_rows(rows)
        self.matches_view.setVisible(bool(rows))

    def _pick_match(self, index) -> None:
        row = self.matches.row_at(index)
        if row:
            self.show_person(row)
            self.search.clear()

    def _pick_ending(self, index) -> None:
        row = self.ending.row_at(index)
        if row:  # their record is read for the label: an audited view
            self.ctx.tasks.db(persons.on_file, row["person_id"]).success(self.show_person).run()

    def show_person(self, person: dict) -> None:
        self.person = person
        self.errors.clear()
        self.person_label.setText(f"Releases signed by {persons.label(person)}")
        self.refresh()

    def selected(self) -> dict | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.row_at(rows[0]) if rows else None

    def record(self) -> None:
        if not self.person:
            self.errors.message("Find the person first: whose release is it?")
            return
        self.ctx.tasks.db(roster.members).success(self._open_dialog).run()

    def _open_dialog(self, members: list[dict]) -> None:
        self.dialog = ReleaseDialog(self.ctx, self.person, members, self)
        self.dialog.open()

    def revoke(self) -> None:
        row = self.selected()
        if row is None or row["status"] == releases.REVOKED:
            self.errors.message("Select a release that is not revoked yet.")
            return
        box = QMessageBox(QMessageBox.Icon.Question, "Revoke release",
                          f"Record that {persons.label(self.person)} revoked the release to "
                          f"{recipient_words(row['recipient'])}? From the next sync it "
                          "discloses nothing more, and notes it disclosed leave those laptops.",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                          self)
        box.setObjectName("confirmRevoke")
        box.buttonClicked.connect(
            lambda b: box.standardButton(b) == QMessageBox.StandardButton.Yes
            and self._revoke(row["id"]))
        box.open()

    def _revoke(self, release_id: str) -> None:
        self.ctx.tasks.db(releases.revoke_release, release_id).failure(
            self.errors.handle).run()  # the list redraws from the change signal


class ReleaseDialog(QDialog):
    """A signed release, element by element as 42 CFR §2.31 lists them."""

    def __init__(self, ctx: Context, person: dict, members: list[dict], parent: QWidget):
        super().__init__(parent)
        self.setObjectName("releaseDialog")
        self.setWindowTitle("Record a signed release of information")
        self.ctx, self.person = ctx, person
        self.errors = FieldErrors()
        self.discloser = QLineEdit(ctx.profile.display_name or ctx.profile.username)
        self.recipient_kind = QComboBox()
        for kind, words in (("user", "A member of the team"), ("role", "Everyone in a role"),
                            ("team", "The whole team")):
            self.recipient_kind.addItem(words, kind)
        self.recipient = QComboBox()
        self.recipient.setObjectName("recipient")
        self.members = members
        self.recipient_kind.currentIndexChanged.connect(self._recipients)
        self.scope = QLabel(", ".join(labels.text(s) for s in RELEASE_SCOPES)
                            + " (what Tandem discloses)")
        self.purpose = QLineEdit(placeholderText="e.g. coordinated follow-up after CRC discharge")
        self.purpose.setObjectName("purpose")
        today = timefmt.today()  # the agency's date
        self.signed_on = QLineEdit(today.isoformat(), placeholderText="YYYY-MM-DD")
        self.signed_on.setObjectName("signedOn")
        self.signed_by = QLineEdit("the patient")
        self.expires_on = QLineEdit((today + timedelta(days=365)).isoformat(),
                                    placeholderText="YYYY-MM-DD, the date written on the form")
        self.expires_on.setObjectName("expiresOn")
        self.expiry_event = QLineEdit(placeholderText="optional: an event that ends it sooner, "
                                                      "e.g. discharge from the program")
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        form.addRow("Patient", QLabel(persons.label(person)))
        add_rows(form, self.errors, [
            ("Who discloses", self.discloser, "discloser"),
            ("To whom", self.recipient_kind, None),
            ("", self.recipient, "recipient"),
            ("What", self.scope, "scope"),
            ("Purpose", self.purpose, "purpose"),
            ("Signed on", self.signed_on, "signed_on"),
            ("Signed by", self.signed_by, "signed_by"),
            ("Ends on", self.expires_on, "expires_on"),
            ("Or when", self.expiry_event, "expiry_event")])
        buttons = ok_cancel(self)
        buttons.accepted.disconnect()
        buttons.accepted.connect(self.save)
        body = QWidget()
        v = QVBoxLayout(body)
        v.addWidget(heading("Record a signed release (42 CFR §2.31)"))
        v.addWidget(self.errors.general)
        v.addLayout(form)
        revoke = WrappedLabel("The patient may revoke it at any time; record that here when "
                              "they do.")
        v.addWidget(revoke)
        scrolling_body(self, body, buttons)
        self._recipients()
        fit_dialog(self, 760, 0)
        fit_height(self)

    def _recipients(self, *_args) -> None:
        kind = self.recipient_kind.currentData()
        self.recipient.clear()
        if kind == "user":
            for m in self.members:
                if m["username"] != self.ctx.profile.username:
                    self.recipient.addItem(f"{m['display_name']} ({labels.text(m['role'])})",
                                           f"user:{m['username']}")
        elif kind == "role":
            for role in ROLES:
                if role != "admin":
                    self.recipient.addItem(f"Every {labels.phrase(role)}", f"role:{role}")
            self.recipient.setCurrentIndex(max(0, self.recipient.findData("role:officer")))
        else:
            for team in self.ctx.profile.teams:
                self.recipient.addItem(f"Team {team}", f"team:{team}")

    def values(self) -> dict:
        return {"discloser": self.discloser.text().strip(),
                "recipient": self.recipient.currentData() or "",
                "scope": ",".join(RELEASE_SCOPES), "purpose": self.purpose.text().strip(),
                "signed_on": self.signed_on.text().strip(),
                "signed_by": self.signed_by.text().strip() or None,
                "expires_on": self.expires_on.text().strip(),
                "expiry_event": self.expiry_event.text().strip() or None}

    def save(self) -> None:
        self.errors.clear()
        self.ctx.tasks.db(releases.add_release, self.person["id"], self.values()).success(
            lambda _: self.accept()).failure(self.errors.handle).run()

