"""Invariants of the figures over random work written through the services.

Shares stay in [0, 1]; parts add up to their totals; every additive figure over a period is
the sum of the same figure over the period's days.
"""

import tempfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fieldapp import assignments, changes, crc, encounters, followups, outreach, persons
from fieldapp.metrics import FIGURES, Period, compute
from fieldapp.records import DISPOSITIONS, PRESENTING_SITUATIONS, TRANSPORT_KINDS
from fieldapp.session import Profile, create_cache

from month_fixture import local

DAYS = 4
BASE = date(2026, 11, 2)
SPAN = (DAYS + 2) * 24 * 60  # records fall from a day before the period to a day after

# Any minute, often a local midnight: the edges are where periods and days disagree.
minute = st.integers(0, SPAN - 1) | st.sampled_from(range(0, SPAN, 24 * 60))
FLAGS = ("use_of_force", "pickup_order_attempted", "pickup_order_served", "emergency_petition",
         "deflection", "warm_handoff_crisis_line", "connected_to_care", "stabilized_on_scene")

work = st.fixed_dictionaries({
    "start_hour": st.sampled_from((0, 0, 7, 13)),
    "dropoffs": st.lists(st.tuples(minute, st.sampled_from(TRANSPORT_KINDS),
                                   st.none() | st.integers(0, 40),
                                   st.none() | st.integers(0, 200)), max_size=8),
    "calls": st.lists(st.tuples(minute, st.none() | st.integers(0, 600)), max_size=5),
    "encounters": st.lists(st.tuples(
        minute, st.sampled_from(PRESENTING_SITUATIONS), st.none() | st.sampled_from(DISPOSITIONS),
        st.fixed_dictionaries({f: st.booleans() for f in FLAGS}),
        st.lists(st.integers(0, 3), max_size=3, unique=True), st.booleans()), max_size=8),
    "contacts": st.lists(st.tuples(minute, st.none() | st.integers(0, 3), st.integers(0, 3),
                                   st.booleans()), max_size=8),
    "follow_ups": st.lists(st.tuples(st.integers(-2, DAYS + 2), st.none() | st.integers(-3, 3),
                                     st.integers(0, 2), st.booleans()), max_size=6),
})


def at(offset_minutes: int):
    return local(BASE - timedelta(days=1), 0) + timedelta(minutes=offset_minutes)


def write(session, w) -> None:
    people = [persons.add_person(session, {"kind": "alias", "alias": f"P{i}"}) for i in range(4)]
    for arrived, transport, check_in, extra in w["dropoffs"]:
        dropoff = crc.arrive(session, transport, at=at(arrived))
        if check_in is not None:
            crc.hand_off(session, dropoff, at=at(arrived + check_in))
            if extra is not None:
                crc.clear(session, dropoff, at=at(arrived + check_in + extra),
                          delay_reason="busy" if check_in > 7 else None)
    for taken, cleared_after in w["calls"]:
        call = assignments.create_assignment(session, {
            "source": "cad", "type": "call_for_service", "priority": 2, "summary": "call",
            "received_at": at(taken)})
        assignments.take(session, call, unit="MHST1", at=at(taken))
        if cleared_after is not None:
            assignments.clear(session, call, "completed", at=at(taken + cleared_after))
    for started, situation, disposition, flags, linked, deleted in w["encounters"]:
        encounter = encounters.save_encounter(session, {
            "started_at": at(started), "presenting_situation": situation,
            "disposition": disposition, "person_ids": [people[i] for i in linked], **flags})
        if deleted:
            changes.delete(session, "encounter", encounter)
    for contacted, person, services, referral in w["contacts"]:
        outreach.log_contact(session, person_id=None if person is None else people[person],
                             services_offered=["food", "shelter_info", "medical_care"][:services],
                             referral="CRC" if referral else None, at=at(contacted))
    for due_day, done_offset, misses, cancelled in w["follow_ups"]:
        due = BASE + timedelta(days=due_day)
        follow_up = followups.create_follow_up(session, {
            "person_id": people[0], "reason": "post_crisis_check", "due_on": due})
        for n in range(misses):
            followups.log_attempt(session, follow_up, "phone", "no_answer",
                                  at=local(due - timedelta(days=n + 1), 9))
        if done_offset is not None:
            followups.log_attempt(session, follow_up, "visit", "completed",
                                  at=local(due + timedelta(days=done_offset), 15))
        elif cancelled:
            changes.patch(session, "follow_up", follow_up, {"status": "cancelled"})


ADDITIVE = [k for k, (_, _, _, additive, _) in FIGURES.items() if additive]
SHARES = [k for k, (_, _, unit, _, _) in FIGURES.items() if unit == "share"]


def total(v: dict, prefix: str) -> int:
    return sum(n for k, n in v.items() if k.startswith(prefix))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(w=work)
def test_invariants(w):
    with tempfile.TemporaryDirectory() as tmp:
        # A fresh cache per example (the autouse fixture keeps its key derivation cheap).
        session = create_cache(Path(tmp), Profile("ofc.ramirez", "officer", ("mhst-1",)), "pw")
        try:
            write(session, w)
            period = Period(local(BASE, w["start_hour"]), local(BASE + timedelta(days=DAYS), 0))
            as_of = local(BASE + timedelta(days=2), 12)
            v = {k: f.value for k, f in compute(session.db, period, as_of=as_of).items()}
            days = [{k: f.value for k, f in compute(session.db, d, as_of=as_of).items()}
                    for d in period.days()]
        finally:
            session.close()

    for key in SHARES:
        assert v[key] is None or 0 <= v[key] <= 1, key
    for key in ADDITIVE:
        assert v[key] == pytest.approx(sum(d[key] for d in days)), key

    assert total(v, "crc.transport.") == v["crc.dropoffs"]
    assert v["crc.cleared"] <= v["crc.handed_off"] <= v["crc.dropoffs"]
    assert total(v, "calls.situation.") == v["calls.mental_health"]
    assert total(v, "calls.disposition.") == v["calls.mental_health"]
    assert v["court.pickup_orders_served"] <= v["court.pickup_orders_attempted"]
    assert v["force.during_pickup_orders"] <= min(v["force.uses"],
                                                  v["court.pickup_orders_attempted"])
    assert v["diversion.anonymous_deflections"] <= v["diversion.deflections"]
    assert v["diversion.people_deflected_repeat"] <= v["diversion.people_deflected"]
    assert v["outreach.anonymous_engagements"] <= v["outreach.engagements"]
    assert v["outreach.people_engaged_repeat"] <= v["outreach.people_engaged"]
    assert v["outreach.engagements_per_person"] is None or v["outreach.engagements_per_person"] >= 1
    assert sum(v[f"followups.{s}"] for s in ("done_on_time", "done_late", "overdue",
                                              "not_yet_due")) == v["followups.due"]
    for key in ("care.connected_to_care", "care.stabilized_on_scene",
                "care.warm_handoffs_crisis_line", "court.emergency_petitions", "force.uses"):
        assert v[key] <= v["calls.mental_health"], key
    for name in ("check_in", "back_in_service"):
        median, p90 = v[f"crc.{name}_median_minutes"], v[f"crc.{name}_p90_minutes"]
        assert (median is None) == (p90 is None)
        assert median is None or 0 <= median <= p90
