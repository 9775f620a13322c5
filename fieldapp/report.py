"""The monthly program report: every figure for a team (or the whole program) over a month,
written as CSV, JSON or PDF.

`write_report` is what `tandem-server report` and the dashboard's export call. Figures come
from metrics.compute, so the report, the dashboard and docs/metrics.md say the same thing.
The formats are written by report_formats (CSV, JSON) and report_pdf (reportlab, loaded only
when a PDF is written, so the screens that show figures never load it).
"""

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import files, report_formats
from .errors import ValidationError
from .metrics import (DEFAULTS, Figure, Parameters, Period, apco_breakdown, apco_rows,
                      check_in_minutes, compute)
from .timeutil import utc_now

FORMATS = ("csv", "json", "pdf")

# The headline figures, with the label each carries on the dashboard's cards and the PDF's
# first page: a row each for the CRC, calls and care, diversion and follow-up.
KEY_FIGURES = (
    ("crc.dropoffs", "Transports to the CRC"),
    ("crc.check_in_median_minutes", "CRC check-in, median"),
    ("crc.check_in_within_target_share", "CRC check-ins within target"),
    ("patrol.time_saved_minutes", "Patrol time saved"),
    ("calls.mental_health", "Mental-health calls"),
    ("care.connected_to_care", "Connected to care"),
    ("care.stabilized_on_scene", "Stabilized on scene"),
    ("care.warm_handoffs_crisis_line", "Warm hand-offs to the crisis line"),
    ("diversion.deflections", "Deflections"),
    ("outreach.engagements", "Outreach engagements"),
    ("outreach.people_engaged", "People engaged by outreach"),
    ("followups.on_time_share", "Follow-ups done on time"),
)


@dataclass(frozen=True)
class Report:
    month: str
    team: str | None  # None: the whole program
    period: Period
    parameters: Parameters
    as_of: datetime  # open follow-ups are judged overdue at this moment
    generated_at: datetime
    figures: dict[str, Figure]
    daily: list[dict[str, Figure]]  # the same figures for each local day, for the charts
    check_ins: list[float]  # each check-in time in minutes, for the histogram
    apco: list[tuple[str, str, str, int]]  # calls by APCO code: (key, group, label, count)

    @property
    def team_label(self) -> str:
        return f"Team {self.team}" if self.team else "All teams"

    @property
    def month_name(self) -> str:
        return self.period.start.strftime("%B %Y")


def month_period(month: str, tz: str = "UTC") -> Period:
    """The calendar month 'YYYY-MM' in the time zone `tz`; ValidationError names what is wrong."""
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError("report", {"tz": f"unknown time zone {tz!r}"}) from None
    try:
        return Period.month(month, zone)
    except ValueError as why:
        raise ValidationError("report", {"month": str(why)}) from None


def build_report(conn, month: str, team: str | None = None, *, tz: str = "UTC",
                 parameters: Parameters = DEFAULTS, now: datetime | None = None) -> Report:
    """The figures for one calendar month ('YYYY-MM') in the agency's time zone `tz`."""
    period = month_period(month, tz)
    if team is not None and not team.strip():
        raise ValidationError("report", {"team": "must be a team name, or omitted for all teams"})
    now = now or utc_now()
    as_of = min(period.end, now)
    return Report(
        month=month, team=team, period=period, parameters=parameters, as_of=as_of,
        generated_at=now,
        figures=compute(conn, period, team, parameters, as_of),
        daily=[compute(conn, day, team, parameters, as_of) for day in period.days()],
        check_ins=check_in_minutes(conn, period, team),
        apco=apco_rows(apco_breakdown(conn, period, team)))


def write_report(conn, month: str, team: str | None, fmt: str, out: str | Path, *,
                 tz: str = "UTC", parameters: Parameters = DEFAULTS,
                 now: datetime | None = None) -> Path:
    """Write the month's report to `out` as csv, json or pdf; it appears whole or not at all."""
    if fmt not in FORMATS:
        raise ValidationError("report", {"format": f"must be one of {', '.join(FORMATS)}"})
    report = build_report(conn, month, team, tz=tz, parameters=parameters, now=now)
    data = {"csv": lambda: report_formats.to_csv(report).encode("utf-8"),
            "json": lambda: report_formats.to_json(report).encode("utf-8"),
            "pdf": lambda: _pdf(report)}[fmt]()
    return files.write_whole(out, data)


def _pdf(report: Report) -> bytes:
    from . import report_pdf  # reportlab loads here, when a PDF is asked for
    return report_pdf.to_pdf(report)
