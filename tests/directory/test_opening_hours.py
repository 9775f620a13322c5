"""Open-now and today's hours from HSDS schedules, checked against dateutil's rrule."""

from datetime import UTC, date, datetime, time, timedelta, timezone

from dateutil import rrule as du
from hypothesis import given, settings
from hypothesis import strategies as st

from fieldapp import opening_hours as oh

PHOENIX = timezone(timedelta(hours=-7))


def rule(**fields):
    return oh.parse_rule({"freq": "WEEKLY", **fields})


def local(y, m, d, hh=12, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=PHOENIX)


def test_weekday_hours_and_zone_from_timezone_field():
    r = [rule(byday="MO,TU,WE,TH,FR", opens_at="09:00", closes_at="17:00", timezone=-7)]
    monday = local(2026, 11, 23)
    assert oh.is_open(r, monday.replace(hour=9)) is True
    assert oh.is_open(r, monday.replace(hour=17)) is False
    assert oh.is_open(r, local(2026, 11, 22)) is False  # Sunday
    # 16:30 UTC is 9:30 in Tucson: the schedule's zone decides, not UTC.
    assert oh.is_open(r, datetime(2026, 11, 23, 16, 30, tzinfo=UTC)) is True
    assert oh.hours_today(r, monday) == "9:00 AM – 5:00 PM"
    assert oh.hours_today(r, local(2026, 11, 22)) == "Closed today"


def test_default_zone_is_phoenix_and_offsets_in_times_win():
    plain = [rule(byday="MO", opens_at="09:00", closes_at="10:00")]
    assert oh.is_open(plain, datetime(2026, 11, 23, 16, 30, tzinfo=UTC)) is True
    named = [rule(byday="MO", opens_at="09:00", closes_at="10:00", timezone="America/New_York")]
    assert oh.is_open(named, datetime(2026, 11, 23, 14, 30, tzinfo=UTC)) is True
    utc = [rule(byday="MO", opens_at="09:00Z", closes_at="10:00Z", timezone=-7)]
    assert oh.is_open(utc, datetime(2026, 11, 23, 9, 30, tzinfo=UTC)) is True


def test_span_past_midnight():
    r = [rule(byday="FR", opens_at="19:00", closes_at="07:00")]
    assert oh.is_open(r, local(2026, 11, 27, 23)) is True       # Friday night
    assert oh.is_open(r, local(2026, 11, 28, 6, 59)) is True     # Saturday morning
    assert oh.is_open(r, local(2026, 11, 28, 7)) is False
    assert oh.is_open(r, local(2026, 11, 27, 6)) is False        # Friday morning: Thursday closed
    assert oh.hours_today(r, local(2026, 11, 28, 3)) == "until 7:00 AM"
    assert oh.hours_today(r, local(2026, 11, 27, 3)) == "7:00 PM – 7:00 AM"


def test_twenty_four_hours_convention():
    every_day = [rule(byday="MO,TU,WE,TH,FR,SA,SU", opens_at="00:00", closes_at="23:59")]
    assert oh.always_open(every_day)
    assert oh.is_open(every_day, local(2026, 11, 23, 23, 59).replace(second=30)) is True
    assert oh.hours_today(every_day, local(2026, 11, 23)) == "Open 24 hours"
    weekdays = [rule(byday="MO,TU,WE,TH,FR", opens_at="00:00", closes_at="23:59")]
    assert not oh.always_open(weekdays)
    assert oh.hours_today(weekdays, local(2026, 11, 23)) == "Open 24 hours"
    assert oh.is_open(weekdays, local(2026, 11, 22)) is False


def test_validity_window_and_monthly_ordinals():
    r = [rule(byday="MO", opens_at="09:00", closes_at="12:00", valid_from="2026-12-01",
              valid_to="2026-12-31")]
    assert oh.is_open(r, local(2026, 11, 30, 10)) is False
    assert oh.is_open(r, local(2026, 12, 7, 10)) is True
    assert oh.is_open(r, local(2027, 1, 4, 10)) is False
    second_monday = [oh.parse_rule({"freq": "MONTHLY", "byday": "2MO", "opens_at": "10:00",
                                    "closes_at": "11:00"})]
    assert oh.is_open(second_monday, local(2026, 12, 14, 10, 30)) is True
    assert oh.is_open(second_monday, local(2026, 12, 7, 10, 30)) is False
    last_friday = [oh.parse_rule({"freq": "MONTHLY", "byday": "-1FR", "opens_at": "10:00",
                                  "closes_at": "11:00"})]
    assert oh.is_open(last_friday, local(2026, 11, 27, 10, 30)) is True
    assert oh.is_open(last_friday, local(2026, 11, 20, 10, 30)) is False


def test_holiday_schedule_replaces_regular_hours():
    r = [rule(byday="MO,TU,WE,TH,FR", opens_at="09:00", closes_at="17:00"),
         rule(byday="MO,TU,WE,TH,FR,SA,SU", valid_from="2026-12-25", valid_to="2026-12-25",
              holiday=1, closed=1)]
    assert oh.is_open(r, local(2026, 12, 25, 10)) is False
    assert oh.hours_today(r, local(2026, 12, 25, 10)) == "Closed today"
    assert oh.is_open(r, local(2026, 12, 24, 10)) is True


def test_no_hours_means_unknown():
    assert oh.is_open([], local(2026, 11, 23)) is None
    assert oh.hours_today([], local(2026, 11, 23)) == "Hours not listed"


def test_mixed_weekdays_in_a_month_are_a_union():
    """RFC 5545: BYDAY=MO,1TU in a month is every Monday and the first Tuesday."""
    r = oh.parse_rule({"freq": "MONTHLY", "byday": "MO,1TU", "dtstart": "2024-01-01",
                       "opens_at": "10:00", "closes_at": "11:00"})
    assert [r.occurs_on(date(2024, 1, d)) for d in (1, 2, 8, 9, 15, 16)] == [
        True, True, True, False, True, False]
    assert r.occurs_on(date(2024, 2, 6)) and not r.occurs_on(date(2024, 2, 13))


# ---- properties: the direct rule logic against dateutil's rrule ----------------------------

DAY_CODES = st.sampled_from(oh.WEEKDAYS)
START = date(2024, 1, 1)


@st.composite
def schedules(draw):
    freq = draw(st.sampled_from(oh.FREQS))
    fields = {"freq": freq, "dtstart": (START + timedelta(days=draw(st.integers(0, 400)))).isoformat(),
              "interval": draw(st.integers(1, 3)),
              "wkst": draw(st.sampled_from(oh.WEEKDAYS))}
    if freq == "MONTHLY":
        # all with an ordinal or all without: dateutil takes "MO,1TU" as Mondays that are first
        # Tuesdays (none), not RFC 5545's union (test_mixed_weekdays_in_a_month_are_a_union)
        ordinals = [1, 2, 3, 4, 5, -1, -2] if draw(st.booleans()) else [None]
        days = draw(st.lists(st.tuples(st.sampled_from(ordinals), DAY_CODES), max_size=3))
        fields["byday"] = ",".join(f"{n or ''}{d}" for n, d in days)
        monthdays = draw(st.lists(st.sampled_from([1, 2, 15, 28, 29, 30, 31, -1, -7]), max_size=2))
    else:
        fields["byday"] = ",".join(draw(st.lists(DAY_CODES, max_size=4)))
        monthdays = []
    fields["bymonthday"] = ",".join(map(str, monthdays))
    end = draw(st.sampled_from(["none", "until", "count"]))  # RFC 5545: not both
    if end == "until":
        fields["until"] = (START + timedelta(days=draw(st.integers(0, 900)))).isoformat()
    elif end == "count":
        fields["count"] = draw(st.integers(1, 30))
    opens = draw(st.integers(0, 23 * 60 + 59))
    length = draw(st.integers(1, 23 * 60))
    closes = (opens + length) % (24 * 60)
    fields["opens_at"] = f"{opens // 60:02d}:{opens % 60:02d}"
    fields["closes_at"] = f"{closes // 60:02d}:{closes % 60:02d}"
    fields["timezone"] = -7
    return fields


def oracle(fields) -> du.rrule:
    """The same schedule built straight from the HSDS fields, not from our Rule."""
    byday = []
    for part in filter(None, fields["byday"].split(",")):
        code, ordinal = part[-2:], part[:-2]
        wd = getattr(du, code)
        byday.append(wd(int(ordinal)) if ordinal else wd)
    return du.rrule(
        du.WEEKLY if fields["freq"] == "WEEKLY" else du.MONTHLY,
        dtstart=datetime.fromisoformat(fields["dtstart"]), interval=fields["interval"],
        wkst=getattr(du, fields["wkst"]), byweekday=byday or None,
        bymonthday=[int(n) for n in fields["bymonthday"].split(",") if n] or None,
        until=datetime.fromisoformat(fields["until"]) if "until" in fields else None,
        count=fields.get("count"))


@settings(max_examples=150, deadline=None)
@given(schedules(), st.integers(0, 1200))
def test_occurs_on_agrees_with_rrule(fields, offset):
    day = START + timedelta(days=offset)
    expected = any(d.date() == day for d in oracle(fields).between(
        datetime.combine(day, time(0)), datetime.combine(day, time(23, 59)), inc=True))
    assert oh.parse_rule(fields).occurs_on(day) is expected


@settings(max_examples=150, deadline=None)
@given(schedules(), st.integers(0, 1200 * 24 * 60))
def test_is_open_agrees_with_rrule_intervals(fields, minute):
    at = datetime.combine(START, time(0), PHOENIX) + timedelta(minutes=minute)
    opens = time.fromisoformat(fields["opens_at"])
    closes = time.fromisoformat(fields["closes_at"])
    naive = at.replace(tzinfo=None)
    expected = False
    for occurrence in oracle(fields).between(naive - timedelta(days=2), naive, inc=True):
        start = datetime.combine(occurrence.date(), opens)
        end_day = occurrence.date() + timedelta(days=0 if closes > opens else 1)
        end = datetime.combine(end_day, closes)
        if opens == time(0) and closes == time(23, 59):
            end = datetime.combine(occurrence.date() + timedelta(days=1), time(0))
        expected |= start <= naive < end
    assert oh.is_open([oh.parse_rule(fields)], at) is expected
