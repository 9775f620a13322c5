"""Outreach contact, for peers on the sidewalk: tap what was offered, given and referred; Save.

A typical anonymous contact is a few toggles and one Save (no typing), well under 30 seconds.
"""

import json

from fieldapp import outreach
from fieldapp.timeutil import now_iso

from .context import Context
from .models import RowsListModel
from .qt import (QButtonGroup, QGridLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QListView,
                 Qt, QVBoxLayout, QWidget)
from .timefmt import clock
from .widgets import FieldErrors, button, fit_rows, heading, pretty, shortcut, vertical_scroll

SERVICES = ("shelter_info", "food", "medical_care", "mental_health", "substance_use_support",
            "housing_navigation", "id_documents", "benefits")
SUPPLIES = ("water", "food_pack", "hygiene_kit", "socks", "blanket", "naloxone", "bus_pass",
            "phone_charge")
REFERRALS = ("shelter", "crc", "detox", "clinic", "housing_navigator", "crisis_line")
OUTCOMES = ("engaged", "brief_contact", "declined")


class RecentContactsModel(RowsListModel):
    def display(self, row: dict) -> str:
        what = [pretty(x) for x in _list(row["services_offered"]) + _list(row["supplies"])]
        if row["referral"]:
            what.append(f"referred: {pretty(row['referral'])}")
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
        self.services = self._toggles(SERVICES, "service")
        self.supplies = self._toggles(SUPPLIES, "supply")
        self.referral = self._toggles(REFERRALS, "referral", exclusive=True)
        self.outcome = self._toggles(OUTCOMES, "outcome", exclusive=True)
        self.place = QLineEdit(placeholderText="place (optional)")
        self.saved = QLabel()
        self.save_button = button("Save contact (Ctrl+S)", self.save, name="saveContact",
                                  primary=True)
        self.recent = RecentContactsModel()
        self.recent_view = QListView()  # as tall as its rows: the screen scrolls, not the list
        self.recent_view.setModel(self.recent)
        self.recent_view.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.recent.modelReset.connect(lambda: fit_rows(self.recent_view))

        outer = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(heading("Outreach contact"), 1)
        top.addWidget(self.saved)
        outer.addLayout(top)
        outer.addWidget(self.errors.general)
        # The taps scroll (upwards of 1024×768 they all show); the recent contacts stay below.
        form = QWidget()
        v = QVBoxLayout(form)
        v.setContentsMargins(0, 0, 0, 0)
        boxes = {}
        for title, group, field, cols in (("Services offered", self.services, "services_offered", 4),
                                          ("Supplies given", self.supplies, "supplies", 4),
                                          ("Referral", self.referral, "referral", 6),
                                          ("Outcome (optional)", self.outcome, "outcome", 3)):
            box = QGroupBox(title)
            grid = QGridLayout(box)
            grid.setContentsMargins(8, 4, 8, 4)
            for n, b in enumerate(group.buttons()):
                grid.addWidget(b, n // cols, n % cols)
            boxes[field] = box
        for field in ("services_offered", "supplies", "referral"):
            v.addWidget(boxes[field])
            v.addWidget(self.errors.label(field))
        # The outcome, the place and Save share a row: the form fits a 1024×768 screen.
        finish = QGridLayout()
        finish.addWidget(boxes["outcome"], 0, 0, 2, 1)
        finish.addWidget(self.place, 0, 1)
        finish.addWidget(self.save_button, 1, 1)
        finish.addWidget(self.errors.label("outcome"), 2, 0)
        finish.addWidget(self.errors.label("place"), 2, 1)
        finish.setColumnStretch(0, 3)
        finish.setColumnStretch(1, 2)
        v.addLayout(finish)
        v.addWidget(QLabel("Recent contacts"))
        v.addWidget(self.recent_view)
        v.addStretch(1)
        outer.addWidget(vertical_scroll(form), 1)
        shortcut(self, "Save the outreach contact", "Ctrl+S", self.save)
        self.refresh()

    def _toggles(self, values, kind: str, exclusive: bool = False) -> QButtonGroup:
        group = QButtonGroup(self)
        group.setExclusive(False)
        for value in values:
            b = button(pretty(value), name=f"{kind}_{value}", checkable=True)
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

    def refresh(self) -> None:
        self.ctx.tasks.db(outreach.recent_contacts, 20).success(self.recent.set_rows).run()

    def save(self) -> None:
        self.errors.clear()
        referral, outcome = self._chosen(self.referral), self._chosen(self.outcome)
        self.save_button.setEnabled(False)
        self.ctx.tasks.db(
            outreach.log_contact, services_offered=self._chosen(self.services),
            supplies=self._chosen(self.supplies), referral=referral[0] if referral else None,
            outcome=outcome[0] if outcome else None, place=self.place.text().strip() or None,
        ).success(self._saved).failure(self._failed).run()

    def _saved(self, _contact_id: str) -> None:
        self.save_button.setEnabled(True)
        for group in (self.services, self.supplies, self.referral, self.outcome):
            for b in group.buttons():
                b.setChecked(False)
        self.place.clear()
        self.saved.setText(f"Contact saved at {clock(now_iso())}")
        self.ctx.changed.emit("outreach_contact")
        self.refresh()

    def _failed(self, error: BaseException) -> None:
        self.save_button.setEnabled(True)
        self.errors.handle(error)
