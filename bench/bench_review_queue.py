"""The sergeant's review queue on a laptop holding 200 ended shifts (the queue's limit).

Each shift is worked through the laptop's own services: status taps, two calls taken and
cleared, two encounters (some with force or an involuntary transport), a CRC drop-off, two
outreach contacts, a follow-up with an attempt; some are reviewed, some amended, a few carry
a conflict; the last shifts' changes are still in the outbox, the rest as if synced.

Measured: review.queue (every shift's state and flags) and the SQL statements it runs.
Baselines in the same run: the bare SELECT of the same 200 shift rows, and the same states
and flags asked for one shift at a time (review.review_state and review.flags per shift, as
the queue once did), with their statements.

    python bench/bench_review_queue.py [--shifts N] [--rounds R]
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fieldapp import assignments, crc, encounters, followups, outreach, review, shifts  # noqa: E402
from fieldapp.keys import KdfParams  # noqa: E402
from fieldapp.session import Profile, create_cache  # noqa: E402
from fieldapp.timeutil import utc_now  # noqa: E402

TEAMS = ("mhst-1", "mhst-2")
CHEAP_KDF = KdfParams(n=2**10, r=8, p=1)  # the benchmark measures the queue, not sign-in


def worked_shifts(session, count: int) -> None:
    """`count` ended shifts, one a day, as a unit works them."""
    first = utc_now() - timedelta(days=count + 2)
    for day in range(count):
        start = first + timedelta(days=day)

        def at(minutes, start=start):
            return start + timedelta(minutes=minutes)

        shift = shifts.start_shift(session, f"MHST-{11 + day % 3}", "4471", at=at(0))
        for n in range(2):
            call = assignments.create_assignment(session, {
                "source": "cad", "type": "call_for_service", "priority": 2,
                "summary": f"welfare check {n}", "place": "Reid Park", "received_at": at(30 + n * 200)})
            assignments.take(session, call, f"MHST-{11 + day % 3}", shift, at=at(35 + n * 200))
            shifts.set_status(session, shift, "on_scene", at=at(50 + n * 200))
            encounters.save_encounter(session, {
                "shift_id": shift, "assignment_id": call, "started_at": at(55 + n * 200),
                "presenting_situation": "mental_health_crisis", "place": "Reid Park",
                "disposition": ("transported_crc_involuntary" if day % 5 == 0 and n
                                else "resolved_on_scene"),
                "use_of_force": day % 7 == 0 and n == 0, "police_note": "Talked it through."})
            assignments.clear(session, call, "resolved_on_scene", at=at(120 + n * 200))
            shifts.set_status(session, shift, "available", at=at(125 + n * 200))
        dropoff = crc.arrive(session, "voluntary", shift_id=shift, at=at(420))
        crc.hand_off(session, dropoff, at=at(426 + day % 4 * 2), delay_reason="intake busy")
        crc.clear(session, dropoff, at=at(440))
        for n in range(2):
            outreach.log_contact(session, services_offered=["food"], place="Santa Rita Park",
                                 at=at(460 + n * 20))
        follow_up = followups.create_follow_up(session, {
            "person_id": _person(session, day), "reason": "post_crisis_check",
            "due_on": (start + timedelta(days=1 if day % 4 else 40)).date().isoformat(),
            "assignee": f"MHST-{11 + day % 3}"})
        followups.log_attempt(session, follow_up, "phone", "completed" if day % 2 else "no_answer",
                              at=at(500))
        shifts.end_shift(session, shift, at=at(600))
        if day % 3 == 0:
            review.approve(session, shift)
        elif day % 3 == 1:
            review.return_shift(session, shift, "Say what the force was.")
            if day % 2:
                review.amend(session, "shift", shift, {}, "Answered in the encounter note.")


def _person(session, day: int) -> str:
    from fieldapp import persons
    return persons.add_person(session, {"kind": "alias", "alias": f"client {day}"})


def as_if_synced(session, keep_last_ops: int) -> None:
    """The server has the older ops (the outbox keeps only the newest), and a few conflicts."""
    db = session.db
    with db.atomic():
        top = db.execute("SELECT max(seq) FROM outbox").fetchone()[0]
        db.execute("DELETE FROM outbox WHERE seq <= ?", [top - keep_last_ops])
        for n, (encounter,) in enumerate(db.execute(
                "SELECT id FROM encounter ORDER BY started_at LIMIT 10").fetchall()):
            db["conflict"].insert({"id": f"bench-{n}", "table_name": "encounter",
                                   "record_id": encounter, "field": "place",
                                   "kept_value": '"Reid Park"', "other_value": '"Ramada 3"',
                                   "detected_at": utc_now().isoformat()})


def timed(fn, rounds: int) -> tuple[float, object]:
    """Median milliseconds of `fn` over `rounds`, and its result."""
    times, result = [], None
    for _ in range(rounds):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def statements(session, fn) -> int:
    ran = []
    session.db.conn.set_trace_callback(ran.append)
    try:
        fn()
    finally:
        session.db.conn.set_trace_callback(None)
    return len(ran)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shifts", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        session = create_cache(Path(tmp), Profile("sgt.diaz", "supervisor", TEAMS, "Sgt. Diaz"),
                               "benchmark only", kdf=CHEAP_KDF)
        worked_shifts(session, args.shifts)
        as_if_synced(session, keep_last_ops=150)

        def bare():
            return session.db.execute(
                "SELECT * FROM shift WHERE deleted = 0 AND ended_at IS NOT NULL AND team IN "
                "(?, ?) ORDER BY started_at DESC LIMIT ?", [*TEAMS, review.QUEUE_LIMIT]).fetchall()

        def queue():
            return review.queue(session, include_approved=True)

        def one_at_a_time():
            return [(review.review_state(session, item.id), review.flags(session, item.shift))
                    for item in listed]

        listed = queue()
        bare_ms, rows = timed(bare, args.rounds)
        queue_ms, _ = timed(queue, args.rounds)
        single_ms, answers = timed(one_at_a_time, args.rounds)
        assert [(i.state, i.flags) for i in listed] == [(s[0], f) for s, f in answers]
        queue_sql, single_sql = statements(session, queue), statements(session, one_at_a_time)
        flagged = sum(1 for i in listed if i.flags)
        session.close()
    print(json.dumps({
        "shifts": len(rows), "shifts_flagged": flagged, "rounds": args.rounds,
        "queue_ms": round(queue_ms, 2), "queue_statements": queue_sql,
        "bare_shift_select_ms": round(bare_ms, 2),
        "one_shift_at_a_time_ms": round(single_ms, 2),
        "one_shift_at_a_time_statements": single_sql,
        "ratio_queue_to_bare_select": round(queue_ms / bare_ms, 1),
        "ratio_queue_to_one_at_a_time": round(queue_ms / single_ms, 3),
    }))


if __name__ == "__main__":
    main()
