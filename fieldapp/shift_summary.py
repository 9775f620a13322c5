"""What a crew did on one shift, for the summary shown when they end it.

The figures are fieldapp.metrics' own, computed over the shift's hours for the shift's team, so
the summary and the monthly report never disagree on what a figure means. The shift's hours are
[started_at, ended_at] (the end included: a record made in the moment the shift ended is part
of it). A second unit of the same team on duty in the same hours counts here too: the records
name their team, not always their shift. Two things are the shift's own and not program figures:
the time spent in each status (from its timeline) and the follow-up attempts logged during it.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from . import agency, changes, metrics, shifts
from .metrics import Figure, Parameters, Period
from .records import SHIFT_STATUSES, record_type
from .session import Session
from .timeutil import parse_iso, to_iso, utc_now
from .validation import stored_to_python


@dataclass(frozen=True)
class ShiftSummary:
    shift: dict
    period: Period
    parameters: Parameters
    figures: dict[str, Figure]  # metrics.compute over the shift's hours and team
    status_minutes: dict[str, float]  # status -> minutes spent in it, in SHIFT_STATUSES order
    status_changes: int  # status events after the first (in service)
    check_ins: list[float]  # each timed CRC check-in, minutes, in arrival order
    follow_up_attempts: int  # attempts logged during the shift on the team's follow-ups
    follow_ups_done: int  # of those, attempts that completed their follow-up

    @property
    def minutes(self) -> float:
        return (self.period.end - self.period.start).total_seconds() / 60

    def value(self, key: str):
        return self.figures[key].value

    @property
    def dispositions(self) -> dict[str, int]:
        """Encounters by disposition (the keys after 'calls.disposition.'), those with any."""
        prefix = "calls.disposition."
        return {k[len(prefix):]: f.value for k, f in self.figures.items()
                if k.startswith(prefix) and f.value}

    @property
    def check_ins_within_target(self) -> int:
        return sum(1 for m in self.check_ins if m <= self.parameters.crc_target_minutes)


def summarize(session: Session, shift_id: str, now: datetime | None = None) -> ShiftSummary:
    """The summary of one shift; a shift still under way is summarised up to `now`."""
    shift = changes.get(session, "shift", shift_id)
    zone = agency.zone(session.db)  # the period's days, and what is overdue, are the agency's
    start = parse_iso(shift["started_at"]).astimezone(zone)
    ended = (parse_iso(shift["ended_at"]) if shift["ended_at"] else (now or utc_now())
             ).astimezone(zone)
    period = Period(start, max(ended, start) + timedelta(milliseconds=1))
    parameters = metrics.laptop_parameters(session.db)
    team = shift["team"]
    events = shifts.timeline(session, shift_id)
    return ShiftSummary(
        shift=shift, period=period, parameters=parameters,
        figures=metrics.compute(session.db, period, team, parameters, as_of=period.end),
        status_minutes=_status_minutes(events, ended),
        status_changes=max(0, len(events) - 1),
        check_ins=metrics.check_in_minutes(session.db, period, team),
        **_follow_up_work(session, period, team))


def last_ended_shift(session: Session) -> dict | None:
    """This user's most recently ended shift, if any."""
    for row in session.db.query(
            "SELECT * FROM shift WHERE ended_at IS NOT NULL AND deleted = 0 "
            "ORDER BY ended_at DESC"):
        shift = stored_to_python(record_type("shift"), row)
        if any(m.get("username") == session.username for m in shift["members"]):
            return shift
    return None


def summarize_last(session: Session) -> ShiftSummary | None:
    """The summary of this user's last ended shift (None before their first shift ends)."""
    shift = last_ended_shift(session)
    return summarize(session, shift["id"]) if shift else None


def _status_minutes(events: list[dict], ended: datetime) -> dict[str, float]:
    """Each status's time: from its event to the next one (the last one runs to the end)."""
    spent = Counter()
    for event, following in zip(events, events[1:] + [None]):
        until = parse_iso(following["at"]) if following else ended
        spent[event["status"]] += max(0.0, (until - parse_iso(event["at"])).total_seconds() / 60)
    return {s: spent[s] for s in SHIFT_STATUSES if s in spent}


def _follow_up_work(session: Session, period: Period, team: str) -> dict:
    outcomes = [row[0] for row in session.db.execute(
        "SELECT a.outcome FROM follow_up_attempt a JOIN follow_up f ON f.id = a.follow_up_id "
        "WHERE a.deleted = 0 AND f.deleted = 0 AND f.team = ? AND a.at >= ? AND a.at < ?",
        [team, to_iso(period.start), to_iso(period.end)])]
    return {"follow_up_attempts": len(outcomes),
            "follow_ups_done": sum(1 for o in outcomes if o == "completed")}
