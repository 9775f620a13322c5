"""Stored UTC ISO times shown as the laptop's local clock time."""

from fieldapp.timeutil import parse_iso


def clock(iso: str | None) -> str:
    return parse_iso(iso).astimezone().strftime("%H:%M") if iso else ""


def day_clock(iso: str | None) -> str:
    return parse_iso(iso).astimezone().strftime("%a %d %b %H:%M") if iso else ""


def age(minutes: float) -> str:
    minutes = max(0, int(minutes))
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60:02d} min"
    return f"{minutes // 1440} days"
