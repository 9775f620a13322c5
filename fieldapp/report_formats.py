"""The monthly report as CSV and JSON (report.py builds it, write_report writes the file).

CSV cells that a spreadsheet would run as a formula are neutralised.
"""

import csv
import io
import json
from typing import TYPE_CHECKING

from . import __version__
from .timeutil import to_iso

if TYPE_CHECKING:
    from .report import Report

CSV_COLUMNS = ("month", "team", "group", "figure", "label", "value", "unit", "definition")
# A cell starting with one of these is a formula (or hides one) in common spreadsheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# The figures the JSON gives for each day of the month.
DAILY_SERIES = ("crc.dropoffs", "calls.mental_health", "outreach.engagements")
APCO_DEFINITIONS = {
    "Calls by APCO incident type": "Calls for service taken in the period with this APCO "
                                   "common incident type (unmapped: none).",
    "Calls by APCO disposition": "Calls for service cleared in the period with this APCO "
                                 "common disposition code (unmapped: none).",
}


def to_csv(report: "Report") -> str:
    """One row per figure, with its definition; numbers as numbers, every text cell made safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for f in report.figures.values():
        writer.writerow([csv_cell(v) for v in (
            report.month, report.team or "all", f.group, f.key, f.label, _rounded(f.value),
            f.unit, f.definition)])
    for key, group, label, count in report.apco:
        writer.writerow([csv_cell(v) for v in (
            report.month, report.team or "all", group, key, label, count, "count",
            APCO_DEFINITIONS[group])])
    return buffer.getvalue()


def csv_cell(value):
    """A value a spreadsheet will show and never run: text that starts a formula gets a quote."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_json(report: "Report") -> str:
    return json.dumps({
        "report": "tandem monthly program report",
        "month": report.month,
        "team": report.team,
        "period": {"start": report.period.start.isoformat(), "end": report.period.end.isoformat(),
                   "time_zone": str(report.period.zone)},
        "parameters": {"crc_target_minutes": report.parameters.crc_target_minutes,
                       "booking_baseline_minutes": report.parameters.booking_baseline_minutes},
        "as_of": to_iso(report.as_of),
        "generated_at": to_iso(report.generated_at),
        "generator": f"tandem {__version__}",
        "figures": [{"key": f.key, "group": f.group, "label": f.label, "value": f.value,
                     "unit": f.unit, "definition": f.definition} for f in report.figures.values()],
        "apco": [{"key": key, "group": group, "label": label, "value": count}
                 for key, group, label, count in report.apco],
        "daily": [{"date": report.period.local_date(day.start).isoformat(),
                   **{k: figures[k].value for k in DAILY_SERIES}}
                  for day, figures in zip(report.period.days(), report.daily)],
    }, indent=2, ensure_ascii=False)


def _rounded(value):
    return round(value, 4) if isinstance(value, float) else value
