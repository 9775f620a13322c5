"""A month of a program's work, written through the real services, with its answers kept.

Two co-responder teams and a peer outreach team share one cache (as a supervisor's or the
server's copy would). Every record is written by the field services with explicit times; as
it writes, the generator tallies what each figure must come to (the oracle), with nothing but
counters and lists. Records just outside the month and tombstoned ones are written too, and
left out of the tally.
"""

import dataclasses
import random
import statistics
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from fieldapp import (apco, assignments, changes, crc, encounters, followups, outreach, persons,
                      referrals, shifts)
from fieldapp.metrics import FIGURES, Period
from fieldapp.records import ASSIGNMENT_DISPOSITIONS, DISPOSITIONS, PRESENTING_SITUATIONS
from fieldapp.session import Profile, Session

TZ = ZoneInfo("America/Phoenix")
MONTH = "2026-11"
TEAMS = ("mhst-1", "mhst-2", "outreach-1")
SERVICES = ("shelter_info", "food", "mental_health", "substance_use_support",
            "housing_navigation", "id_documents")
# A few directory services referrals go to: (id, name, organization, referral category).
DIRECTORY = (("svc-shelter", "Open Door Low-Barrier Shelter", "Gospel Rescue", "shelter"),
             ("svc-detox", "Medically Monitored Withdrawal Management", "Sonoran Recovery",
              "substance_use"),
             ("svc-clinic", "Street Medicine Mobile Clinic", "El Rio Health", "medical"),
             ("svc-meals", "Community Meals", "Casa Maria", "food"),
             ("svc-housing", "Housing Navigation", "Sonoran Housing Collaborative", "housing"),
             ("svc-crisis", "Walk-in Crisis Urgent Care", "Crisis Response Center",
              "crisis_care"))
LIVING = ("unsheltered",) * 6 + ("emergency_shelter", "staying_with_friends", "other", None)
CALL_TYPES = ("mental_health_crisis", "welfare_check", "suicidal_ideation", "substance_use",
              "TPD-10-96")  # the last is a CAD code no default maps
TARGET = 7
BASELINE = 120


def as_team(session: Session, team: str, username: str, role: str) -> Session:
    """Another user writing into the same cache (a supervisor's copy holds several teams)."""
    return dataclasses.replace(session, profile=Profile(username, role, (team,), username))


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), TZ)


@dataclasses.dataclass
class Oracle:
    """What the month's figures must be, per team, tallied while writing."""

    counts: dict = dataclasses.field(default_factory=lambda: defaultdict(Counter))
    check_ins: dict = dataclasses.field(default_factory=lambda: defaultdict(list))
    in_service: dict = dataclasses.field(default_factory=lambda: defaultdict(list))
    deflected: dict = dataclasses.field(default_factory=lambda: defaultdict(Counter))
    engaged: dict = dataclasses.field(default_factory=lambda: defaultdict(Counter))
    referred: dict = dataclasses.field(default_factory=lambda: defaultdict(Counter))
    apco_types: dict = dataclasses.field(default_factory=lambda: defaultdict(Counter))
    apco_dispositions: dict = dataclasses.field(default_factory=lambda: defaultdict(Counter))

    def add(self, team: str, key: str, n: int = 1) -> None:
        self.counts[team][key] += n

    def expected(self, team: str | None) -> dict:
        teams = TEAMS if team is None else (team,)
        c = sum((self.counts[t] for t in teams), Counter())
        check_ins = [m for t in teams for m in self.check_ins[t]]
        in_service = [m for t in teams for m in self.in_service[t]]
        deflected = sum((self.deflected[t] for t in teams), Counter())
        engaged = sum((self.engaged[t] for t in teams), Counter())
        referred = sum((self.referred[t] for t in teams), Counter())
        out = {key: c[key] for key, (_, _, unit, _, _) in FIGURES.items() if unit == "count"}
        out.update({
            "crc.handed_off": len(check_ins),
            "crc.check_in_median_minutes": _median(check_ins),
            "crc.check_in_p90_minutes": _p90(check_ins),
            "crc.check_in_within_target_share":
                sum(m <= TARGET for m in check_ins) / len(check_ins) if check_ins else None,
            "crc.cleared": len(in_service),
            "crc.back_in_service_median_minutes": _median(in_service),
            "crc.back_in_service_p90_minutes": _p90(in_service),
            "patrol.time_saved_minutes": sum(BASELINE - m for m in in_service),
            "diversion.people_deflected": len(deflected),
            "diversion.people_deflected_repeat": sum(n > 1 for n in deflected.values()),
            "outreach.people_engaged": len(engaged),
            "outreach.people_engaged_repeat": sum(n > 1 for n in engaged.values()),
            "outreach.engagements_per_person":
                sum(engaged.values()) / len(engaged) if engaged else None,
            "care.connected_to_care_share": _ratio(c["care.connected_to_care"],
                                                   c["calls.mental_health"]),
            "referrals.completed_share": _ratio(c["referrals.status.completed"],
                                                c["referrals.made"]),
            "referrals.people_referred": len(referred),
            "followups.on_time_share": _ratio(c["followups.done_on_time"], c["followups.due"]),
            "followups.attempts_per_follow_up": _ratio(c["followups.attempts"],
                                                       c["followups.due"]),
        })
        return out


def _ratio(part, whole):
    return part / whole if whole else None


def _median(values):
    return statistics.median(values) if values else None


def _p90(values):
    if len(values) < 2:
        return values[0] if values else None
    return statistics.quantiles(values, n=10, method="inclusive")[8]


@dataclasses.dataclass
class Month:
    period: Period
    oracle: Oracle


def build_month(session: Session, seed: int = 2026) -> Month:
    """Write the month into `session`'s cache; returns the period and its oracle."""
    rng = random.Random(seed)
    period = Period.month(MONTH, TZ)
    oracle = Oracle()
    first, end = period.date_range()
    days = [first + timedelta(days=i) for i in range((end - first).days)]
    officers = {
        "mhst-1": as_team(session, "mhst-1", "ofc.ramirez", "officer"),
        "mhst-2": as_team(session, "mhst-2", "ofc.chen", "officer"),
    }
    peer = as_team(session, "outreach-1", "peer.lee", "peer")
    people = {team: [persons.add_person(s, _person(team, i)) for i in range(10)]
              for team, s in [*officers.items(), ("outreach-1", peer)]}
    with session.db.atomic():  # the resource directory referrals go to
        for service_id, name, organization, _ in DIRECTORY:
            session.db["dir_organization"].insert({"id": f"org-{service_id}",
                                                   "name": organization}, replace=True)
            session.db["dir_service"].insert({"id": service_id, "name": name,
                                              "organization_id": f"org-{service_id}"},
                                             replace=True)

    for team, s in officers.items():
        for day in days:
            _co_responder_day(s, team, day, rng, people[team], oracle)
        _outside_the_month(s, team, first, end)
        _follow_ups(s, team, days, rng, people[team], oracle)
    for day in days:
        _outreach_day(peer, day, rng, people["outreach-1"], oracle)
    outreach.log_contact(peer, services_offered=["food"], at=local(end, 0, 0))  # next month
    tombstoned = outreach.log_contact(peer, services_offered=["food"], at=local(days[3], 10))
    # An outreach contact is append-only on the laptop; a tombstone can still arrive by pull.
    with session.db.atomic():
        session.db.execute("UPDATE outreach_contact SET deleted = 1 WHERE id = ?", [tombstoned])
    return Month(period, oracle)


def _person(team: str, i: int) -> dict:
    """Someone on file: a full name and birth date, a street name, or a name and a year."""
    if i % 3 == 0:
        return {"kind": "named", "first_name": f"Ana{i}", "last_name": team.replace("-", ""),
                "date_of_birth": f"19{70 + i}-0{1 + i % 9}-1{i % 9}"}
    if i % 3 == 1:
        return {"kind": "alias", "alias": f"{team} person {i}"}
    return {"kind": "named", "first_name": f"Jo{i}", "birth_year": 1960 + i}


def _refer(s, team, rng, oracle, at, person, **made_on):
    """A referral made at `at`, moved on by what came back: the oracle counts it."""
    service_id, _, _, category = rng.choice(DIRECTORY)
    made = referrals.refer(s, service_id=service_id, category=category, person_id=person,
                           at=at, **made_on)
    status = rng.choice(("sent", "accepted", "declined", "completed", "completed"))
    steps = {"sent": (), "accepted": ("accepted",), "declined": ("declined",),
             "completed": ("accepted", "completed")}[status]
    for n, step in enumerate(steps, 1):
        referrals.set_status(s, made, step, at=at + timedelta(days=n))
    oracle.add(team, "referrals.made")
    oracle.add(team, "referrals.from_encounters" if "encounter_id" in made_on
               else "referrals.from_outreach")
    oracle.add(team, f"referrals.status.{status}")
    if person:
        oracle.referred[team][person] += 1


def _co_responder_day(s, team, day, rng, people, oracle):
    shift = shifts.start_shift(s, unit=f"{team.upper()}A", at=local(day, 8))
    clock = local(day, 8, 10)
    for _ in range(rng.randint(1, 3)):
        kind = rng.choice(("call_for_service", "call_for_service", "scheduled_task"))
        call_type = rng.choice(CALL_TYPES) if kind == "call_for_service" else None
        call = assignments.create_assignment(s, {
            "source": "cad" if kind == "call_for_service" else "supervisor", "type": kind,
            "priority": rng.randint(1, 3), "summary": "call", "received_at": clock,
            "incident_type": call_type})
        assignments.take(s, call, unit=f"{team.upper()}A", shift_id=shift,
                         at=clock + timedelta(minutes=2))
        clock += timedelta(minutes=rng.randint(20, 60))
        if kind == "call_for_service":
            oracle.add(team, "calls.patrol_taken")
            oracle.apco_types[team][apco.DEFAULT_INCIDENT_TYPES.get(call_type, "")] += 1
        if rng.random() < 0.9:  # a few stay open past the shift
            disposition = rng.choice(ASSIGNMENT_DISPOSITIONS)
            assignments.clear(s, call, disposition, at=clock)
            if kind == "call_for_service":
                oracle.add(team, "calls.patrol_cleared")
                oracle.apco_dispositions[team][apco.DEFAULT_DISPOSITIONS[disposition]] += 1
    for _ in range(rng.randint(1, 3)):
        clock += timedelta(minutes=rng.randint(15, 45))
        _encounter(s, team, shift, clock, rng, people, oracle)
        clock += timedelta(minutes=90)
    if rng.random() < 0.1:  # a mistaken encounter, deleted
        mistaken = encounters.save_encounter(s, {
            "started_at": clock, "presenting_situation": "other", "deflection": True})
        changes.delete(s, "encounter", mistaken)
    shifts.end_shift(s, shift, at=max(clock + timedelta(hours=3), local(day, 18)))


def _encounter(s, team, shift, at, rng, people, oracle):
    situation = rng.choice(PRESENTING_SITUATIONS)
    disposition = rng.choice(DISPOSITIONS + (None,))
    linked = [] if rng.random() < 0.3 else rng.sample(people, rng.choice((1, 1, 2)))
    pickup_served = rng.random() < 0.1
    pickup_attempted = pickup_served or rng.random() < 0.1
    flags = {
        "use_of_force": rng.random() < (0.4 if pickup_attempted else 0.05),
        "pickup_order_attempted": pickup_attempted and rng.random() < 0.9,
        "pickup_order_served": pickup_served,
        "emergency_petition": rng.random() < 0.1,
        "deflection": rng.random() < 0.35,
        "warm_handoff_crisis_line": rng.random() < 0.15,
        "connected_to_care": rng.random() < 0.4,
        "stabilized_on_scene": rng.random() < 0.3,
    }
    encounter = encounters.save_encounter(s, {
        "shift_id": shift, "started_at": at, "presenting_situation": situation,
        "disposition": disposition, "person_ids": linked, **flags})
    oracle.add(team, "calls.mental_health")
    oracle.add(team, f"calls.situation.{situation}")
    oracle.add(team, f"calls.disposition.{disposition or 'not_recorded'}")
    for flag, key in [("pickup_order_served", "court.pickup_orders_served"),
                      ("emergency_petition", "court.emergency_petitions"),
                      ("use_of_force", "force.uses"),
                      ("deflection", "diversion.deflections"),
                      ("warm_handoff_crisis_line", "care.warm_handoffs_crisis_line"),
                      ("connected_to_care", "care.connected_to_care"),
                      ("stabilized_on_scene", "care.stabilized_on_scene")]:
        oracle.add(team, key, int(flags[flag]))
    if flags["pickup_order_attempted"] or flags["pickup_order_served"]:
        oracle.add(team, "court.pickup_orders_attempted")
        oracle.add(team, "force.during_pickup_orders", int(flags["use_of_force"]))
    if flags["deflection"]:
        oracle.add(team, "diversion.anonymous_deflections", int(not linked))
        oracle.deflected[team].update(linked)
    if disposition in ("transported_crc_voluntary", "transported_crc_involuntary"):
        _dropoff(s, team, shift, encounter, at + timedelta(minutes=25), disposition, rng, oracle)
    if linked and rng.random() < 0.2:
        _refer(s, team, rng, oracle, at + timedelta(minutes=40), linked[0],
               encounter_id=encounter)


def _dropoff(s, team, shift, encounter, arrived, disposition, rng, oracle):
    transport = disposition.rsplit("_", 1)[1]
    dropoff = crc.arrive(s, transport, encounter_id=encounter, shift_id=shift, at=arrived)
    oracle.add(team, "crc.dropoffs")
    oracle.add(team, f"crc.transport.{transport}")
    if rng.random() < 0.05:  # still waiting at the sally port when the copy was made
        return
    check_in = rng.choice((2, 3, 4, 4.5, 5, 6, 6.5, 7, 8, 9.5, 11, 14, 22))
    crc.hand_off(s, dropoff, at=arrived + timedelta(minutes=check_in))
    oracle.check_ins[team].append(check_in)
    if rng.random() < 0.05:  # handed off, paperwork still open
        return
    in_service = check_in + rng.choice((6, 9, 12, 15, 20, 30, 45, 140))
    crc.clear(s, dropoff, at=arrived + timedelta(minutes=in_service),
              delay_reason="CRC intake busy" if check_in > TARGET else None)
    oracle.in_service[team].append(in_service)


def _outside_the_month(s, team, first, end):
    """A night-shift encounter and drop-off just either side of the month, and a tombstone."""
    before = local(first, 0) - timedelta(minutes=1)
    encounters.save_encounter(s, {"started_at": before, "presenting_situation": "other",
                                  "deflection": True, "connected_to_care": True})
    late = crc.arrive(s, "voluntary", at=local(end, 0))
    crc.hand_off(s, late, at=local(end, 0, 5))
    gone = crc.arrive(s, "involuntary", at=local(first + timedelta(days=9), 13))
    changes.delete(s, "crc_dropoff", gone)


def _follow_ups(s, team, days, rng, people, oracle):
    as_of = days[-1] + timedelta(days=1)
    for due in [days[0] - timedelta(days=2)] + days[::2] + [as_of]:
        follow_up = followups.create_follow_up(s, {
            "person_id": rng.choice(people), "reason": rng.choice(
                ("crc_discharge", "court_order", "high_utilizer", "post_crisis_check")),
            "due_on": due})
        counted = days[0] <= due < as_of
        if counted and rng.random() < 0.1:
            changes.patch(s, "follow_up", follow_up, {"status": "cancelled"})
            continue
        tries = rng.randint(0, 3)
        done_offset = rng.choice((-2, -1, 0, 0, 1, 3, None, None))
        for n in range(tries):
            completing = n == tries - 1 and done_offset is not None
            at = local(due + timedelta(days=(done_offset or 0) if completing else -3 + n), 11)
            outcome = "completed" if completing else "no_answer"
            followups.log_attempt(s, follow_up, "phone", outcome, at=at)
        if not counted:
            continue
        oracle.add(team, "followups.due")
        oracle.add(team, "followups.attempts", tries)
        if tries and done_offset is not None:
            on_time = done_offset <= 0
            oracle.add(team, "followups.done_on_time" if on_time else "followups.done_late")
        else:
            oracle.add(team, "followups.overdue")  # due before the month's end, still open


def _outreach_day(peer, day, rng, people, oracle):
    for i in range(rng.randint(2, 6)):
        person = None if rng.random() < 0.35 else rng.choice(people)
        offered = rng.sample(SERVICES, rng.randint(0, 3))
        referral = rng.choice((None, None, "CRC walk-in", "Shelter intake"))
        at = local(day, 9 + 2 * i, rng.randint(0, 59))
        contact = outreach.log_contact(
            peer, person_id=person, services_offered=offered, referral=referral, at=at,
            living_situation=rng.choice(LIVING), engaged=bool(person) and rng.random() < 0.2,
            place=rng.choice((None, "Santa Rita Park", "under the 6th Ave <underpass>")))
        if rng.random() < 0.25:
            _refer(peer, "outreach-1", rng, oracle, at + timedelta(minutes=5), person,
                   outreach_contact_id=contact)
        oracle.add("outreach-1", "outreach.engagements")
        oracle.add("outreach-1", "outreach.anonymous_engagements", int(person is None))
        oracle.add("outreach-1", "outreach.services_offered", len(offered))
        oracle.add("outreach-1", "outreach.referrals", int(referral is not None))
        if person:
            oracle.engaged["outreach-1"][person] += 1
