"""Program figures: what the records say a team (or the whole program) did over a period.

Each figure is defined once, in FIGURES below (docs/metrics.md explains each in full). The SQL
reads plain tables with the m001 column names — flags and `deleted` as integers 0/1, times as
ISO 8601 UTC text, lists as JSON text — and uses nothing but SELECT, WHERE and comparisons, so
the agency server can run the same definitions over its copy. The SQL decides which records
count (period, team, tombstones); the arithmetic (medians, percentiles, people seen more than
once) is done here in Python, where it reads the same on every database.
"""

import json
import math
import re
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from . import apco, settings
from .records import DISPOSITIONS, PRESENTING_SITUATIONS, REFERRAL_STATUSES, TRANSPORT_KINDS
from .timeutil import parse_iso, to_iso, utc_now

DEFAULT_CRC_TARGET_MINUTES = settings.SETTINGS["crc_target_minutes"].default
# An agency figure: how long a jail booking keeps a patrol unit out of service, from arrival at
# the jail to back in service. 120 is a placeholder; each agency sets its own (docs/metrics.md).
DEFAULT_BOOKING_BASELINE_MINUTES = settings.SETTINGS["booking_baseline_minutes"].default


@dataclass(frozen=True)
class Parameters:
    """The agency figures a report is computed against; they are printed with the report."""

    crc_target_minutes: float = DEFAULT_CRC_TARGET_MINUTES
    booking_baseline_minutes: float = DEFAULT_BOOKING_BASELINE_MINUTES


DEFAULTS = Parameters()


def laptop_parameters(db: Database) -> Parameters:
    """The agency figures as this laptop's settings hold them."""
    return Parameters(settings.get(db, "crc_target_minutes"),
                      settings.get(db, "booking_baseline_minutes"))


@dataclass(frozen=True)
class Period:
    """The half-open interval [start, end); its local days are those of start's time zone."""

    start: datetime
    end: datetime

    def __post_init__(self):
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("a period's start and end need a time zone")
        if not self.start < self.end:
            raise ValueError(f"a period must end after it starts ({self.start} .. {self.end})")

    @classmethod
    def month(cls, month: str, tz: str | tzinfo = "UTC") -> "Period":
        """The calendar month 'YYYY-MM' in the agency's time zone."""
        zone = ZoneInfo(tz) if isinstance(tz, str) else tz
        match = re.fullmatch(r"(\d{4})-(\d{2})", month or "")
        if not match or not 1 <= int(match[2]) <= 12:
            raise ValueError(f"month must look like 2026-11, not {month!r}")
        year, number = int(match[1]), int(match[2])
        following = date(year + number // 12, number % 12 + 1, 1)
        return cls(datetime.combine(date(year, number, 1), time(0), zone),
                   datetime.combine(following, time(0), zone))

    @property
    def zone(self) -> tzinfo:
        return self.start.tzinfo

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def date_range(self) -> tuple[date, date]:
        """The due dates inside the period: those whose local midnight falls in [start, end)."""
        end = self.end.astimezone(self.zone)
        return _midnight_on_or_after(self.start), _midnight_on_or_after(end)

    def days(self) -> list["Period"]:
        """The period cut at each local midnight."""
        cuts = [self.start]
        day = self.local_date(self.start) + timedelta(days=1)
        while (midnight := datetime.combine(day, time(0), self.zone)) < self.end:
            cuts.append(midnight)
            day += timedelta(days=1)
        cuts.append(self.end)
        return [Period(a, b) for a, b in zip(cuts, cuts[1:])]


def _midnight_on_or_after(moment: datetime) -> date:
    day = moment.date()
    return day if moment.time() == time(0) else day + timedelta(days=1)


@dataclass(frozen=True)
class Figure:
    key: str
    group: str
    label: str
    unit: str  # count, minutes, share (0..1), per person
    value: float | int | None  # None: nothing to measure (no denominator)
    definition: str
    additive: bool  # the period's value is the sum of its days' values


# key -> (group, label, unit, additive, definition); a definition may name {target} and {baseline}.
_CRC = "CRC drop-offs"
_PATROL = "Patrol time saved"
_CALLS = "Calls"
_COURT = "Court-ordered work and force"
_DIVERSION = "Diversion"
_OUTREACH = "Outreach"
_CARE = "Care"
_REFER = "Referrals"
_FOLLOW = "Follow-ups"

_IN = "in the period"
_ENC = f"Encounters started {_IN}"

FIGURES: dict[str, tuple[str, str, str, bool, str]] = {key: tuple(rest) for key, *rest in [
    ("crc.dropoffs", _CRC, "Transports to the CRC", "count", True,
     f"CRC drop-offs whose unit arrived at the sally port {_IN}."),
    *[(f"crc.transport.{kind}", _CRC, f"{kind.capitalize()} transports", "count", True,
       f"CRC drop-offs arrived {_IN} recorded as {kind}.") for kind in TRANSPORT_KINDS],
    ("crc.handed_off", _CRC, "Check-ins timed", "count", True,
     f"CRC drop-offs arrived {_IN} with a hand-off time (check-in complete)."),
    ("crc.check_in_median_minutes", _CRC, "Check-in time, median", "minutes", False,
     "Median of arrival to hand-off, over drop-offs arrived in the period and handed off."),
    ("crc.check_in_p90_minutes", _CRC, "Check-in time, 90th percentile", "minutes", False,
     "90th percentile (linear interpolation) of arrival to hand-off, same drop-offs."),
    ("crc.check_in_within_target_share", _CRC, "Check-ins within target", "share", False,
     "Share of handed-off drop-offs whose check-in took at most the {target}-minute target."),
    ("crc.cleared", _CRC, "Back in service recorded", "count", True,
     f"CRC drop-offs arrived {_IN} with a cleared (back in service) time."),
    ("crc.back_in_service_median_minutes", _CRC, "Time to back in service, median", "minutes",
     False, "Median of arrival to cleared, over drop-offs arrived in the period and cleared."),
    ("crc.back_in_service_p90_minutes", _CRC, "Time to back in service, 90th percentile",
     "minutes", False, "90th percentile (linear interpolation) of arrival to cleared."),
    ("patrol.time_saved_minutes", _PATROL, "Patrol time saved", "minutes", True,
     "Sum over cleared drop-offs arrived in the period of ({baseline}-minute jail booking "
     "baseline minus arrival to cleared); a drop-off slower than the baseline counts negative."),
    ("calls.patrol_taken", _CALLS, "Patrol calls taken", "count", True,
     f"Calls for service (assignments of type call_for_service) taken {_IN}."),
    ("calls.patrol_cleared", _CALLS, "Patrol calls cleared", "count", True,
     f"Calls for service cleared {_IN}."),
    ("calls.mental_health", _CALLS, "Mental-health calls", "count", True, f"{_ENC}."),
    *[(f"calls.situation.{s}", _CALLS, "Situation: " + s.replace("_", " "), "count", True,
       f"{_ENC} whose presenting situation is {s}.") for s in PRESENTING_SITUATIONS],
    *[(f"calls.disposition.{d}", _CALLS, "Disposition: " + d.replace("_", " "), "count", True,
       f"{_ENC} whose disposition is {d}.") for d in DISPOSITIONS],
    ("calls.disposition.not_recorded", _CALLS, "Disposition: not recorded", "count", True,
     f"{_ENC} with no disposition yet."),
    ("court.pickup_orders_attempted", _COURT, "Pickup orders attempted", "count", True,
     f"{_ENC} flagged pickup order attempted or served (a served order was attempted)."),
    ("court.pickup_orders_served", _COURT, "Pickup orders served", "count", True,
     f"{_ENC} flagged pickup order served."),
    ("court.emergency_petitions", _COURT, "Emergency petitions completed", "count", True,
     f"{_ENC} flagged emergency petition completed."),
    ("force.uses", _COURT, "Uses of force", "count", True,
     f"{_ENC} flagged use of force (whatever its type)."),
    ("force.during_pickup_orders", _COURT, "Uses of force during pickup orders", "count", True,
     f"{_ENC} flagged use of force and pickup order attempted or served."),
    ("diversion.deflections", _DIVERSION, "Deflections", "count", True,
     f"{_ENC} flagged deflection, anonymous ones included."),
    ("diversion.anonymous_deflections", _DIVERSION, "Deflections of unnamed people", "count",
     True, "Deflections with no person linked."),
    ("diversion.people_deflected", _DIVERSION, "People deflected", "count", False,
     "Distinct people linked to the period's deflections (anonymous encounters add nobody)."),
    ("diversion.people_deflected_repeat", _DIVERSION, "People deflected more than once",
     "count", False, "People linked to two or more of the period's deflections."),
    ("outreach.engagements", _OUTREACH, "Outreach engagements", "count", True,
     f"Outreach contacts logged {_IN}, anonymous ones included."),
    ("outreach.anonymous_engagements", _OUTREACH, "Engagements with unnamed people", "count",
     True, "Outreach contacts with no person linked."),
    ("outreach.people_engaged", _OUTREACH, "People engaged", "count", False,
     "Distinct people linked to the period's outreach contacts."),
    ("outreach.engagements_per_person", _OUTREACH, "Engagements per person", "per person",
     False, "Outreach contacts with a person linked, divided by the distinct people engaged."),
    ("outreach.people_engaged_repeat", _OUTREACH, "People engaged more than once", "count",
     False, "People linked to two or more of the period's outreach contacts."),
    ("outreach.services_offered", _OUTREACH, "Services offered", "count", True,
     "Services listed as offered, summed over the period's outreach contacts."),
    ("outreach.referrals", _OUTREACH, "Referrals", "count", True,
     "Outreach contacts of the period with a referral recorded."),
    ("care.connected_to_care", _CARE, "Connected to care", "count", True,
     f"{_ENC} flagged connected to care."),
    ("care.connected_to_care_share", _CARE, "Share connected to care", "share", False,
     "Encounters connected to care divided by encounters, in the period."),
    ("care.stabilized_on_scene", _CARE, "Stabilized on scene", "count", True,
     f"{_ENC} flagged stabilized on scene."),
    ("care.warm_handoffs_crisis_line", _CARE, "Warm hand-offs to the crisis line", "count",
     True, f"{_ENC} flagged warm hand-off to the crisis line."),
    ("referrals.made", _REFER, "Referrals made", "count", True,
     f"Referrals to directory services sent {_IN}, from encounters and outreach contacts."),
    ("referrals.from_encounters", _REFER, "Referrals made on encounters", "count", True,
     "Referrals of the period made on an encounter."),
    ("referrals.from_outreach", _REFER, "Referrals made on outreach contacts", "count", True,
     "Referrals of the period made on an outreach contact."),
    *[(f"referrals.status.{status}", _REFER, f"Referrals now {status}", "count", True,
       f"Referrals of the period whose status is {status} when the report is made.")
      for status in REFERRAL_STATUSES],
    ("referrals.completed_share", _REFER, "Share of referrals completed", "share", False,
     "Referrals of the period now completed, divided by referrals made."),
    ("referrals.people_referred", _REFER, "People referred", "count", False,
     "Distinct people named on the period's referrals (a referral for nobody named adds "
     "nobody)."),
    ("followups.due", _FOLLOW, "Follow-ups due", "count", True,
     "Follow-ups (not cancelled) whose due date falls in the period."),
    ("followups.done_on_time", _FOLLOW, "Done on time", "count", True,
     "Follow-ups due in the period, done on or before the due date (agency-local date)."),
    ("followups.done_late", _FOLLOW, "Done late", "count", True,
     "Follow-ups due in the period, done after the due date (or with no done time)."),
    ("followups.overdue", _FOLLOW, "Overdue", "count", True,
     "Follow-ups due in the period, still open, due before the report's as-of date."),
    ("followups.not_yet_due", _FOLLOW, "Open, not yet due", "count", True,
     "Follow-ups due in the period, still open, due on or after the as-of date."),
    ("followups.on_time_share", _FOLLOW, "Share done on time", "share", False,
     "Follow-ups done on time divided by follow-ups due, in the period."),
    ("followups.attempts", _FOLLOW, "Attempts on due follow-ups", "count", True,
     "Attempts logged (at any time) on the follow-ups due in the period."),
    ("followups.attempts_per_follow_up", _FOLLOW, "Attempts per follow-up", "per follow-up",
     False, "Attempts on the period's due follow-ups divided by those follow-ups."),
]}


def compute(conn, period: Period, team: str | None = None,
            parameters: Parameters = DEFAULTS, as_of: datetime | None = None
            ) -> dict[str, Figure]:
    """Every figure for `team` (None: the whole program) over `period`, keyed as in FIGURES.

    `conn` is a sqlite-utils Database or a DB-API connection (with SQLAlchemy, pass
    `engine.raw_connection()`). `as_of` is the moment open follow-ups are judged overdue at
    (default: the end of the period, or now if sooner).
    """
    as_of = as_of or min(period.end, utc_now())
    reader = _Reader(conn, period, team)
    values = {
        **_crc(reader, parameters),
        **_calls(reader),
        **_encounters(reader),
        **_outreach(reader),
        **_referrals(reader),
        **_follow_ups(reader, period, as_of),
    }
    names = {"target": _number(parameters.crc_target_minutes),
             "baseline": _number(parameters.booking_baseline_minutes)}
    return {key: Figure(key, group, label, unit, values[key], definition.format(**names), additive)
            for key, (group, label, unit, additive, definition) in FIGURES.items()}


def check_in_minutes(conn, period: Period, team: str | None = None) -> list[float]:
    """Each handed-off drop-off's check-in time, in arrival order: the report's histogram."""
    rows = _Reader(conn, period, team).dropoffs()
    return [_minutes(r["arrived_at"], r["handed_off_at"]) for r in rows if r["handed_off_at"]]


def percentile(values: list[float], fraction: float) -> float | None:
    """Linear interpolation between the closest ranks (numpy's default); None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _crc(reader: "_Reader", parameters: Parameters) -> dict:
    rows = reader.dropoffs()
    check_ins = [_minutes(r["arrived_at"], r["handed_off_at"]) for r in rows if r["handed_off_at"]]
    in_service = [_minutes(r["arrived_at"], r["cleared_at"]) for r in rows if r["cleared_at"]]
    transports = Counter(r["transport"] for r in rows)
    within = sum(1 for m in check_ins if m <= parameters.crc_target_minutes)
    return {
        "crc.dropoffs": len(rows),
        **{f"crc.transport.{kind}": transports[kind] for kind in TRANSPORT_KINDS},
        "crc.handed_off": len(check_ins),
        "crc.check_in_median_minutes": percentile(check_ins, 0.5),
        "crc.check_in_p90_minutes": percentile(check_ins, 0.9),
        "crc.check_in_within_target_share": _share(within, len(check_ins)),
        "crc.cleared": len(in_service),
        "crc.back_in_service_median_minutes": percentile(in_service, 0.5),
        "crc.back_in_service_p90_minutes": percentile(in_service, 0.9),
        "patrol.time_saved_minutes": sum(parameters.booking_baseline_minutes - m
                                         for m in in_service),
    }


def _calls(reader: "_Reader") -> dict:
    rows = reader.select(
        "assignment", "taken_at, cleared_at",
        "type = 'call_for_service' AND ((taken_at >= :start AND taken_at < :end) "
        "OR (cleared_at >= :start AND cleared_at < :end))")
    return {
        "calls.patrol_taken": sum(1 for r in rows if reader.inside(r["taken_at"])),
        "calls.patrol_cleared": sum(1 for r in rows if reader.inside(r["cleared_at"])),
    }


def _encounters(reader: "_Reader") -> dict:
    rows = reader.select(
        "encounter",
        "person_ids, presenting_situation, disposition, use_of_force, pickup_order_attempted, "
        "pickup_order_served, emergency_petition, deflection, warm_handoff_crisis_line, "
        "connected_to_care, stabilized_on_scene",
        "started_at >= :start AND started_at < :end AND joined_to IS NULL")
    situations = Counter(r["presenting_situation"] for r in rows)
    dispositions = Counter(r["disposition"] for r in rows)
    pickup = [r for r in rows if r["pickup_order_attempted"] or r["pickup_order_served"]]
    deflections = [r for r in rows if r["deflection"]]
    deflected = Counter(p for r in deflections for p in set(_list(r["person_ids"])))
    connected = sum(1 for r in rows if r["connected_to_care"])
    return {
        "calls.mental_health": len(rows),
        **{f"calls.situation.{s}": situations[s] for s in PRESENTING_SITUATIONS},
        **{f"calls.disposition.{d}": dispositions[d] for d in DISPOSITIONS},
        "calls.disposition.not_recorded": dispositions[None],
        "court.pickup_orders_attempted": len(pickup),
        "court.pickup_orders_served": sum(1 for r in rows if r["pickup_order_served"]),
        "court.emergency_petitions": sum(1 for r in rows if r["emergency_petition"]),
        "force.uses": sum(1 for r in rows if r["use_of_force"]),
        "force.during_pickup_orders": sum(1 for r in pickup if r["use_of_force"]),
        "diversion.deflections": len(deflections),
        "diversion.anonymous_deflections": sum(1 for r in deflections
                                               if not _list(r["person_ids"])),
        "diversion.people_deflected": len(deflected),
        "diversion.people_deflected_repeat": sum(1 for n in deflected.values() if n > 1),
        "care.connected_to_care": connected,
        "care.connected_to_care_share": _share(connected, len(rows)),
        "care.stabilized_on_scene": sum(1 for r in rows if r["stabilized_on_scene"]),
        "care.warm_handoffs_crisis_line": sum(1 for r in rows if r["warm_handoff_crisis_line"]),
    }


def _outreach(reader: "_Reader") -> dict:
    rows = reader.select("outreach_contact", "person_id, services_offered, referral",
                         "contacted_at >= :start AND contacted_at < :end")
    engaged = Counter(r["person_id"] for r in rows if r["person_id"])
    return {
        "outreach.engagements": len(rows),
        "outreach.anonymous_engagements": sum(1 for r in rows if not r["person_id"]),
        "outreach.people_engaged": len(engaged),
        "outreach.engagements_per_person": _share(sum(engaged.values()), len(engaged)),
        "outreach.people_engaged_repeat": sum(1 for n in engaged.values() if n > 1),
        "outreach.services_offered": sum(len(_list(r["services_offered"])) for r in rows),
        "outreach.referrals": sum(1 for r in rows if (r["referral"] or "").strip()),
    }


def _referrals(reader: "_Reader") -> dict:
    rows = reader.select("referral", "encounter_id, person_id, status",
                         "sent_at >= :start AND sent_at < :end")
    states = Counter(r["status"] for r in rows)
    return {
        "referrals.made": len(rows),
        "referrals.from_encounters": sum(1 for r in rows if r["encounter_id"]),
        "referrals.from_outreach": sum(1 for r in rows if not r["encounter_id"]),
        **{f"referrals.status.{status}": states[status] for status in REFERRAL_STATUSES},
        "referrals.completed_share": _share(states["completed"], len(rows)),
        "referrals.people_referred": len({r["person_id"] for r in rows if r["person_id"]}),
    }


def apco_breakdown(conn, period: Period, team: str | None = None) -> dict[str, Counter]:
    """Calls for service by APCO common code: those taken in the period by incident type, and
    those cleared in it by disposition ("" for a call with no code). They add up to
    calls.patrol_taken and calls.patrol_cleared."""
    reader = _Reader(conn, period, team)
    rows = reader.select(
        "assignment", "taken_at, cleared_at, apco_incident_type, apco_disposition",
        "type = 'call_for_service' AND ((taken_at >= :start AND taken_at < :end) "
        "OR (cleared_at >= :start AND cleared_at < :end))")
    return {"incident_types": Counter(r["apco_incident_type"] or "" for r in rows
                                      if reader.inside(r["taken_at"])),
            "dispositions": Counter(r["apco_disposition"] or "" for r in rows
                                    if reader.inside(r["cleared_at"]))}


def apco_rows(breakdown: dict[str, Counter]) -> list[tuple[str, str, str, int]]:
    """The breakdown as (figure key, group, label, count) rows, largest first in each group;
    the report writes these after the figures."""
    out = []
    for kind, codes, group in (
            ("incident_type", apco.INCIDENT_TYPES, "Calls by APCO incident type"),
            ("disposition", apco.DISPOSITIONS, "Calls by APCO disposition")):
        counts = breakdown[f"{kind}s"]
        for code in sorted(counts, key=lambda c: (c == "", -counts[c], c)):
            out.append((f"calls.apco_{kind}.{code or apco.UNMAPPED}", group,
                        apco.label(code, codes), counts[code]))
    return out


def _follow_ups(reader: "_Reader", period: Period, as_of: datetime) -> dict:
    rows = reader.select(
        "follow_up",
        "due_on, status, done_at, (SELECT COUNT(*) FROM follow_up_attempt a "
        "WHERE a.follow_up_id = follow_up.id AND a.deleted = 0) AS attempts",
        "status <> 'cancelled' AND due_on >= :first_day AND due_on < :end_day")
    today = period.local_date(as_of)
    state = Counter()
    for r in rows:
        due = _date(r["due_on"])
        if r["status"] == "done":
            on_time = r["done_at"] is not None and period.local_date(_moment(r["done_at"])) <= due
            state["done_on_time" if on_time else "done_late"] += 1
        else:
            state["overdue" if due < today else "not_yet_due"] += 1
    attempts = sum(r["attempts"] for r in rows)
    return {
        "followups.due": len(rows),
        **{f"followups.{s}": state[s]
           for s in ("done_on_time", "done_late", "overdue", "not_yet_due")},
        "followups.on_time_share": _share(state["done_on_time"], len(rows)),
        "followups.attempts": attempts,
        "followups.attempts_per_follow_up": _share(attempts, len(rows)),
    }


class _Reader:
    """Runs the figures' SELECTs on any DB-API connection, with the period and team bound."""

    def __init__(self, conn, period: Period, team: str | None):
        if isinstance(conn, Database):
            conn = conn.conn
        self.conn = getattr(conn, "dbapi_connection", conn)  # an SQLAlchemy pool proxy
        module = sys.modules[type(self.conn).__module__.partition(".")[0]]
        self.pyformat = getattr(module, "paramstyle", "qmark") in ("format", "pyformat")
        first_day, end_day = period.date_range()
        self.start, self.end = to_iso(period.start), to_iso(period.end)
        self.params = {"start": self.start, "end": self.end, "team": team,
                       "first_day": first_day.isoformat(), "end_day": end_day.isoformat()}
        self.team = team

    def select(self, table: str, columns: str, condition: str) -> list[dict]:
        """Live rows of `table` (tombstones excluded) meeting `condition`, for the team if any."""
        sql = f"SELECT {columns} FROM {table} WHERE {table}.deleted = 0 AND ({condition})"
        if self.team is not None:
            sql += f" AND {table}.team = :team"
        if self.pyformat:
            sql = re.sub(r":(\w+)", r"%(\1)s", sql)
        cursor = self.conn.cursor()
        try:
            cursor.execute(sql, self.params)
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row)) for row in cursor.fetchall()]
        finally:
            cursor.close()

    def dropoffs(self) -> list[dict]:
        return self.select("crc_dropoff", "transport, arrived_at, handed_off_at, cleared_at",
                           "arrived_at >= :start AND arrived_at < :end")

    def inside(self, stamp) -> bool:
        return stamp is not None and self.start <= to_iso(_moment(stamp)) < self.end


def _moment(value) -> datetime:
    """A stored time: ISO text on SQLite, perhaps a datetime on another database."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return parse_iso(value)


def _date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _minutes(start, end) -> float:
    return (_moment(end) - _moment(start)).total_seconds() / 60


def _list(value) -> list:
    """A stored list: JSON text on SQLite, perhaps already a list elsewhere; NULL is empty."""
    if value is None:
        return []
    return value if isinstance(value, list) else json.loads(value)


def _share(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def _number(value: float) -> str:
    return f"{value:g}"
