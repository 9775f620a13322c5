"""The shift screen: start a shift with a partner from the team roster, unit and vehicle from
the car they usually ride in; one-tap status; the timeline. The shift belongs to the car: after
a sync the partner's laptop (or the partner signing in on this one) shows it and adds to its
log."""

from fieldapp import labels, roster, shift_summary, shifts

from .context import Context
from .models import RowsListModel
from .qt import (QComboBox, QFormLayout, QGridLayout, QHBoxLayout, QLabel, QLineEdit, QListView,
                 QMessageBox, QStackedWidget, Qt, QVBoxLayout, QWidget)
from .review import ReturnedNotice
from .shift_summary import ShiftSummaryDialog
from .timefmt import clock
from .widgets import FieldErrors, WrappedLabel, button, heading, shortcut

# The one-tap statuses, in the order a call usually goes; "in service" is set by starting the shift.
TAP_STATUSES = ("en_route", "on_scene", "transporting", "at_crc", "available", "out_of_service")


class TimelineModel(RowsListModel):
    """The shift's status events, newest first; StatusRole gives an event's status."""

    StatusRole = Qt.ItemDataRole.UserRole + 2

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        event = self.row_at(index)
        if role == self.StatusRole and event is not None:
            return event["status"]
        return super().data(index, role)

    def set_events(self, events: list[dict]) -> None:
        self.set_rows(reversed(events))

    def display(self, event: dict) -> str:
        note = f" — {event['note']}" if event.get("note") else ""
        return f"{clock(event['at'])}   {labels.text(event['status'])}{note}"


def load(session) -> dict:
    shift = shifts.active_shift(session)
    return {"shift": shift, "timeline": shifts.timeline(session, shift["id"]) if shift else [],
            **({"partners": [], "cars": {}} if shift else roster.choices(session))}


class ShiftView(QWidget):
    title = "Shift"

    def __init__(self, ctx: Context):
        super().__init__()
        self.ctx = ctx
        self.pages = QStackedWidget()
        self.pages.addWidget(self._start_page())
        self.pages.addWidget(self._on_shift_page())
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages)
        shortcut(self, "Start the shift", "Ctrl+Return", self.start)
        for n, status in enumerate(TAP_STATUSES, 1):
            shortcut(self, f"Status: {labels.text(status)}", f"Alt+{n}",
                     lambda _=False, s=status: self.set_status(s))
        shortcut(self, "End the shift", "Ctrl+Shift+E", self.end)
        # the shift, its events (a sync may bring the partner's shift, or end this one), a
        # supervisor's return of it (the notice on the start page), and the team roster the
        # partner is picked from (the first sync brings it)
        ctx.watch(self, {"shift", "shift_event", "shift_review", "amendment", roster.TABLE},
                  self.refresh)
        self.refresh()

    # -- start page
    def _start_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.errors = FieldErrors()
        self.unit = QLineEdit(placeholderText="e.g. 2M14")
        self.vehicle = QLineEdit(placeholderText="e.g. 4471")
        self.partner = QComboBox()
        self.partner.setObjectName("partner")
        self.partner.currentIndexChanged.connect(self._partner_chosen)
        self.roster_hint = WrappedLabel("Your team's roster arrives with the first sync; until "
                                        "then you can start without a partner.")
        self.cars: dict = {}
        form.addRow("Partner", self.partner)
        form.addRow("", self.roster_hint)
        form.addRow("", self.errors.label("members"))
        form.addRow("Unit", self.unit)
        form.addRow("", self.errors.label("unit"))
        form.addRow("Vehicle", self.vehicle)
        form.addRow("", self.errors.label("vehicle"))
        self.start_button = button("Start shift (Ctrl+Enter)", self.start, name="startShift",
                                   primary=True)
        self.last_summary_button = button("Summary of my last shift", self.show_last_summary,
                                          name="lastShiftSummary")
        self.returned = ReturnedNotice(self.ctx)  # a supervisor's returned shift, to answer
        v = QVBoxLayout(page)
        v.addWidget(heading("Start a shift"))
        v.addWidget(self.returned)
        v.addWidget(self.errors.general)
        v.addLayout(form)
        v.addWidget(self.start_button)
        v.addWidget(self.last_summary_button)
        v.addStretch(1)
        return page

    # -- on-shift page
    def _on_shift_page(self) -> QWidget:
        page = QWidget()
        self.summary = WrappedLabel()
        self.summary.setObjectName("subheading")
        # unit, car, partners and time: two lines on a small screen, not End shift's text cut
        self.current = QLabel()
        self.current.setObjectName("currentStatus")
        grid = QGridLayout()
        self.status_buttons = {}
        for n, status in enumerate(TAP_STATUSES):
            b = button(f"{labels.text(status)}\nAlt+{n + 1}",
                       lambda _=False, s=status: self.set_status(s),
                       name=f"status_{status}")
            b.setProperty("status", True)
            self.status_buttons[status] = b
            grid.addWidget(b, n // 3, n % 3)
        self.timeline = TimelineModel()
        self.timeline_view = QListView()
        self.timeline_view.setModel(self.timeline)
        self.end_button = button("End shift (Ctrl+Shift+E)", self.end, name="endShift")
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.end_button)
        v = QVBoxLayout(page)
        v.addLayout(top)
        v.addWidget(self.current)
        v.addLayout(grid)
        v.addWidget(QLabel("Timeline"))
        v.addWidget(self.timeline_view, 1)
        return page

    def refresh(self) -> None:
        self.ctx.tasks.db(load).success(self._show).run()
        self.returned.refresh()

    def _show(self, loaded: dict) -> None:
        shift = loaded["shift"]
        if (shift and shift["id"]) != self.ctx.shift_id:
            self.ctx.set_shift(shift)
        self.pages.setCurrentIndex(1 if shift else 0)
        if not shift:
            self._show_roster(loaded["partners"], loaded["cars"])
            return
        partners = [m["username"] for m in shift["members"] if m["username"] != self.ctx.profile.username]
        self.summary.setText(
            f"Unit {shift['unit']}" + (f" · vehicle {shift['vehicle']}" if shift["vehicle"] else "")
            + (f" · with {', '.join(partners)}" if partners else "")
            + f" · since {clock(shift['started_at'])}")
        events = loaded["timeline"]
        self.timeline.set_events(events)
        if events:
            last = events[-1]
            self.current.setText(f"{labels.text(last['status'])} since {clock(last['at'])}")
        for status, b in self.status_buttons.items():
            b.setChecked(bool(events) and events[-1]["status"] == status)

    def _show_roster(self, partners: list[dict], cars: dict) -> None:
        """The partners to pick from, keeping the one picked; the car fields fill in."""
        keep = self.partner.currentData()
        self.cars = cars
        self.partner.blockSignals(True)
        self.partner.clear()
        self.partner.addItem("No partner", None)
        for m in partners:
            self.partner.addItem(f"{m['display_name']} — {labels.text(m['role'])} "
                                 f"({m['username']})",
                                 {"username": m["username"], "role": m["role"]})
        self.partner.setCurrentIndex(max(0, next(
            (n for n in range(self.partner.count()) if self.partner.itemData(n) == keep), 0)))
        self.partner.blockSignals(False)
        self.partner.setEnabled(bool(partners))
        self.roster_hint.setVisible(not partners)
        self._partner_chosen()

    def _partner_chosen(self, *_args) -> None:
        """Unit and vehicle default to this user's usual car, else the partner's; what is
        typed stays."""
        picked = self.partner.currentData()
        car = self.cars.get(picked["username"] if picked else None) or self.cars.get(None) or {}
        for field, value in ((self.unit, car.get("unit")), (self.vehicle, car.get("vehicle"))):
            if value and (not field.text() or not field.isModified()):
                field.setText(value)

    def start(self) -> None:
        if self.pages.currentIndex() != 0:
            return
        self.errors.clear()
        partners = [self.partner.currentData()] if self.partner.currentData() else []
        self.start_button.setEnabled(False)
        self.ctx.tasks.db(shifts.start_shift, self.unit.text().strip(),
                          self.vehicle.text().strip() or None, partners
                          ).success(self._started).failure(self._failed).run()

    def _started(self, _shift_id) -> None:
        self.start_button.setEnabled(True)

    def _failed(self, error: BaseException) -> None:
        self.start_button.setEnabled(True)
        self.errors.handle(error)

    def set_status(self, status: str) -> None:
        if not self.ctx.shift_id or self.pages.currentIndex() != 1:
            return
        self.ctx.tasks.db(shifts.set_status, self.ctx.shift_id, status).run()

    def end(self) -> None:
        if not self.ctx.shift_id:
            return
        box = QMessageBox(QMessageBox.Icon.Question, "End shift",
                          "End this shift and go out of service?",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, self)
        box.setObjectName("confirmEndShift")
        box.buttonClicked.connect(
            lambda b: box.standardButton(b) == QMessageBox.StandardButton.Yes and self._end_confirmed())
        box.open()

    def _end_confirmed(self) -> None:
        shift_id = self.ctx.shift_id
        self.ctx.tasks.db(shifts.end_shift, shift_id).success(
            lambda _: self._ended(shift_id)).run()

    def _ended(self, shift_id: str) -> None:
        self.ctx.set_shift(None)
        self.ctx.tasks.db(shift_summary.summarize, shift_id).success(self._show_summary).run()

    def show_last_summary(self) -> None:
        self.ctx.tasks.db(shift_summary.summarize_last).success(self._show_summary).run()

    def _show_summary(self, summary) -> None:
        if summary is None:
            self.errors.message("No shift of yours has ended on this laptop yet.")
            return
        self.summary_dialog = ShiftSummaryDialog(summary, self)
        self.summary_dialog.open()
