"""Times are stored as ISO 8601 text in UTC, so they sort as strings and read the same everywhere."""

from datetime import date, datetime, timezone

# The app's one date format for people to read ("Fri 27 Nov"): every screen shows dates in it
# (ui/timefmt), and so does text the core writes for people (an imported follow-up's note).
DAY = "%a %d %b"


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def to_iso(moment: datetime) -> str:
    """ISO text in UTC with milliseconds; a naive datetime is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_iso() -> str:
    return to_iso(utc_now())


def parse_iso(text: str) -> datetime:
    """Parse stored or typed ISO text; a value with no zone is taken as UTC."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment


def parse_date(text: str) -> date:
    return date.fromisoformat(text)


def day_text(day: date | str) -> str:
    """A date (or its ISO text, '2026-11-27') as people read it: 'Fri 27 Nov'."""
    return (day if isinstance(day, date) else date.fromisoformat(day)).strftime(DAY)


def when(at: "datetime | str | None", table: str, field: str) -> str:
    """A service's optional time argument as stored text: now if omitted, else checked."""
    from .errors import ValidationError

    if at is None:
        return now_iso()
    try:
        return to_iso(at if isinstance(at, datetime) else parse_iso(at))
    except (TypeError, ValueError, AttributeError, OverflowError):
        raise ValidationError(table, {field: f"must be a date and time, not {at!r}"}) from None
