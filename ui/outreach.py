"""Outreach contact, for peers on the sidewalk: tap what was offered, given and referred; Save.

A typical anonymous contact is a few toggles and one Save (no typing), well under 30 seconds.
Where the person is living starts at "unsheltered" and engagement at no, the usual answers on
the street (both feed the HMIS export); a different answer is one tap. Refer (Ctrl+R) sends the
selected contact's person to a directory service on the Referrals screen.
"""

import json

from fieldapp import labels, outreach
from fieldapp.records import LIVING_SITUATIONS, OUTREACH_SERVICES, OUTREACH_SUPPLIES
from fieldapp.timeutil import now_iso

from .context import Context
from .models import RowsListModel
from .qt import (QButtonGroup, QComboBox, QGridLayout, QGroupBox, QHBoxLayout, QLabel,
                 QLineEdit, QListView, Qt, QVBoxLayout, QWidget)
from .timefmt import clock
from .widgets import FieldErrors, button, fill_height, fit_rows, heading, shortcut, vertical_scroll

REFERRALS = ("shelter", "crc", "detox", "clinic", "housing_navigator", "crisis_line")
OUTCOMES = ("engaged", "brief_contact", "declined")
DEFAULT_LIVING = "unsheltered"


class RecentContactsModel(RowsListModel):
    def display(self, row: dict) -> str:
        what = [labels.text(x) for x in _list(row["services_offered"]) + _list(row["supplies"])]
        if row["referral"]:
            what.append(f"referred: {labels.text(row['referral'])}")
        return f"{clock(row['contacted_at'])}   {', '.join(what) or 'contact'}" + (
            f" · {row['place']}" if row["place"] else "")


def _list(text: str | None) -> list[str]:
    return json.loads(text) if text else []


class OutreachView(QWidget):
    title = "Outreach"

    def __init__(self, ctx: Context):
        super().__init__()
        self.ctx = ctx
        self.errors = FieldErrors()
        self.services = self._toggles(OUTREACH_SERVICES, "service")
        self.supplies = self._toggles(OUTREACH_SUPPLIES, "supply")
        self.referral = self._toggles(REFERRALS, "referral", exclusive=True)
        self.outcome = self._toggles(OUTCOMES, "outcome", exclusive=True)
        self.place = QLineEdit(placeholderText="place (optional)")
        self.living = QComboBox()
        self.living.setObjectName("livingSituation")
        self.living.setToolTip("Where the person is living now (HMIS current living situation);"
                               " unsheltered unless you change it")
        for value in LIVING_SITUATIONS:
            self.living.addItem(labels.text(value), value)
        self.living.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.living.setMinimumContentsLength(11)  # the place field keeps room at 1024 px
        self.engaged = button("Case planning", name="engaged", checkable=True)
        self.engaged.setProperty("toggle", True)
        self.engaged.setToolTip("Engaged: the person accepted case planning today (HMIS date "
                                "of engagement)")
        self.saved = QLabel()
        self.save_button = button("Save contact (Ctrl+S)", self.save, name="saveContact",
                                  primary=True)
        self.recent = RecentContactsModel()
        self.recent_view = QListView()  # as tall as its rows: the screen scrolls, not the list
        self.recent_view.setModel(self.recent)
        self.recent_view.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.recent.modelReset.connect(lambda: fit_rows(self.recent_view))
        self.recent_view.setToolTip("Recent contacts, newest first")
        self.refer_button = button("Refer selected contact… (Ctrl+R)", self.refer,
                                   name="referContact")
        self.refer_button.setToolTip("Refer the person of the contact selected below to a "
                                     "directory service")

        outer = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(heading("Outreach contact"), 1)
        top.addWidget(self.saved)
        top.addWidget(self.refer_button)
        outer.addLayout(top)
        outer.addWidget(self.errors.general)
        # The whole form scrolls as a page (upwards of 1024×768 the taps all show), the recent
        # contacts under it.
        form = QWidget()
        v = QVBoxLayout(form)
        v.setContentsMargins(0, 0, 0, 0)
        for title, group, field, cols in (("Services offered", self.services, "services_offered", 4),
                                          ("Supplies given", self.supplies, "supplies", 4),
                                          ("Referral", self.referral, "referral", 6),
                                          ("Outcome (optional)", self.outcome, "outcome", 3)):
            box = QGroupBox(title)
            grid = QGridLayout(box)
            grid.setContentsMargins(4, 4, 4, 4)  # four columns beside a scroll bar at 1024 px
            for n, b in enumerate(group.buttons()):
                grid.addWidget(b, n // cols, n % cols)
            v.addWidget(box)
            v.addWidget(self.errors.label(field))
        row = QHBoxLayout()
        row.addWidget(self.living)
        row.addWidget(self.engaged)
        row.addWidget(self.place, 1)
        row.addWidget(self.save_button)
        v.addLayout(row)
        v.addWidget(self.errors.label("place"))
        v.addWidget(QLabel("Recent contacts"))
        v.addWidget(self.recent_view)
        v.addStretch(1)
        outer.addWidget(fill_height(vertical_scroll(form), 200), 1)
        shortcut(self, "Save the outreach contact", "Ctrl+S", self.save)
        ctx.watch(self, {"outreach_contact"}, self.refresh)
        shortcut(self, "Refer the selected contact to a service", "Ctrl+R", self.refer)
        self._reset_living()
        self.refresh()

    def _toggles(self, values, kind: str, exclusive: bool = False) -> QButtonGroup:
        group = QButtonGroup(self)
        group.setExclusive(False)
        for value in values:
            b = button(labels.text(value), name=f"{kind}_{value}", checkable=True)
            b.setProperty("toggle", True)
            b.setProperty("value", value)
            group.addButton(b)
        if exclusive:  # one at most, and a second tap clears it
            group.buttonToggled.connect(lambda b, on: on and self._only(group, b))
        return group

    @staticmethod
    def _only(group: QButtonGroup, chosen) -> None:
        for other in group.buttons():
            if other is not chosen:
                other.setChecked(False)

    @staticmethod
    def _chosen(group: QButtonGroup) -> list[str]:
        return [b.property("value") for b in group.buttons() if b.isChecked()]

    def _reset_living(self) -> None:
        self.living.setCurrentIndex(self.living.findData(DEFAULT_LIVING))
        self.engaged.setChecked(False)

    def refresh(self) -> None:
        self.ctx.tasks.db(outreach.recent_contacts, 20).success(self._show_recent).run()

    def _show_recent(self, rows: list[dict]) -> None:
        selected = self.selected_contact()
        self.recent.set_rows(rows)
        ids = [r["id"] for r in rows]
        if ids:  # keep the selection; else the newest, which Refer then acts on
            self.recent_view.setCurrentIndex(self.recent.index(
                ids.index(selected) if selected in ids else 0))

    def selected_contact(self) -> str | None:
        row = self.recent.data(self.recent_view.currentIndex(), RecentContactsModel.RowRole)
        return row["id"] if row else None

    def refer(self) -> None:
        contact = self.selected_contact()
        if contact is None:
            self.errors.message("Save a contact first: a referral is made on a contact.")
            return
        self.window().show_screen("referrals").refer_from(contact)

    def save(self) -> None:
        self.errors.clear()
        referral, outcome = self._chosen(self.referral), self._chosen(self.outcome)
        self.save_button.setEnabled(False)
        self.ctx.tasks.db(
            outreach.log_contact, services_offered=self._chosen(self.services),
            supplies=self._chosen(self.supplies), referral=referral[0] if referral else None,
            outcome=outcome[0] if outcome else None, place=self.place.text().strip() or None,
            living_situation=self.living.currentData(), engaged=self.engaged.isChecked(),
        ).success(self._saved).failure(self._failed).run()

    def _saved(self, _contact_id: str) -> None:
        self.save_button.setEnabled(True)
        for group in (self.services, self.supplies, self.referral, self.outcome):
            for b in group.buttons():
                b.setChecked(False)
        self.place.clear()
        self._reset_living()
        self.recent_view.setCurrentIndex(self.recent.index(-1))  # the new contact comes first
        self.saved.setText(f"Contact saved at {clock(now_iso())}")

    def _failed(self, error: BaseException) -> None:
        self.save_button.setEnabled(True)
        self.errors.handle(error)
