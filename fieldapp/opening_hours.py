"""When a directory service is open: HSDS schedules read as weekly and monthly rules.

HSDS 3.0 schedules are a subset of iCal RRULE (freq WEEKLY or MONTHLY, byday with ordinals
such as 2MO or -1FR, bymonthday, interval) plus opening times. The common cases are decided
here directly, because search calls this for every result; rules that need counting from
dtstart (count, byweekno) go to dateutil's rrule. The tests check the direct path against
rrule as an independent oracle.

Time zones: an offset in opens_at ("09:00-07:00", "10:00Z") wins, then the schedule's
`timezone` (a UTC offset in hours in HSDS 3.0; an IANA name such as "America/Phoenix" is also
accepted), then the directory's default zone. HSDS says a missing zone means UTC, but
publishers leave it out and mean local time, so the default is local: Tucson, America/Phoenix.

Other conventions: 00:00–23:59 means open all day; closes_at at or before opens_at means the
hours run past midnight; valid_from/valid_to bound the dates a schedule applies on; a
holiday schedule (from HSDS 1.x holiday_schedules) replaces the regular hours on its dates.
"""

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import rrule as du

DEFAULT_ZONE = "America/Phoenix"

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
FREQS = ("WEEKLY", "MONTHLY")

# The dir_schedule columns a rule is made from, in a fixed order (the cache key: schedules
# that differ only in id share one parsed Rule).
COLUMNS = ("valid_from", "valid_to", "dtstart", "timezone", "until", "count", "wkst",
           "freq", "interval", "byday", "byweekno", "bymonthday", "opens_at", "closes_at",
           "holiday", "closed")

_TIME = re.compile(
    r"^\s*(\d{1,2})(?::(\d{2}))?(?::(\d{2})(?:\.\d+)?)?\s*"
    r"(am|pm|a\.m\.|p\.m\.)?\s*(z|[+-]\d{2}(?::?\d{2})?)?\s*$", re.IGNORECASE)
_BYDAY = re.compile(r"^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$")


def parse_time(text: str) -> tuple[time, "tzinfo | None"]:
    """'09:00', '9:00:00', '9 AM', '21:30-07:00', '10:00Z', '24:00' -> (time, offset or None).

    '24:00' (end of day) comes back as 23:59:59.999999 so it sorts as the day's last moment.
    """
    m = _TIME.match(str(text))
    if not m:
        raise ValueError(f"{text!r} is not a time of day (HH:MM)")
    hour, minute, second = int(m[1]), int(m[2] or 0), int(m[3] or 0)
    meridiem = (m[4] or "").lower().replace(".", "")
    if meridiem:
        if not 1 <= hour <= 12:
            raise ValueError(f"{text!r}: hour must be 1-12 with AM/PM")
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    if hour == 24 and minute == 0 and second == 0:
        moment = time(23, 59, 59, 999999)
    elif hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"{text!r} is not a time of day")
    else:
        moment = time(hour, minute, second)
    return moment, _offset(m[5]) if m[5] else None


def _offset(text: str) -> tzinfo:
    if text.upper() == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    if hours > 14 or minutes > 59:
        raise ValueError(f"{text!r} is not a UTC offset")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def parse_zone(value) -> "tzinfo | None":
    """HSDS `timezone`: a UTC offset in hours (number or numeric text), or an IANA zone name."""
    if value is None or value == "":
        return None
    try:
        hours = float(value)
    except (TypeError, ValueError):
        try:
            return ZoneInfo(str(value).strip())
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is neither a UTC offset in hours nor a time zone name")
    if not -14 <= hours <= 14:
        raise ValueError(f"{value!r} is not a UTC offset in hours (-14 to 14)")
    return timezone(timedelta(minutes=round(hours * 60)))


def parse_byday(text: str, freq: str) -> tuple[tuple[int | None, int], ...]:
    """'MO,WE' or '2MO,-1FR' -> ((ordinal or None, weekday 0-6), ...); ordinals only MONTHLY."""
    out = []
    for part in str(text).upper().replace(" ", "").split(","):
        if not part:
            continue
        m = _BYDAY.match(part)
        if not m:
            raise ValueError(f"{part!r} is not a day code (MO..SU, or 2MO / -1FR)")
        ordinal = int(m[1]) if m[1] else None
        if ordinal is not None:
            if freq != "MONTHLY":
                raise ValueError(f"{part!r}: an ordinal day needs freq MONTHLY")
            if ordinal == 0 or not -5 <= ordinal <= 5:
                raise ValueError(f"{part!r}: the ordinal must be 1 to 5 or -1 to -5")
        out.append((ordinal, WEEKDAYS.index(m[2])))
    return tuple(out)


def parse_numbers(text: str, low: int, high: int, what: str) -> tuple[int, ...]:
    """'2,3,-1' -> (2, 3, -1), each within ±low..high and not 0."""
    out = []
    for part in str(text).replace(" ", "").split(","):
        if not part:
            continue
        try:
            n = int(part)
        except ValueError:
            raise ValueError(f"{part!r} is not a whole number ({what})") from None
        if n == 0 or not low <= abs(n) <= high:
            raise ValueError(f"{part!r} is out of range for {what}")
        out.append(n)
    return tuple(out)


def parse_day(text) -> date | None:
    """An ISO date, or the date part of an ISO date-time."""
    if text is None or text == "":
        return None
    return date.fromisoformat(str(text).strip()[:10])


@dataclass(frozen=True)
class Rule:
    """One schedule, parsed. `zone` is where its dates and times are read."""
    freq: str | None
    interval: int
    byday: tuple[tuple[int | None, int], ...]
    bymonthday: tuple[int, ...]
    byweekno: tuple[int, ...]
    dtstart: date | None
    until: date | None
    count: int | None
    wkst: int
    valid_from: date | None
    valid_to: date | None
    opens: time | None
    closes: time | None
    zone: tzinfo
    holiday: bool
    closed: bool

    @property
    def all_day(self) -> bool:
        """00:00–23:59 (or 00:00–00:00, or 00:00–24:00): the HSDS signal for 24 hours."""
        return self.opens == time(0) and self.closes in (
            time(23, 59), time(23, 59, 59), time(23, 59, 59, 999999), time(0))

    def occurs_on(self, day: date) -> bool:
        """Whether this schedule applies on the local date `day`."""
        if (self.valid_from and day < self.valid_from) or (self.valid_to and day > self.valid_to):
            return False
        if (self.dtstart and day < self.dtstart) or (self.until and day > self.until):
            return False
        if self.count is not None or self.byweekno:
            return day in _rrule_days(self, day.year)
        if self.freq == "MONTHLY":
            if self.interval > 1 and self.dtstart:
                months = (day.year - self.dtstart.year) * 12 + day.month - self.dtstart.month
                if months % self.interval:
                    return False
            if not self.byday and not self.bymonthday:
                return self.dtstart is not None and day.day == self.dtstart.day
            return _monthly_match(self, day)
        # WEEKLY, or no freq at all: weekdays (every day when none are given).
        if self.interval > 1 and self.dtstart and self.freq == "WEEKLY":
            weeks = (_week_start(day, self.wkst) - _week_start(self.dtstart, self.wkst)).days // 7
            if weeks % self.interval:
                return False
        if self.bymonthday and not _monthday_match(self.bymonthday, day):
            return False
        if self.byday:
            return any(wd == day.weekday() for _, wd in self.byday)
        if self.freq == "WEEKLY" and self.dtstart:
            return day.weekday() == self.dtstart.weekday()
        return True

    def spans(self, day: date) -> tuple[datetime, datetime] | None:
        """The open span that starts on `day`, as aware datetimes, or None."""
        if self.closed or self.opens is None or not self.occurs_on(day):
            return None
        start = datetime.combine(day, self.opens, self.zone)
        if self.all_day:
            return start, datetime.combine(day + timedelta(days=1), time(0), self.zone)
        closes = self.closes if self.closes is not None else time(23, 59, 59, 999999)
        end_day = day if closes > self.opens else day + timedelta(days=1)
        return start, datetime.combine(end_day, closes, self.zone)


def _week_start(day: date, wkst: int) -> date:
    return day - timedelta(days=(day.weekday() - wkst) % 7)


def _monthday_match(monthdays: tuple[int, ...], day: date) -> bool:
    last = calendar.monthrange(day.year, day.month)[1]
    return any(day.day == (n if n > 0 else last + n + 1) for n in monthdays)


def _monthly_match(rule: Rule, day: date) -> bool:
    if rule.bymonthday and not _monthday_match(rule.bymonthday, day):
        return False
    if not rule.byday:
        return True
    last = calendar.monthrange(day.year, day.month)[1]
    for ordinal, weekday in rule.byday:
        if weekday != day.weekday():
            continue
        if ordinal is None:
            return True
        if ordinal > 0 and (day.day - 1) // 7 + 1 == ordinal:
            return True
        if ordinal < 0 and (last - day.day) // 7 + 1 == -ordinal:
            return True
    return False


def to_rrule(rule: Rule) -> du.rrule:
    """The same recurrence as a dateutil rrule, occurrences at local midnight."""
    start = rule.dtstart or rule.valid_from or date(1970, 1, 1)
    byday = [du.weekday(wd, n) if n else du.weekday(wd) for n, wd in rule.byday] or None
    if rule.freq == "WEEKLY" and not byday and not rule.dtstart:
        byday = list(range(7))
    return du.rrule(
        du.MONTHLY if rule.freq == "MONTHLY" else du.WEEKLY,
        dtstart=datetime.combine(start, time(0)), interval=rule.interval, wkst=rule.wkst,
        byweekday=byday, bymonthday=rule.bymonthday or None, byweekno=rule.byweekno or None,
        count=rule.count,
        until=datetime.combine(rule.until, time(0)) if rule.until else None)


@lru_cache(maxsize=4096)
def _rrule_days(rule: Rule, year: int) -> frozenset:
    """The dates a counted or week-numbered rule falls on in one year."""
    rr = to_rrule(rule)
    first = datetime(year, 1, 1)
    return frozenset(d.date() for d in rr.between(first, datetime(year + 1, 1, 1), inc=True))


def parse_rule(row: dict, default_zone: str = DEFAULT_ZONE) -> Rule:
    """A dir_schedule row (or HSDS schedule dict) as a Rule; ValueError names the bad field."""
    def field(name, parse):
        value = row.get(name)
        if value is None or value == "":
            return None
        try:
            return parse(value)
        except (TypeError, ValueError) as e:
            raise ValueError(f"{name}: {e}") from None

    freq = field("freq", lambda v: _check_freq(str(v).strip().upper()))
    opens = field("opens_at", parse_time)
    closes = field("closes_at", parse_time)
    zone = ((opens or (None, None))[1] or (closes or (None, None))[1]
            or field("timezone", parse_zone) or _zone(default_zone))
    interval = field("interval", _positive) or 1
    return Rule(
        freq=freq, interval=interval,
        byday=field("byday", lambda v: parse_byday(v, freq or "WEEKLY")) or (),
        bymonthday=field("bymonthday", lambda v: parse_numbers(v, 1, 31, "a day of the month")) or (),
        byweekno=field("byweekno", lambda v: parse_numbers(v, 1, 53, "a week of the year")) or (),
        dtstart=field("dtstart", parse_day), until=field("until", parse_day),
        count=field("count", _positive), wkst=field("wkst", _weekday) or 0,
        valid_from=field("valid_from", parse_day), valid_to=field("valid_to", parse_day),
        opens=opens[0] if opens else None, closes=closes[0] if closes else None,
        zone=zone, holiday=bool(row.get("holiday")), closed=bool(row.get("closed")))


def _check_freq(value: str) -> str:
    if value not in FREQS:
        raise ValueError(f"{value!r} is not WEEKLY or MONTHLY")
    return value


def _positive(value) -> int:
    number = float(value)
    if number != int(number) or number < 1:
        raise ValueError(f"{value!r} is not a whole number of 1 or more")
    return int(number)


def _weekday(value) -> int:
    code = str(value).strip().upper()
    if code not in WEEKDAYS:
        raise ValueError(f"{value!r} is not a day code (MO..SU)")
    return WEEKDAYS.index(code)


@lru_cache(maxsize=64)
def _zone(name: str) -> tzinfo:
    return parse_zone(name)


@lru_cache(maxsize=65536)
def _cached_rule(key: tuple, default_zone: str) -> Rule:
    return parse_rule(dict(zip(COLUMNS, key)), default_zone)


def rule_for(row: dict, default_zone: str = DEFAULT_ZONE) -> Rule:
    """parse_rule, remembered: a directory repeats the same few schedules many times."""
    return _cached_rule(tuple(row.get(c) for c in COLUMNS), default_zone)


def rules(rows, default_zone: str = DEFAULT_ZONE) -> list[Rule]:
    """Rules for a service's schedule rows (dicts with COLUMNS); rows that fail to parse are
    skipped (the importer has already rejected those)."""
    out = []
    for row in rows:
        try:
            out.append(rule_for(row, default_zone))
        except ValueError:
            continue
    return out


def spans_on(rules_: list[Rule], day: date) -> list[tuple[datetime, datetime]]:
    """Open spans starting on `day`; a holiday schedule on that day replaces the rest."""
    holiday = [r for r in rules_ if r.holiday and r.occurs_on(day)]
    chosen = holiday or [r for r in rules_ if not r.holiday]
    return sorted(s for r in chosen if (s := r.spans(day)))


def is_open(rules_: list[Rule], at: datetime) -> bool | None:
    """Open at the instant `at` (aware)? None when there are no hours to go by."""
    if not any(r.opens is not None or r.closed for r in rules_):
        return None
    for day in _local_days(rules_, at):
        for previous in (day, day - timedelta(days=1)):
            if any(start <= at < end for start, end in spans_on(rules_, previous)):
                return True
    return False


def _local_days(rules_: list[Rule], at: datetime) -> set[date]:
    return {at.astimezone(z).date() for z in {r.zone for r in rules_}}


def always_open(rules_: list[Rule]) -> bool:
    """Open all day, every day, with no end date: what '24/7' means for a schedule."""
    days = set()
    for r in rules_:
        if (r.all_day and not r.holiday and not r.closed and r.interval == 1 and r.freq != "MONTHLY"
                and not (r.valid_to or r.until or r.count or r.bymonthday or r.byweekno)):
            days.update(wd for _, wd in r.byday) if r.byday else days.update(range(7))
    return len(days) == 7


def hours_today(rules_: list[Rule], at: datetime) -> str:
    """Today's hours in the service's own zone, e.g. '9:00 AM – 5:00 PM' or 'Open 24 hours'."""
    return status(rules_, at)[1]


def status(rules_: list[Rule], at: datetime) -> tuple[bool | None, str]:
    """(open at `at`, today's hours) from one look at yesterday's and today's spans."""
    return _status(tuple(rules_), at)


@lru_cache(maxsize=4096)
def _status(rules_: tuple[Rule, ...], at: datetime) -> tuple[bool | None, str]:
    """status, remembered: a page of search results repeats the same few schedules."""
    if not rules_:
        return None, "Hours not listed"
    if always_open(rules_):
        return True, "Open 24 hours"
    zone = rules_[0].zone
    today = at.astimezone(zone).date()
    before = spans_on(rules_, today - timedelta(days=1))
    spans = spans_on(rules_, today)
    if any(r.zone != zone for r in rules_):
        open_now = is_open(rules_, at)
    elif any(r.opens is not None or r.closed for r in rules_):
        open_now = any(start <= at < end for start, end in before + spans)
    else:
        open_now = None
    parts = [f"until {_clock(end.astimezone(zone).time())}" for _, end in before
             if end.astimezone(zone).date() == today and end.astimezone(zone).time() > time(0)]
    for start, end in spans:
        if end - start >= timedelta(hours=24) - timedelta(minutes=1):
            parts.append("Open 24 hours")
        else:
            parts.append(f"{_clock(start.astimezone(zone).time())} – "
                         f"{_clock(end.astimezone(zone).time())}")
    if not parts:
        return open_now, "Closed today" if open_now is not None else "Hours not listed"
    return open_now, ", ".join(dict.fromkeys(parts))


def _clock(moment: time) -> str:
    if moment >= time(23, 59, 59):
        return "midnight"
    return f"{(moment.hour % 12) or 12}:{moment.minute:02d} {'AM' if moment.hour < 12 else 'PM'}"
