"""The laptop's running check sums (fieldapp/record_sums.py) always equal a full recount of
what it holds (engine.recount), whatever mix of local writes, pulls, deletes, withdrawn
notes, retention purges, give-back answers and scope changes a real encrypted cache goes
through: a property, over random sequences of the real code paths."""

import itertools

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test,
)

from fieldapp import changes, record_sums, retention
from fieldapp.records import RECORD_TYPES
from sync import engine, giveback
from sync import protocol as P

IDS = [f"01900000-0000-7000-8000-0000000000{i:02d}" for i in range(12)]
TABLES = ("person", "outreach_contact")
FIELDS = {"person": {"team": "mhst-1", "kind": "alias", "alias": "Green Coat"},
          "outreach_contact": {"team": "mhst-1", "contacted_at": "2026-05-01T10:00:00.000Z",
                               "note": "pulled"}}


def wire(table: str, record_id: str, version: int, deleted: bool, team: str) -> dict:
    stamp = f"{1_760_000_000_000 + version % 10**6:013d}-00000-server"
    fields = {name: None for name in RECORD_TYPES[table].field_names}
    return {"table": table, "id": record_id, "version": version, "deleted": deleted,
            "created_hlc": stamp, "updated_hlc": stamp, "author": "ofc.other",
            "device": "other-laptop", "fields": {**fields, **FIELDS[table], "team": team}}


def held(session) -> list[tuple[str, str]]:
    return [(t, i) for t in TABLES for (i,) in session.db.execute(f"SELECT id FROM [{t}]")]


def live_people(session) -> list[str]:
    return [i for (i,) in session.db.execute("SELECT id FROM person WHERE deleted = 0")]


def test_the_running_sums_equal_a_full_recount(officer):
    session, steps = officer, itertools.count()
    key = st.tuples(st.sampled_from(TABLES), st.sampled_from(IDS))

    class Sums(RuleBasedStateMachine):
        @initialize()
        def empty(self):
            db = session.db
            with db.atomic():
                for table in ("outbox", "purged", "unreturned", "outreach_contact", "person"):
                    db.execute(f"DELETE FROM [{table}]")

        @invariant()
        def sums_equal_a_recount(self):
            full = engine.recount(session)
            assert record_sums.read(session.db) == (full.count, full.hex)
            next(steps)

        @rule(keys=st.lists(key, min_size=1, max_size=6), version=st.integers(1, 50),
              deleted=st.booleans(), force=st.booleans(), other_team=st.booleans())
        def pull(self, keys, version, deleted, force, other_team):
            records = [wire(t, i, version + n, deleted, "mhst-2" if other_team else "mhst-1")
                       for n, (t, i) in enumerate(dict.fromkeys(keys))]
            engine._apply(session, records, force=force, summary=engine.Summary())

        @rule(n=st.integers(1, 3))
        def write_here(self, n):
            for _ in range(n):
                changes.create(session, "person", FIELDS["person"])

        @rule(pick=st.integers(0, 10**6), alias=st.text("abc", min_size=1, max_size=5))
        def edit_here(self, pick, alias):
            rows = live_people(session)
            if rows:
                changes.patch(session, "person", rows[pick % len(rows)], {"alias": alias})

        @rule(pick=st.integers(0, 10**6))
        def delete_here(self, pick):
            rows = live_people(session)
            if rows:
                changes.delete(session, "person", rows[pick % len(rows)])

        @rule(pick=st.integers(0, 10**6))
        def withdraw(self, pick):  # the same DELETE a withdrawn clinical note takes
            rows = held(session)
            if rows:
                table, record_id = rows[pick % len(rows)]
                with session.db.atomic():
                    session.db.execute(f"DELETE FROM [{table}] WHERE id = ?", [record_id])

        @rule(picks=st.lists(st.integers(0, 10**6), max_size=4))
        def purge(self, picks):
            rows = held(session)
            if rows:
                doomed = {}
                for p in picks:
                    table, record_id = rows[p % len(rows)]
                    doomed.setdefault(table, set()).add(record_id)
                with session.db.atomic():
                    retention._remove(session.db, doomed, remember=set(P.PULLED_TABLES))

        @rule(picks=st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from(
            ("drop", "keep", "held"))), max_size=5))
        def give_back_answers(self, picks):
            rows = held(session)
            if not rows:
                return
            outcome = giveback.Outcome()
            for p, what in picks:
                k = rows[p % len(rows)]
                if what == "drop":
                    outcome.drop.append(k)
                elif what == "keep":
                    outcome.keep[k] = "the server lacks it"
                else:
                    outcome.held.append(k)
            with session.db.atomic():
                giveback._settle(session, outcome, engine.Summary())

        @rule()
        def narrow_scope(self):
            retention.narrow_to_scope(session, set(P.PULLED_TABLES), ["mhst-1"])

    run_state_machine_as_test(Sums, settings=settings(
        max_examples=40, stateful_step_count=25, deadline=None,
        suppress_health_check=[HealthCheck.too_slow]))
    assert next(steps) > 200


def test_the_migration_counts_what_an_older_cache_holds(officer):
    engine._apply(officer, [wire("person", IDS[0], 3, False, "mhst-1"),
                            wire("outreach_contact", IDS[1], 4, True, "mhst-1")],
                  force=False, summary=engine.Summary())
    with officer.db.atomic():
        officer.db.execute("INSERT INTO purged VALUES ('person', ?, 7)", [IDS[2]])
        officer.db.execute("DELETE FROM record_sum")  # as a cache from before m013 has none
        record_sums.rebuild(officer.db, P.PULLED_TABLES)
    full = engine.recount(officer)
    assert record_sums.read(officer.db) == (full.count, full.hex) and full.count == 3


@pytest.mark.parametrize("version", [1, 2**40, 2**62])
def test_the_sum_wraps_as_the_servers_does(officer, version):
    records = [wire("person", i, version, False, "mhst-1") for i in IDS]
    engine._apply(officer, records, force=False, summary=engine.Summary())
    h = P.SetHash()
    for i in IDS:
        h.add("person", i, version)
    assert record_sums.read(officer.db) == (h.count, h.hex)
