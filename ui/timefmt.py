"""Stored UTC ISO times shown on the agency's clock (fieldapp.agency), never the laptop's, and
dates in the app's one date format ("Fri 27 Nov", fieldapp.timeutil.DAY).

The zone is the one this laptop last received from the agency server: the main window sets it
when someone signs in and again when a sync brings a new one (`set_zone`); before that, the
setting's default. A crew in a car whose laptop clock says UTC still reads the agency's clock.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from fieldapp import agency
from fieldapp.timeutil import DAY, day_text, parse_iso, utc_now

_zone = ZoneInfo(agency.SETTINGS["time_zone"].default)


def set_zone(name: str) -> bool:
    """Show times in the IANA zone `name` from now on; True if that changed anything."""
    global _zone
    new = ZoneInfo(name)
    changed, _zone = new != _zone, new
    return changed


def zone() -> ZoneInfo:
    return _zone


def local(iso: str) -> datetime:
    """A stored time as the agency's wall clock."""
    return parse_iso(iso).astimezone(_zone)


def now() -> datetime:
    return utc_now().astimezone(_zone)


def today() -> date:
    return now().date()


def clock(iso: str | None) -> str:
    return local(iso).strftime("%H:%M") if iso else ""


def day_clock(iso: str | None) -> str:
    return local(iso).strftime(f"{DAY} %H:%M") if iso else ""


def day(value: str | date | None) -> str:
    """A date ('2026-11-27' or a date) as 'Fri 27 Nov'; a stored time as its day on the
    agency's clock."""
    if not value:
        return ""
    if isinstance(value, str) and "T" in value:
        return local(value).strftime(DAY)
    return day_text(value)


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
