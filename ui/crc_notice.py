"""The pre-arrival notice on the CRC drop-off screen: send it when the transport starts, update
or cancel it from the same place, and see whether it has reached the agency server yet.

It holds only what the CRC needs to get ready (fieldapp/crc_notice.py); the name field shows
only where the agency allows names in notices.
"""

from typing import Callable

from fieldapp import crc_notice, labels
from fieldapp.records import AGE_GROUPS

from .context import Context
from .qt import (QButtonGroup, QCheckBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                 QSpinBox, QVBoxLayout, QWidget)
from .timefmt import clock
from .widgets import FieldErrors, WrappedLabel, button


class NoticePanel(QWidget):
    """The notice's form; what it sends reaches the drop-off screen by the change signal."""

    def __init__(self, ctx: Context, transport: Callable[[], str]):
        super().__init__()
        self.ctx, self.transport = ctx, transport
        self.notice: dict | None = None
        self.encounter_id: str | None = None
        self.errors = FieldErrors()
        self.state = WrappedLabel("No pre-arrival notice sent")
        self.state.setObjectName("noticeState")
        self.eta = QSpinBox(minimum=0, maximum=crc_notice.ETA_MAX_MINUTES, suffix=" min")
        self.eta.setObjectName("noticeEta")
        self.eta.setSpecialValueText("from distance")
        self.age = QButtonGroup(self)
        ages = QHBoxLayout()
        for group in AGE_GROUPS:
            b = button(labels.text(group), name=f"age_{group}", checkable=True)
            b.setProperty("toggle", True)
            b.setProperty("value", group)
            self.age.addButton(b)
            ages.addWidget(b)
        self.cautions = QLineEdit(placeholderText="e.g. spits, hides blades; none if blank")
        self.cautions.setObjectName("noticeCautions")
        self.pickup = QCheckBox("Pickup order applies")
        self.petition = QCheckBox("Emergency petition applies")
        self.name = QLineEdit()
        self.name.setObjectName("noticeName")
        self.send_button = button("Send notice — transporting to the CRC", self.send,
                                  name="sendNotice", primary=True)
        self.cancel_button = button("Cancel notice", self.cancel, name="cancelNotice")
        form = QFormLayout()
        # On a narrow screen a field goes under its label: the age buttons beside the longest
        # label made the CRC screen wider than 1024 px less the navigation and a scroll bar.
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.addRow("Minutes to arrival", self.eta)
        form.addRow("", self.errors.label("eta_at"))
        form.addRow("Age group", ages)
        form.addRow("Safety cautions", self.cautions)
        flags = QHBoxLayout()
        flags.addWidget(self.pickup)
        flags.addWidget(self.petition)
        form.addRow("", flags)
        self.name_label = QLabel("Name (your agency sends names)")
        form.addRow(self.name_label, self.name)
        form.addRow("", self.errors.label("person_name"))
        row = QHBoxLayout()
        row.addWidget(self.send_button)
        row.addWidget(self.cancel_button)
        v = QVBoxLayout(self)
        v.setContentsMargins(0, 0, 0, 0)
        v.addWidget(self.state)
        v.addWidget(self.errors.general)
        v.addLayout(form)
        v.addLayout(row)

    def show_notice(self, notice: dict | None, form: dict | None) -> None:
        """The open notice (to update or cancel), else the form's starting values."""
        self.notice = notice
        values = notice or form or {}
        self.encounter_id = values.get("encounter_id")
        names = bool(form and form.get("names_allowed")) or bool(notice and notice["person_name"])
        self.name.setVisible(names)
        self.name_label.setVisible(names)
        if notice:
            where = "reached the CRC's board" if notice["sent"] else \
                "waiting to send (goes on the next sync)"
            self.state.setText(f"Notice sent {clock(notice['sent_at'])}, ETA "
                               f"{clock(notice['eta_at'])}: {where}")
            self.eta.setValue(0)
            self.send_button.setText("Update notice")
        else:
            self.state.setText("No pre-arrival notice sent")
            self.eta.setValue(values.get("eta_minutes") or 0)
            self.send_button.setText("Send notice — transporting to the CRC")
        self.cancel_button.setVisible(bool(notice))
        for b in self.age.buttons():
            b.setChecked(b.property("value") == values.get("age_group", "adult"))
        self.cautions.setText(values.get("safety_cautions") or "")
        self.pickup.setChecked(bool(values.get("pickup_order")))
        self.petition.setChecked(bool(values.get("emergency_petition")))
        self.name.setText(values.get("person_name") or "")

    def _values(self) -> dict:
        return {"transport": self.transport(),
                "age_group": self.age.checkedButton().property("value"),
                "eta_minutes": self.eta.value() or None,
                "safety_cautions": self.cautions.text(), "pickup_order": self.pickup.isChecked(),
                "emergency_petition": self.petition.isChecked(),
                "person_name": self.name.text() if self.name.isVisible() else ""}

    def send(self) -> None:
        self.errors.clear()
        if self.notice:
            job = self.ctx.tasks.db(crc_notice.update, self.notice["id"], **self._values())
        else:
            job = self.ctx.tasks.db(crc_notice.send, encounter_id=self.encounter_id,
                                    shift_id=self.ctx.shift_id, **self._values())
        job.failure(self.errors.handle).run()

    def cancel(self) -> None:
        if self.notice:
            self.ctx.tasks.db(crc_notice.cancel, self.notice["id"]).failure(
                self.errors.handle).run()
