"""`tandem-server crc-report`: the CRC's monthly law-enforcement drop-off report.

Each drop-off's check-in time comes from both halves of the clock: the CRC's own stamps on the
intake board where it made them, else the unit's (docs/metrics.md, "The CRC's drop-off
report"). Median, 90th percentile and share within target, for the month, by hour of day and
by day of week, in the agency's time zone; as CSV or PDF. Only crc_dropoff, crc_notice and
crc_checkin records are read, and of them only times, never who or why.
"""

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from sqlalchemy import select

from fieldapp import files
from fieldapp.errors import ValidationError
from fieldapp.metrics import Period, percentile
from fieldapp.report_formats import csv_cell
from fieldapp.timeutil import parse_iso

from . import agency_settings
from .tables import record

FORMATS = ("csv", "pdf")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
CSV_COLUMNS = ("month", "group", "slot", "dropoffs", "timed", "crc_timed", "median_minutes",
               "p90_minutes", "within_target_share", "target_minutes")


@dataclass(frozen=True)
class Dropoff:
    arrived: datetime  # the CRC's arrival stamp, else the unit's
    check_in_minutes: float | None  # to the CRC's check-in stamp, else the unit's hand-off
    crc_timed: bool  # both ends of that time are the CRC's own stamps


def dropoffs(conn, period: Period) -> list[Dropoff]:
    """The period's drop-offs, placed by arrival, each unit drop-off and each notice the CRC
    stamped counted once (joined by the notice)."""
    found = {"crc_dropoff": [], "crc_notice": {}, "crc_checkin": {}}
    for r in conn.execute(select(record.c.id, record.c.table_name, record.c.data).where(
            record.c.table_name.in_(list(found)), record.c.deleted.is_(False))):
        data = json.loads(r.data)
        if r.table_name == "crc_dropoff":
            found["crc_dropoff"].append(data)
        elif r.table_name == "crc_notice":
            found["crc_notice"][r.id] = data
        else:
            found["crc_checkin"][data["notice_id"]] = data
    pairs = [(d, found["crc_checkin"].get(d.get("notice_id")) or {})
             for d in found["crc_dropoff"]]
    followed = {d.get("notice_id") for d in found["crc_dropoff"]}
    pairs += [({}, c) for notice_id, c in found["crc_checkin"].items()
              if notice_id not in followed and notice_id in found["crc_notice"]
              and not found["crc_notice"][notice_id].get("cancelled_at")]
    out = []
    for unit, crc in pairs:
        arrived = crc.get("arrived_at") or unit.get("arrived_at")
        if not arrived or not period.start <= parse_iso(arrived) < period.end:
            continue
        done = crc.get("checked_in_at") or unit.get("handed_off_at")
        minutes = None
        if done and parse_iso(done) >= parse_iso(arrived):
            minutes = (parse_iso(done) - parse_iso(arrived)).total_seconds() / 60
        out.append(Dropoff(parse_iso(arrived), minutes,
                           bool(crc.get("arrived_at") and crc.get("checked_in_at"))))
    return out


def figures(items: list[Dropoff], target: float) -> dict:
    times = [d.check_in_minutes for d in items if d.check_in_minutes is not None]
    return {"dropoffs": len(items), "timed": len(times),
            "crc_timed": sum(1 for d in items if d.crc_timed and d.check_in_minutes is not None),
            "median_minutes": percentile(times, 0.5), "p90_minutes": percentile(times, 0.9),
            "within_target_share": (sum(1 for t in times if t <= target) / len(times)
                                    if times else None)}


def rows(conn, month: str, zone: ZoneInfo, target: float) -> list[tuple[str, str, dict]]:
    """(group, slot, figures): the month, then each hour of day, then each day of week."""
    try:
        period = Period.month(month, zone)
    except ValueError as why:
        raise ValidationError("crc-report", {"month": str(why)}) from None
    items = dropoffs(conn, period)
    local = [(d, d.arrived.astimezone(zone)) for d in items]
    out = [("month", "all", figures(items, target))]
    out += [("hour of day", f"{h:02d}:00–{h:02d}:59",
             figures([d for d, at in local if at.hour == h], target)) for h in range(24)]
    out += [("day of week", name, figures([d for d, at in local if at.weekday() == n], target))
            for n, name in enumerate(WEEKDAYS)]
    return out


def write(engine, month: str, fmt: str, out: Path, target: float) -> Path:
    if fmt not in FORMATS:
        raise ValidationError("crc-report", {"format": f"must be one of {', '.join(FORMATS)}"})
    with engine.connect() as conn:
        zone = ZoneInfo(agency_settings.read(conn)["time_zone"])
        table = rows(conn, month, zone, target)
    data = (to_csv(month, table, target).encode() if fmt == "csv"
            else to_pdf(month, table, target, zone))
    return files.write_whole(out, data)


def to_csv(month: str, table, target: float) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for group, slot, f in table:
        writer.writerow([csv_cell(v) for v in (
            month, group, slot, f["dropoffs"], f["timed"], f["crc_timed"],
            _round(f["median_minutes"]), _round(f["p90_minutes"]),
            _round(f["within_target_share"], 3), target)])
    return buffer.getvalue()


def _round(value, digits=1):
    return None if value is None else round(value, digits)


def to_pdf(month: str, table, target: float, zone: ZoneInfo) -> bytes:
    styles = getSampleStyleSheet()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=LETTER, leftMargin=0.75 * inch,
                            rightMargin=0.75 * inch, topMargin=0.7 * inch,
                            bottomMargin=0.7 * inch,
                            title=f"CRC law-enforcement drop-offs, {month}", author="Tandem")
    story = [Paragraph(f"CRC law-enforcement drop-offs: {month}", styles["Title"]),
             Paragraph(f"Check-in time from arrival at the sally port to check-in complete; "
                       f"target {target:g} minutes; times in {zone.key}. The CRC's own stamps "
                       f"where it made them, else the unit's (docs/metrics.md). A dash: "
                       f"nothing to measure.", styles["Normal"]), Spacer(1, 12)]
    for group in ("month", "hour of day", "day of week"):
        story.append(Paragraph(group.capitalize(), styles["Heading2"]))
        body = [["", "Drop-offs", "Timed", "CRC-timed", "Median (min)", "90th pct (min)",
                 "Within target"]]
        for g, slot, f in table:
            if g == group:
                body.append([slot, f["dropoffs"], f["timed"], f["crc_timed"],
                             _shown(f["median_minutes"]), _shown(f["p90_minutes"]),
                             _shown(f["within_target_share"], share=True)])
        grid = Table(body, repeatRows=1, hAlign="LEFT")
        grid.setStyle(TableStyle([
            ("FONT", (0, 0), (-1, 0), "Helvetica-Bold"), ("FONTSIZE", (0, 0), (-1, -1), 9),
            ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
            ("LINEBELOW", (0, 0), (-1, 0), 0.75, colors.black),
            ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f0f0f0")])]))
        story += [grid, Spacer(1, 10)]
    doc.build(story)
    return buffer.getvalue()


def _shown(value, share: bool = False) -> str:
    if value is None:
        return "–"
    return f"{value:.0%}" if share else f"{value:.1f}"
