"""The program dashboard (supervisors, admin): a month's figures for a team or all their teams,
with charts, and the monthly report exported as CSV, PDF or JSON.

Everything shown comes from fieldapp.report.build_report — the figures the export writes —
computed on the DB worker. The month is a calendar month in the agency's time zone (never the
laptop's); the agency figures (CRC target, booking baseline) are the laptop's settings.
"""

from datetime import date
from pathlib import Path

from fieldapp import agency, changes, labels, settings
from fieldapp.metrics import check_in_minutes, laptop_parameters
from fieldapp.records import DISPOSITIONS
from fieldapp.report import KEY_FIGURES, build_report, write_report

from .charts import BarChart, CheckInChart, DailyBars
from .context import Context
from .models import RowsTableModel
from .qt import (QAbstractItemView, QComboBox, QFileDialog, QFrame, QGridLayout, QGroupBox,
                 QHBoxLayout, QLabel, QSpinBox, Qt, QVBoxLayout, QWidget)
from .timefmt import today
from .widgets import (WrappedLabel, button, file_dialog, fill_height, heading, record_table,
                      set_state, shortcut, vertical_scroll)

BASELINE = settings.SETTINGS["booking_baseline_minutes"]
# The records the month's figures are read from (fieldapp.metrics).
FIGURE_TABLES = {"assignment", "encounter", "crc_dropoff", "outreach_contact", "referral",
                 "follow_up", "follow_up_attempt"}


def shift_month(month: str, step: int) -> str:
    year, number = map(int, month.split("-"))
    index = year * 12 + number - 1 + step
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def load(session, month: str, team: str | None) -> dict:
    """The month's report and, per day, its check-in times (the chart's dots)."""
    report = build_report(session.db, month, team, tz=agency.get(session.db, "time_zone"),
                          parameters=laptop_parameters(session.db))
    return {"report": report,
            "daily_check_ins": [check_in_minutes(session.db, day, team)
                                for day in report.period.days()]}


def export(session, month: str, team: str | None, fmt: str, path: str) -> Path:
    """Write the report and record the export in the audit log, whether it worked or not."""
    detail = f"{fmt} report {month} for {team or 'all teams'} to {Path(path).name}"
    try:
        out = write_report(session.db, month, team, fmt, path,
                           tz=agency.get(session.db, "time_zone"),
                           parameters=laptop_parameters(session.db))
    except Exception:
        changes.audit(session, "report.export", outcome="failure", detail=detail)
        raise
    changes.audit(session, "report.export", detail=detail)
    return out


class FiguresModel(RowsTableModel):
    """Every figure of the report: group, label, value as shown; its definition as tooltip."""

    COLUMNS = ("Group", "Figure", "Value", "Definition")

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.ToolTipRole:
            row = self.row_at(index)
            return row["figure"].definition if row is not None else None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter) \
                if index.column() == 2 else None
        return super().data(index, role)

    def set_figures(self, figures) -> None:
        self.set_rows({"id": f.key, "figure": f} for f in figures.values())

    def cells(self, row: dict) -> tuple:
        f = row["figure"]
        return f.group, f.label, labels.figure_value(f), f.definition


class DashboardView(QWidget):
    title = "Dashboard"

    def __init__(self, ctx: Context):
        super().__init__()
        self.ctx = ctx
        self.month = today().strftime("%Y-%m")
        self.report = None
        self.save_dialog: QFileDialog | None = None

        self.team = QComboBox()
        self.team.setObjectName("dashboardTeam")
        teams = list(ctx.profile.teams)
        self.team.addItem("All my teams" if teams else "All teams", None)
        for team in teams:
            self.team.addItem(f"Team {team}", team)
        self.team.currentIndexChanged.connect(lambda _: self.refresh())
        self.month_label = QLabel()
        self.month_label.setObjectName("dashboardMonth")
        self.month_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.month_label.setMinimumWidth(150)
        previous = button("◀", lambda: self.set_month(shift_month(self.month, -1)),
                          name="previousMonth")
        following = button("▶", lambda: self.set_month(shift_month(self.month, 1)),
                           name="nextMonth")
        previous.setToolTip("Previous month (Alt+Left)")
        following.setToolTip("Next month (Alt+Right)")
        self.baseline = QSpinBox()
        self.baseline.setObjectName("bookingBaseline")
        self.baseline.setRange(BASELINE.minimum, BASELINE.maximum)
        self.baseline.setSuffix(" min")
        self.baseline.setToolTip(BASELINE.help)
        self.baseline.editingFinished.connect(self.save_baseline)
        self.export_buttons = {fmt: button(f"{fmt.upper()}…",
                                           lambda _=False, f=fmt: self.choose_file(f),
                                           name=f"export_{fmt}") for fmt in ("pdf", "csv", "json")}
        for b in self.export_buttons.values():
            b.setToolTip(f"Save the month's report as {b.objectName()[7:].upper()}")
        controls = QHBoxLayout()  # what is shown; the next row, what is set and saved
        controls.addWidget(self.team)
        controls.addWidget(previous)
        controls.addWidget(self.month_label)
        controls.addWidget(following)
        controls.addStretch(1)
        settings_row = QHBoxLayout()
        settings_row.addWidget(QLabel("Jail booking baseline"))
        settings_row.addWidget(self.baseline)
        settings_row.addStretch(1)
        settings_row.addWidget(QLabel("Export"))
        for b in self.export_buttons.values():
            settings_row.addWidget(b)
        self.message = WrappedLabel()
        self.message.setObjectName("dashboardMessage")
        self.subtitle = WrappedLabel()
        self.subtitle.setObjectName("subheading")
        title = QHBoxLayout()
        title.addWidget(heading("Program dashboard"))
        title.addSpacing(12)
        title.addWidget(self.subtitle, 1)

        self.cards: dict[str, QLabel] = {}
        cards = QGridLayout()
        cards.setSpacing(8)
        for n, (key, label) in enumerate(KEY_FIGURES):
            cards.addWidget(self._card(key, label), n // 4, n % 4)
        self.check_in_chart = CheckInChart()
        self.disposition_chart = BarChart()
        self.transport_chart = DailyBars()
        self.follow_up_chart = BarChart()
        self.figures = FiguresModel()
        self.table = record_table(self.figures, stretch=(3,))
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.verticalHeader().setDefaultSectionSize(30)
        # A table to read (each row's definition as its tooltip), not to pick from.
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)

        charts = QGridLayout()
        charts.setSpacing(8)
        charts.addWidget(self._framed("CRC check-in times, minutes per drop-off",
                                      self.check_in_chart), 0, 0)
        charts.addWidget(self._framed("Encounters by disposition", self.disposition_chart), 0, 1)
        charts.addWidget(self._framed("Transports to the CRC, per day",
                                      self.transport_chart), 1, 0)
        charts.addWidget(self._framed("Follow-ups due this month", self.follow_up_chart), 1, 1)
        charts.setColumnStretch(0, 3)
        charts.setColumnStretch(1, 2)

        body = QWidget()
        v = QVBoxLayout(body)
        v.setContentsMargins(0, 0, 8, 0)
        v.addLayout(cards)
        v.addLayout(charts)
        v.addWidget(self._framed("Every figure (hover for the whole definition)", self.table))
        v.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(title)
        layout.addLayout(controls)
        layout.addLayout(settings_row)
        layout.addWidget(self.message)
        layout.addWidget(fill_height(vertical_scroll(body), 200), 1)
        self.message.hide()

        shortcut(self, "Previous month", "Alt+Left",
                 lambda: self.set_month(shift_month(self.month, -1)))
        shortcut(self, "Next month", "Alt+Right",
                 lambda: self.set_month(shift_month(self.month, 1)))
        ctx.watch(self, FIGURE_TABLES, self.refresh)
        self.refresh()

    def _card(self, key: str, label: str) -> QFrame:
        card = QFrame()
        card.setObjectName("figureCard")
        card.setFrameShape(QFrame.Shape.StyledPanel)
        value = QLabel("–")
        value.setObjectName("cardValue")
        font = value.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        value.setFont(font)
        caption = WrappedLabel(label)
        v = QVBoxLayout(card)
        v.setContentsMargins(10, 6, 10, 6)
        v.addWidget(value)
        v.addWidget(caption)
        v.addStretch(1)
        self.cards[key] = value
        return card

    @staticmethod
    def _framed(title: str, widget: QWidget) -> QGroupBox:
        box = QGroupBox(title)
        v = QVBoxLayout(box)
        v.addWidget(widget)
        return box

    @property
    def selected_team(self) -> str | None:
        return self.team.currentData()

    def set_month(self, month: str) -> None:
        self.month = month
        self.refresh()

    def refresh(self) -> None:
        self.month_label.setText(date.fromisoformat(f"{self.month}-01").strftime("%B %Y"))
        self.ctx.tasks.db(load, self.month, self.selected_team).success(
            self._show).run()
        self.ctx.tasks.db(lambda s: settings.get(s.db, BASELINE.key)).success(
            self.baseline.setValue).run()

    def _show(self, loaded: dict) -> None:
        report = self.report = loaded["report"]
        if (report.month, report.team) != (self.month, self.selected_team):
            return  # an older choice's answer; the current one is on its way
        f = report.figures
        p = report.parameters
        self.subtitle.setText(
            f"{report.team_label} · {report.period.start:%B %Y} ({report.period.zone}) · "
            f"CRC target {p.crc_target_minutes:g} min")
        for key, label in self.cards.items():
            label.setText(labels.figure_value(f[key], short=True))
        self.check_in_chart.set_data(loaded["daily_check_ins"], p.crc_target_minutes)
        self.disposition_chart.set_rows(
            [(labels.text(d), f[f"calls.disposition.{d}"].value)
             for d in (*DISPOSITIONS, "not_recorded")])
        self.transport_chart.set_series([
            ("Voluntary", "ok", [day["crc.transport.voluntary"].value for day in report.daily]),
            ("Involuntary", "second",
             [day["crc.transport.involuntary"].value for day in report.daily])])
        self.follow_up_chart.set_rows([(f[k].label, f[k].value) for k in (
            "followups.done_on_time", "followups.done_late", "followups.overdue",
            "followups.not_yet_due")])
        self.figures.set_figures(f)
        self.table.setFixedHeight(30 * len(f) + self.table.horizontalHeader().height() + 4)

    def save_baseline(self) -> None:
        value = self.baseline.value()
        self.ctx.tasks.db(lambda s: settings.put(s.db, BASELINE.key, value)).success(
            lambda _: self.refresh()).run()

    def choose_file(self, fmt: str) -> QFileDialog:
        """Ask where to save (Qt's own dialog, so it looks the same everywhere), then export."""
        team = self.selected_team or "all-teams"
        dialog = file_dialog(self, f"Export the {fmt.upper()} report",
                             f"{fmt.upper()} files (*.{fmt})", save=True)
        dialog.setObjectName("exportDialog")
        dialog.setDefaultSuffix(fmt)
        dialog.selectFile(f"tandem-report-{self.month}-{team}.{fmt}")
        dialog.fileSelected.connect(lambda path: self.export_to(fmt, path))
        self.save_dialog = dialog
        dialog.open()
        return dialog

    def export_to(self, fmt: str, path: str) -> None:
        for b in self.export_buttons.values():
            b.setEnabled(False)
        self.ctx.tasks.db(export, self.month, self.selected_team, fmt, path).success(
            self._exported).failure(self._export_failed).run()

    def _exported(self, out: Path) -> None:
        self._say(f"Saved the report to {out}.")

    def _export_failed(self, error: BaseException) -> None:
        self._say(f"The report was not saved: {error}", attention=True)

    def _say(self, text: str, attention: bool = False) -> None:
        for b in self.export_buttons.values():
            b.setEnabled(True)
        set_state(self.message, "attention", attention)
        self.message.setText(text)
        self.message.show()
