"""Stored UTC ISO times shown as the laptop's local clock time, and dates in the app's one
date format ("Fri 27 Nov")."""

from datetime import date

from fieldapp.timeutil import parse_iso

DAY = "%a %d %b"


def clock(iso: str | None) -> str:
    return parse_iso(iso).astimezone().strftime("%H:%M") if iso else ""


def day_clock(iso: str | None) -> str:
    return parse_iso(iso).astimezone().strftime(f"{DAY} %H:%M") if iso else ""


def day(value: str | date | None) -> str:
    """A date ('2026-11-27' or a date) as 'Fri 27 Nov'."""
    if not value:
        return ""
    return (value if isinstance(value, date) else date.fromisoformat(value)).strftime(DAY)


def day_or_time(value: str | None) -> str:
    """A stored date or time, whichever it is, in the app's format ('Fri 27 Nov [14:05]')."""
    return day_clock(value) if value and "T" in value else day(value)


def age(minutes: float) -> str:
    minutes = max(0, int(minutes))
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60:02d} min"
    return f"{minutes // 1440} days"
