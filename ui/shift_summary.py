"""The end-of-shift summary: what the crew did, in one dialog they can read before logging off.

Shown when a shift ends and from the shift screen for the last ended shift. The numbers come
from fieldapp.shift_summary (fieldapp.metrics over the shift's hours), computed on the DB worker.
"""

from fieldapp import labels
from fieldapp.shift_summary import ShiftSummary
from fieldapp.timeutil import to_iso

from .qt import (QDialog, QDialogButtonBox, QFormLayout, QGridLayout, QGroupBox, QLabel,
                 Qt, QVBoxLayout, QWidget)
from .timefmt import clock, day_clock
from .widgets import WrappedLabel, fit_dialog, heading, vertical_scroll


def duration(minutes: float) -> str:
    """Minutes as '2 h 05 min' or '25 min'; a negative amount keeps its sign."""
    sign, total = ("−" if minutes < 0 else ""), round(abs(minutes))
    if total < 60:
        return f"{sign}{total} min"
    return f"{sign}{total // 60} h {total % 60:02d} min"


class ShiftSummaryDialog(QDialog):
    """`values` maps each shown line's key to its label, so tests read what the crew reads."""

    def __init__(self, summary: ShiftSummary, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("shiftSummary")
        self.summary = summary
        self.values: dict[str, QLabel] = {}
        shift = summary.shift
        self.setWindowTitle(f"Shift summary — unit {shift['unit']}")
        start, end = to_iso(summary.period.start), shift["ended_at"]
        title = heading(f"Unit {shift['unit']} · {day_clock(start)} to "
                        f"{clock(end) if end else 'now'} · {duration(summary.minutes)}")
        note = WrappedLabel(f"Team {shift['team']} over the shift's hours, counted as in the "
                            "monthly report. A dash: nothing to measure.")
        note.setObjectName("subheading")

        grid = QGridLayout()
        grid.setHorizontalSpacing(16)
        boxes = [self._time_box(), self._calls_box(), self._crc_box(), self._care_box(),
                 self._outreach_box(), self._follow_up_box()]
        for n, box in enumerate(boxes):  # two across: whole lines on a 1024×768 screen
            grid.addWidget(box, n // 2, n % 2)
        body = QWidget()
        body.setLayout(grid)
        scroll = vertical_scroll(body)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(note)
        layout.addWidget(scroll, 1)
        layout.addWidget(buttons)
        fit_dialog(self, 900, 680)

    def _box(self, title: str, rows: list[tuple[str, str, str]]) -> QGroupBox:
        """A group of lines: (key, label, shown value)."""
        box = QGroupBox(title)
        form = QFormLayout(box)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
        for key, label, text in rows:
            value = QLabel(text)
            value.setObjectName(f"value_{key}")
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.values[key] = value
            form.addRow(label, value)
        return box

    def _figure(self, key: str, label: str | None = None) -> tuple[str, str, str]:
        figure = self.summary.figures[key]
        return key, label or figure.label, labels.figure_value(figure)

    def _time_box(self) -> QGroupBox:
        s = self.summary
        rows = [(f"status.{status}", labels.text(status), duration(minutes))
                for status, minutes in s.status_minutes.items() if status != "out_of_service"]
        rows.append(("status.changes", "Status changes", str(s.status_changes)))
        return self._box("Time by status", rows)

    def _calls_box(self) -> QGroupBox:
        s = self.summary
        rows = [self._figure("calls.mental_health", "Encounters"),
                self._figure("calls.patrol_taken")]
        rows += [(f"calls.disposition.{d}", labels.text(d), str(n))
                 for d, n in s.dispositions.items()]
        return self._box("Calls and encounters", rows)

    def _crc_box(self) -> QGroupBox:
        s = self.summary
        target = s.parameters.crc_target_minutes
        rows = [self._figure("crc.dropoffs", "Drop-offs"),
                self._figure("crc.transport.voluntary"),
                self._figure("crc.transport.involuntary")]
        rows += [(f"crc.check_in.{n}", f"Check-in {n}",
                  f"{minutes:.1f} min " + ("✓ within target" if minutes <= target else
                                          f"▲ {minutes - target:.1f} over"))
                 for n, minutes in enumerate(s.check_ins, 1)]
        waiting = s.value("crc.dropoffs") - s.value("crc.handed_off")
        if waiting:
            rows.append(("crc.waiting", "Not yet handed off", str(waiting)))
        if s.check_ins:
            rows.append(("crc.within_target", f"Within the {target:g}-minute target",
                         f"{s.check_ins_within_target} of {len(s.check_ins)}"))
        rows.append(self._figure("patrol.time_saved_minutes"))
        return self._box("CRC drop-offs", rows)

    def _care_box(self) -> QGroupBox:
        return self._box("Care and diversion", [self._figure(k) for k in (
            "care.connected_to_care", "care.stabilized_on_scene",
            "care.warm_handoffs_crisis_line", "diversion.deflections",
            "court.emergency_petitions", "force.uses")])

    def _outreach_box(self) -> QGroupBox:
        return self._box("Outreach", [self._figure(k) for k in (
            "outreach.engagements", "outreach.services_offered", "outreach.referrals")])

    def _follow_up_box(self) -> QGroupBox:
        s = self.summary
        return self._box("Follow-ups", [
            ("followups.attempts_logged", "Attempts logged", str(s.follow_up_attempts)),
            ("followups.completed", "Follow-ups completed", str(s.follow_ups_done))])
