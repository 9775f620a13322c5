"""CRC drop-off: start on arrival at the sally port, mark handed off, then cleared. Started from
an encounter, the drop-off is linked to it and to whom it is for, which the screen shows.

A large clock, readable from the driver's seat, counts arrival to hand-off against the target
(7 minutes unless the setting says otherwise): green, amber in the last 2 minutes, red over.
When it runs over, the screen asks for the reason, which clearing requires.
"""

from fieldapp import crc, crc_notice, labels, settings
from fieldapp.records import TRANSPORT_KINDS
from fieldapp.timeutil import parse_iso, utc_now

from .context import Context
from .crc_notice import NoticePanel
from .qt import (QButtonGroup, QComboBox, QHBoxLayout, QLabel, QLineEdit, QStackedWidget, Qt,
                 QTimer, QVBoxLayout, QWidget)
from .timefmt import clock
from .widgets import FieldErrors, WrappedLabel, button, heading, set_state, shortcut

NEAR_SECONDS = 120  # amber this long before the target


def load(session, encounter_id: str | None = None) -> dict:
    dropoff = crc.open_dropoff(session)
    notice = crc_notice.open_notice(session)
    return {"dropoff": dropoff, "target_minutes": settings.get(session.db, "crc_target_minutes"),
            "notice": notice,
            "form": None if notice else crc_notice.defaults(session, encounter_id),
            "status": crc_notice.status(session.db),
            "halves": crc_notice.halves(session, dropoff) if dropoff else None}


def halves_text(halves: list[dict]) -> str:
    """The unit's and the CRC's times side by side, and by how much they differ."""
    lines = []
    for h in halves:
        line = f"{h['what'].capitalize()}: unit {clock(h['unit']) if h['unit'] else '—'}, " \
               f"CRC {clock(h['crc']) if h['crc'] else '—'}"
        if h["difference_s"] is not None:
            seconds = int(h["difference_s"])
            line += f" (CRC {mmss(abs(seconds))} {'later' if seconds > 0 else 'earlier'})"
        lines.append(line)
    return "\n".join(lines)


def mmss(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


def clock_state(elapsed: float, target: float) -> str:
    if elapsed > target:
        return "over"
    return "near" if elapsed >= target - NEAR_SECONDS else "ok"


class CrcView(QWidget):
    title = "CRC drop-off"

    def __init__(self, ctx: Context):
        super().__init__()
        self.ctx = ctx
        self.dropoff: dict | None = None
        self.source: dict | None = None  # the encounter the next drop-off starts from
        self.notice: dict | None = None
        self.target_seconds = 7 * 60.0
        self.errors = FieldErrors()
        self.pages = QStackedWidget()
        self.pages.addWidget(self._arrive_page())
        self.pages.addWidget(self._clock_page())
        self.status = QLabel(crc_notice.status_text(None, clock))
        self.status.setObjectName("crcStatus")
        v = QVBoxLayout(self)
        v.addWidget(heading("CRC drop-off"))
        v.addWidget(self.status)
        v.addWidget(self.errors.general)
        v.addWidget(self.pages, 1)
        self._tick = QTimer(self, interval=1000, timeout=self._update_clock)
        shortcut(self, "Next step: arrived / handed off / cleared", "Ctrl+Return", self.next_step)
        # the drop-off, its pre-arrival notice, and the CRC's status as the last pull brought it
        ctx.watch(self, {"crc_dropoff", "crc_notice", "crc_status"}, self.refresh)
        self.refresh()

    def _arrive_page(self) -> QWidget:
        page = QWidget()
        self.transport = QButtonGroup(self)
        row = QHBoxLayout()
        for kind in TRANSPORT_KINDS:
            b = button(labels.text(kind), name=f"transport_{kind}", checkable=True)
            b.setProperty("toggle", True)
            b.setProperty("value", kind)
            self.transport.addButton(b)
            row.addWidget(b)
        self.transport.buttons()[0].setChecked(True)
        self.notice_panel = NoticePanel(
            self.ctx, lambda: self.transport.checkedButton().property("value"))
        self.arrive_button = button("Arrived at the sally port — start the clock (Ctrl+Enter)",
                                    self.arrive, name="arrive", primary=True)
        self.arrive_button.setMinimumHeight(64)
        self.source_label = WrappedLabel()
        self.source_label.setObjectName("subheading")
        self.person = QComboBox()
        self.person.setObjectName("dropoffPerson")
        for w in (self.source_label, self.person):
            w.hide()
        v = QVBoxLayout(page)
        v.addWidget(self.source_label)
        v.addWidget(self.person)
        v.addWidget(QLabel("Transport"))
        v.addLayout(row)
        v.addWidget(self.errors.label("transport"))
        v.addWidget(self.notice_panel)
        v.addSpacing(24)
        v.addWidget(self.arrive_button)
        v.addStretch(1)
        return page

    def _clock_page(self) -> QWidget:
        page = QWidget()
        self.clock = QLabel("00:00")
        self.clock.setObjectName("crcClock")
        self.clock.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.target_label = QLabel()
        self.target_label.setObjectName("crcTarget")
        self.target_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.times = QLabel()
        self.times.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.for_label = WrappedLabel()
        self.for_label.setObjectName("crcFor")
        self.for_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.halves = QLabel()
        self.halves.setObjectName("crcHalves")
        self.halves.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.reason_label = QLabel("Over target — why did check-in take longer?")
        self.reason = QLineEdit(placeholderText="e.g. medical clearance needed, intake queue")
        self.reason.setObjectName("delayReason")
        self.handoff_button = button("Handed off (Ctrl+Enter)", self.hand_off, name="handOff",
                                     primary=True)
        self.clear_button = button("Cleared — back in service (Ctrl+Enter)", self.clear,
                                   name="clearDropoff", primary=True)
        for b in (self.handoff_button, self.clear_button):
            b.setMinimumHeight(80)
        v = QVBoxLayout(page)
        v.addWidget(self.for_label)
        v.addWidget(self.clock, 1)
        v.addWidget(self.target_label)
        v.addWidget(self.times)
        v.addWidget(self.halves)
        v.addWidget(self.reason_label)
        v.addWidget(self.reason)
        v.addWidget(self.errors.label("delay_reason"))
        row = QHBoxLayout()
        row.addWidget(self.handoff_button)
        row.addWidget(self.clear_button)
        v.addLayout(row)
        return page

    def refresh(self) -> None:
        encounter = (self.source or {}).get("encounter_id")
        self.ctx.tasks.db(load, encounter).success(self._show).run()

    def _show(self, loaded: dict) -> None:
        self.dropoff = loaded["dropoff"]
        self.target_seconds = loaded["target_minutes"] * 60.0
        self.notice = loaded["notice"]
        self.status.setText(crc_notice.status_text(loaded["status"], clock))
        self.notice_panel.show_notice(self.notice, loaded["form"])
        if self.dropoff is None:
            self._tick.stop()
            self.pages.setCurrentIndex(0)
            self.arrive_button.setEnabled(True)
            return
        self.pages.setCurrentIndex(1)
        self.for_label.setText(f"For {self.dropoff['for']}" if self.dropoff["for"] else
                               "Not linked to an encounter")
        handed = bool(self.dropoff["handed_off_at"])
        self.handoff_button.setVisible(not handed)
        self.clear_button.setVisible(handed)
        self.halves.setText(halves_text(loaded["halves"]))
        self.times.setText(
            f"{labels.text(self.dropoff['transport'])} · "
            f"arrived {clock(self.dropoff['arrived_at'])}"
            + (f" · handed off {clock(self.dropoff['handed_off_at'])}" if handed else ""))
        if self.dropoff.get("delay_reason") and not self.reason.text():
            self.reason.setText(self.dropoff["delay_reason"])
        self._update_clock()
        if handed:
            self._tick.stop()
        else:
            self._tick.start()

    def elapsed(self) -> float:
        """Arrival to hand-off, or to now while waiting (shown locally; no DB work per tick)."""
        d = self.dropoff
        end = parse_iso(d["handed_off_at"]) if d["handed_off_at"] else utc_now()
        return (end - parse_iso(d["arrived_at"])).total_seconds()

    def _update_clock(self) -> None:
        if self.dropoff is None:
            return
        # Whole seconds, so the clock and what is left always add up to the target.
        elapsed = int(self.elapsed())
        state = clock_state(elapsed, self.target_seconds)
        self.clock.setText(mmss(elapsed))
        set_state(self.clock, "state", state)
        target = mmss(self.target_seconds)
        if state == "over":
            self.target_label.setText(f"Target {target} — {mmss(elapsed - self.target_seconds)} over")
        else:
            self.target_label.setText(f"Target {target} — {mmss(self.target_seconds - elapsed)} left")
        self.reason_label.setVisible(state == "over")
        self.reason.setVisible(state == "over")

    def next_step(self) -> None:
        if self.pages.currentIndex() == 0:
            self.arrive()
        elif self.dropoff and not self.dropoff["handed_off_at"]:
            self.hand_off()
        else:
            self.clear()

    def start_from_encounter(self, encounter_id: str) -> None:
        """Called from an encounter: the next drop-off links to it and to whom it is for."""
        self.ctx.tasks.db(crc.from_encounter, encounter_id).success(self._show_source).failure(
            self.errors.handle).run()

    def _show_source(self, source: dict) -> None:
        self.source = source
        where = f"From the encounter at {source['place'] or 'no place given'}, " \
                f"{clock(source['started_at'])}"
        people = source["people"]
        if len(people) > 1:
            self.source_label.setText(f"{where}. Whom is it for?")
        else:
            self.source_label.setText(f"{where}, for "
                                      f"{people[0]['label'] if people else 'someone not named'}")
        self.person.clear()
        for p in people:
            self.person.addItem(p["label"], p["id"])
        self.source_label.show()
        self.person.setVisible(len(people) > 1)
        for b in self.transport.buttons():
            b.setChecked(b.property("value") == source["transport"])
        self.refresh()  # the notice form starts from this encounter

    def arrive(self) -> None:
        if self.dropoff is not None:
            return
        self.errors.clear()
        self.arrive_button.setEnabled(False)
        kind = self.transport.checkedButton().property("value")
        source = self.source or {}
        several = len(source.get("people", ())) > 1
        person = self.person.currentData() if several else source.get("person_id")
        notice = self.notice["id"] if self.notice else None
        self.ctx.tasks.db(crc.arrive, kind, source.get("encounter_id"), self.ctx.shift_id,
                          None, person, notice).success(self._arrived).failure(
            self._failed).run()

    def _arrived(self, _result) -> None:
        """The clock shows from the change signal."""
        self.source = None
        self.source_label.hide()
        self.person.hide()

    def hand_off(self) -> None:
        if not self.dropoff:
            return
        self.errors.clear()
        self.ctx.tasks.db(crc.hand_off, self.dropoff["id"], None,
                          self.reason.text().strip() or None).failure(self._failed).run()

    def clear(self) -> None:
        if not self.dropoff:
            return
        self.errors.clear()
        self.ctx.tasks.db(crc.clear, self.dropoff["id"], None,
                          self.reason.text().strip() or None).success(self._cleared).failure(
            self._failed).run()

    def _cleared(self, _result) -> None:
        self.reason.clear()

    def _failed(self, error: BaseException) -> None:
        self.arrive_button.setEnabled(True)
        self.errors.handle(error)
        if "delay_reason" in getattr(error, "problems", {}):
            self.reason_label.show()
            self.reason.show()
            self.reason.setFocus()
