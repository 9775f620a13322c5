"""More proofs from the sync issue, against SQLite and PostgreSQL: skewed laptop clocks (#7), a
laptop offline past the server's cursor horizon (#8), and a randomized stateful run of three
laptops under network faults (#10).
"""

import json
import random
import threading
import time
from contextlib import contextmanager
from datetime import timedelta
from types import SimpleNamespace

import pytest
import requests
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test
from requests.adapters import HTTPAdapter
from sqlalchemy import text
from sync_helpers import outreach
from tests.conftest import PASSWORD

import fieldapp.clock
from fieldapp import changes, followups, persons, shifts, timeutil
from fieldapp.records import RECORD_TYPES
from sync import credentials, engine, online, transport
from sync import protocol as P
from sync.server import stored

TEAM = "mhst-1"


# --- shared checks --------------------------------------------------------------------------

def server_rows(agency, team: str = TEAM) -> dict:
    """What an officer of `team` may hold: (table, id) -> (version, deleted, data)."""
    readable = [t for t in P.PULLED_TABLES if P.may_read("officer", t)]
    return {(r["table_name"], r["id"]): (r["version"], bool(r["deleted"]), json.loads(r["data"]))
            for r in agency.rows("SELECT table_name, id, version, deleted, data FROM record "
                                 "WHERE team = :t", t=team)
            if r["table_name"] in readable}


def laptop_rows(session) -> dict:
    """The laptop's confirmed rows in the same shape, skipping records with unsent or rejected
    ops (those show the local edit laid over the server's row, by design)."""
    held = set(session.db.execute("SELECT DISTINCT table_name, record_id FROM outbox"))
    rows = {}
    for table in P.PULLED_TABLES:
        if not P.may_read("officer", table):
            continue
        names = RECORD_TYPES[table].field_names
        for row in session.db.execute(
                f"SELECT id, server_version, deleted, {', '.join(f'[{n}]' for n in names)} "
                f"FROM [{table}] WHERE server_version > 0"):
            if (table, row[0]) not in held:
                rows[(table, row[0])] = (row[1], bool(row[2]), dict(zip(names, row[3:])))
    return rows


def assert_converged(agency, sessions, team: str = TEAM) -> None:
    """Same (table, id, version) set as the server, same field values, nothing left pending
    but ops held behind a rejected op on the same record."""
    server = server_rows(agency, team)
    for s in sessions:
        assert s.db.execute("""
            SELECT count(*) FROM outbox o WHERE o.state = 'pending' AND NOT EXISTS (
                SELECT 1 FROM outbox r WHERE r.state = 'rejected'
                AND r.table_name = o.table_name AND r.record_id = o.record_id)""").fetchone()[0] == 0
        held = set(s.db.execute("SELECT DISTINCT table_name, record_id FROM outbox"))
        confirmed = laptop_rows(s)
        expected = {k: v for k, v in server.items() if k not in held}
        assert {k: v[0] for k, v in confirmed.items()} == {k: v[0] for k, v in expected.items()}
        for key, (version, deleted, fields) in confirmed.items():
            _, server_deleted, data = expected[key]
            assert deleted == server_deleted, key
            assert fields == {n: data.get(n) for n in fields}, key


def assert_applied_once(agency) -> None:
    """Each applied op bumped exactly one version by one (a create makes version 1); rejected
    ops are remembered but change nothing. So, over the records the server still holds (a
    compaction discards old tombstones), applied ops == sum of versions: none applied twice."""
    results = [stored.result_from(r["op_id"], r["result"])["status"] for r in agency.rows(
        "SELECT op_id, result FROM applied_op WHERE record_id IN (SELECT id FROM record)")]
    applied = sum(1 for s in results if s in (P.APPLIED, P.CONFLICT))
    assert applied == agency.scalar("SELECT coalesce(sum(version), 0) FROM record")


# --- #7 skewed laptop clocks ------------------------------------------------------------------

class LaptopClock:
    """Skews every clock the laptop code reads — the HLC's time.time, timeutil.utc_now (behind
    now_iso, used for record times) and the sync client's skew measure — on the test's thread,
    where the laptops run. The server runs on uvicorn's own threads and keeps true time."""

    def __init__(self, monkeypatch):
        self.seconds = 0.0
        laptop_thread = threading.current_thread()
        real_time, real_utc_now = time.time, timeutil.utc_now

        def skew() -> float:
            return self.seconds if threading.current_thread() is laptop_thread else 0.0

        def laptop_time() -> float:
            return real_time() + skew()

        def laptop_utc_now():
            return real_utc_now() + timedelta(seconds=skew())

        monkeypatch.setattr(fieldapp.clock, "time", SimpleNamespace(time=laptop_time))
        monkeypatch.setattr(timeutil, "utc_now", laptop_utc_now)
        monkeypatch.setattr(engine, "utc_now", laptop_utc_now)

    @contextmanager
    def on(self, seconds: float):
        """Run as a laptop whose clock is `seconds` off."""
        self.seconds = seconds
        try:
            yield
        finally:
            self.seconds = 0.0


SKEWS = {"fast": 3 * 86400, "slow": -2 * 3600, "true": 0}


def test_7_skewed_laptop_clocks_sync_merge_deterministically_and_are_flagged(
        agency, laptop, monkeypatch):
    clock = LaptopClock(monkeypatch)
    laptops, summaries, made = {}, {name: [] for name in SKEWS}, set()

    def sync(name):
        with clock.on(SKEWS[name]):
            result = engine.run_sync(laptops[name])
        assert result["rejected"] == 0 and result["check"] == "ok"
        summaries[name].append(result)

    for name, skew in SKEWS.items():
        with clock.on(skew):
            laptops[name] = laptop(f"ofc.{name}")
    with clock.on(0):
        person = persons.add_person(laptops["true"], {"kind": "alias", "alias": "Grey Coat"})
        fids = [followups.create_follow_up(laptops["true"], {
            "person_id": person, "reason": "post_crisis_check", "due_on": "2026-06-01"})
            for _ in range(2)]
    made |= {person, *fids}
    for name in ("true", "fast", "slow"):
        sync(name)

    # Two rounds of the same field edited on all three laptops (in real time: fast, slow,
    # true), pushed in opposite orders. The winner must be the latest clock stamp either way.
    for fid, order in ((fids[0], ("fast", "slow", "true")), (fids[1], ("true", "slow", "fast"))):
        stamps = {}
        for name in ("fast", "slow", "true"):
            with clock.on(SKEWS[name]):
                s = laptops[name]
                changes.patch(s, "follow_up", fid, {"note": f"{name} was here"})
                made.update(outreach(s, 2, note=name))
                made.add(followups.log_attempt(s, fid, "phone", "no_answer", note=name))
                stamps[name] = s.db.execute(
                    "SELECT hlc FROM outbox WHERE record_id = ? AND kind = 'patch'",
                    [fid]).fetchone()[0]
        for name in order:
            sync(name)
        for name in SKEWS:
            sync(name)
        winner = max(stamps, key=stamps.get)
        if fid == fids[0]:
            assert winner == "fast"  # 3 days ahead beats edits made later in real time
        server = json.loads(agency.scalar("SELECT data FROM record WHERE id = :i", i=fid))
        assert server["note"] == f"{winner} was here"
        for s in laptops.values():
            assert changes.get(s, "follow_up", fid)["note"] == server["note"]
        others = {json.loads(r["other_value"]) for r in agency.rows(
            "SELECT other_value FROM conflict WHERE record_id = :i AND field = 'note'", i=fid)}
        assert others == {f"{n} was here" for n in SKEWS if n != winner}

    assert {r["id"] for r in agency.rows(
        "SELECT id FROM record WHERE table_name <> 'audit_event'")} == made
    assert_applied_once(agency)
    assert_converged(agency, laptops.values())
    for name, skew in SKEWS.items():
        for result in summaries[name]:
            if skew == 0:
                assert result["clock_skew_s"] is None
            else:
                assert result["clock_skew_s"] == pytest.approx(skew, abs=120)


# --- #8 offline past the cursor horizon -------------------------------------------------------

class TypeWhilePulling(HTTPAdapter):
    """The user keeps typing while the sync is in flight: before the first pull goes out (after
    the push), `typing()` writes new edits through the user's own connection."""

    def __init__(self, typing):
        super().__init__()
        self.typing = typing

    def send(self, request, **kwargs):
        if "/v1/pull" in request.url and self.typing is not None:
            self.typing, typing = None, self.typing
            typing()
        return super().send(request, **kwargs)


def test_8_laptop_offline_past_the_horizon_rebuilds_and_replays_its_outbox(
        agency, laptop, capsys):
    away, home = laptop("ofc.away"), laptop("ofc.home")
    person = persons.add_person(home, {"kind": "alias", "alias": "Red Cap"})
    fids = [followups.create_follow_up(home, {
        "person_id": person, "reason": "post_crisis_check", "due_on": "2026-06-01"})
        for _ in range(3)]
    outreach(home, 5)
    engine.run_sync(home), engine.run_sync(away)

    # away is offline for a long time and keeps working
    changes.patch(away, "follow_up", fids[0], {"note": "seen at the library"})
    offline_made = outreach(away, 3, note="offline")
    offline_made.append(followups.log_attempt(away, fids[1], "visit", "not_found"))
    offline_ops = {op for (op,) in away.db.execute("SELECT op_id FROM outbox")}
    # meanwhile home makes short-lived records, edits, and deletes a follow-up away holds
    gone = [persons.add_person(home, {"kind": "anonymous"}) for _ in range(2)]
    parent = followups.create_follow_up(home, {
        "person_id": person, "reason": "high_utilizer", "due_on": "2026-07-01"})
    followups.log_attempt(home, parent, "phone", "no_answer")
    engine.run_sync(home)
    changes.patch(home, "follow_up", fids[0], {"priority": 1})
    for table, rid in (("follow_up", fids[2]), ("person", gone[0]), ("person", gone[1]),
                       ("follow_up", parent)):
        changes.delete(home, table, rid)
    engine.run_sync(home)

    # the agency compacts: every tombstone without children goes, the horizon moves past them,
    # and so do access tokens that have expired (live ones keep working, below)
    with agency.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO token (token_hash, kind, user_id, device_id, expires_at) "
            "SELECT 'expired-' || substr(token_hash, 9), 'access', user_id, device_id, "
            "'2020-01-01T00:00:00.000Z' FROM token WHERE kind = 'refresh'"))
    from sync.server.cli import main
    assert main(["--db", agency.db_url, "compact", "--keep-days", "0"]) == 0
    compacted = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert compacted["discarded"] == 3 and compacted["kept_as_parents"] == 1
    assert compacted["expired_access_tokens"] >= 2
    assert agency.scalar("SELECT count(*) FROM token WHERE token_hash LIKE 'expired-%'") == 0
    away_cursor = int(away.db.execute("SELECT pull_cursor FROM sync_state").fetchone()[0])
    assert compacted["horizon"] > away_cursor
    assert agency.scalar("SELECT count(*) FROM record WHERE id IN (:a, :b, :c)",
                         a=fids[2], b=gone[0], c=gone[1]) == 0
    assert agency.scalar("SELECT deleted FROM record WHERE id = :i", i=parent) in (1, True)

    link = credentials.transport_for(away)
    with pytest.raises(transport.SyncFailed, match="410"):
        link.call("GET", "/pull", params={"after": away_cursor})
    assert link.call("GET", "/pull", params={"after": 0})["records"]  # 0 never expires

    # away comes back; while its sync runs the user writes more
    typist, typed = away.reopen(), {}

    def typing():
        typed["contact"] = outreach(typist, 1, note="typed during sync")[0]
        changes.patch(typist, "follow_up", fids[0], {"assignee": "ofc.away"})

    http = requests.Session()
    http.mount("http://", TypeWhilePulling(typing))
    first = engine.run_sync(away, http=http)
    assert first["rebuilt"] and first["rejected"] == 0 and first["pushed"] == len(offline_ops)
    assert first["check"] in ("ok", "repaired")
    typed_ops = {op for (op,) in away.db.execute(
        "SELECT op_id FROM outbox WHERE state = 'pending'")}
    assert len(typed_ops) == 2  # survived the rebuild, still to send
    row = changes.get(away, "follow_up", fids[0])  # rebased: server merge plus pending edit
    assert (row["note"], row["priority"], row["assignee"]) == (
        "seen at the library", 1, "ofc.away")
    assert changes.get(away, "outreach_contact", typed["contact"])["note"].startswith("typed")
    for table, rid in (("follow_up", fids[2]), ("person", gone[0]), ("person", gone[1])):
        assert away.db.execute(f"SELECT count(*) FROM {table} WHERE id = ?",
                               [rid]).fetchone()[0] == 0

    second = engine.run_sync(away)
    assert second["pushed"] == 2 and not second["rebuilt"] and second["check"] == "ok"
    assert not engine.run_sync(home)["rebuilt"]  # home's cursor was above the horizon
    statuses = {r["op_id"]: stored.result_from(r["op_id"], r["result"])["status"]
                for r in agency.rows("SELECT op_id, result FROM applied_op WHERE device_id = :d",
                                     d=away.device_id)}
    assert set(statuses) == offline_ops | typed_ops
    assert set(statuses.values()) == {P.APPLIED}
    server = json.loads(agency.scalar("SELECT data FROM record WHERE id = :i", i=fids[0]))
    assert (server["note"], server["priority"], server["assignee"]) == (
        "seen at the library", 1, "ofc.away")
    assert {r["id"] for r in agency.rows("SELECT id FROM record WHERE table_name = 'outreach_contact'")
            } >= {*offline_made[:3], typed["contact"]}
    assert_applied_once(agency)
    assert_converged(agency, [away, home])
    typist.close()


# --- #10 three laptops, random edits, network faults ------------------------------------------

class Faults(HTTPAdapter):
    """A laptop's network: with probability `rate` a request is dropped before it is sent, its
    answer is lost after the server processed it, or the answer's body is cut short."""

    def __init__(self):
        super().__init__()
        self.rate, self.rng, self.injected = 0.0, random.Random(0), 0

    def send(self, request, **kwargs):
        fault = (self.rng.choice(("drop_request", "lose_response", "cut_body"))
                 if self.rate and self.rng.random() < self.rate else None)
        self.injected += fault is not None
        if fault == "drop_request":
            raise requests.ConnectionError("request dropped before it was sent")
        response = super().send(request, **kwargs)
        if fault == "lose_response":
            _ = response.content
            raise requests.ConnectionError("answer lost after the server processed the request")
        if fault == "cut_body" and len(response.content) > 2:
            # A fraction, not randrange(len): what Hypothesis draws must not depend on the
            # response's length, which differs from one replay of the same steps to the next.
            cut = 1 + int(self.rng.random() * (len(response.content) - 2))
            response._content = response.content[:cut]
        return response


def _live(session, table: str, where: str = "") -> list[str]:
    return [i for (i,) in session.db.execute(
        f"SELECT id FROM [{table}] WHERE deleted = 0 {where} ORDER BY id")]


def test_10_three_laptops_random_edits_and_faults_converge(agency, tmp_path):
    """Each example starts from nothing of its own: a new team, three new laptops on it and
    their own networks, so a failing example replays and shrinks by itself."""
    who = st.integers(0, 2)
    pick = st.integers(0, 10**6)
    totals = {"examples": 0, "syncs": 0, "faults": 0, "ops": 0, "rejected": 0}

    def chosen(ids: list[str], n: int) -> str | None:
        return ids[n % len(ids)] if ids else None

    class ThreeLaptops(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            totals["examples"] += 1
            self.team = f"team-{totals['examples']}"
            self.sessions, self.networks, self.https = [], [], []
            for name in ("a", "b", "c"):
                user = f"ofc.{name}{totals['examples']}"
                agency.add_user(user, teams=(self.team,))
                self.sessions.append(online.login(tmp_path / user, agency.url, user, PASSWORD))
                self.networks.append(Faults())
                self.https.append(requests.Session())
                self.https[-1].mount("http://", self.networks[-1])
            self.shift_ids = [shifts.start_shift(s, f"MHST-{n}")
                              for n, s in enumerate(self.sessions)]
            # Records all three hold from the start, so edits can meet on one record.
            for _ in range(2):
                person = persons.add_person(self.sessions[0], {"kind": "anonymous"})
                followups.create_follow_up(self.sessions[0], {
                    "person_id": person, "reason": "post_crisis_check", "due_on": "2026-06-01"})
            for s in [*self.sessions, *self.sessions]:
                engine.run_sync(s)
            self.written = [set() for _ in self.sessions]  # every op id each laptop wrote

        def remember(self, i):
            self.written[i] |= {op for (op,) in self.sessions[i].db.execute(
                "SELECT op_id FROM outbox")}

        @rule(i=who, kind=st.sampled_from(["anonymous", "alias"]))
        def add_person(self, i, kind):
            values = {"kind": kind, **({"alias": "Green Hat"} if kind == "alias" else {})}
            persons.add_person(self.sessions[i], values)
            self.remember(i)

        @rule(i=who, n=pick)
        def add_follow_up(self, i, n):
            person = chosen(_live(self.sessions[i], "person"), n)
            if person:
                followups.create_follow_up(self.sessions[i], {
                    "person_id": person, "reason": "post_crisis_check", "due_on": "2026-06-01"})
                self.remember(i)

        @rule(i=who, n=pick, change=st.sampled_from([
            {"note": "called, no answer"}, {"note": "met at shelter"}, {"priority": 1},
            {"priority": 3}, {"assignee": "ofc.a"}, {"assignee": "ofc.c"},
            {"status": "cancelled"}, {"status": "open"}]))
        def patch_follow_up(self, i, n, change):
            fid = chosen(_live(self.sessions[i], "follow_up"), n)
            if fid:
                changes.patch(self.sessions[i], "follow_up", fid, change)
                self.remember(i)

        @rule(i=who, n=pick, text=st.sampled_from(["tall, grey beard", "red backpack", None]))
        def patch_person(self, i, n, text):
            pid = chosen(_live(self.sessions[i], "person"), n)
            if pid:
                changes.patch(self.sessions[i], "person", pid, {"description": text})
                self.remember(i)

        @rule(i=who, n=pick, outcome=st.sampled_from(["reached", "no_answer", "completed"]))
        def log_attempt(self, i, n, outcome):
            fid = chosen(_live(self.sessions[i], "follow_up", "AND status = 'open'"), n)
            if fid:
                followups.log_attempt(self.sessions[i], fid, "phone", outcome)
                self.remember(i)

        @rule(i=who, status=st.sampled_from(["en_route", "on_scene", "available"]))
        def shift_event(self, i, status):
            shifts.set_status(self.sessions[i], self.shift_ids[i], status)
            self.remember(i)

        @rule(i=who, n=pick, table=st.sampled_from(["person", "follow_up"]))
        def delete(self, i, n, table):
            rid = chosen(_live(self.sessions[i], table), n)
            if rid:
                changes.delete(self.sessions[i], table, rid)
                self.remember(i)

        # One seed per sync, not a Random drawing from Hypothesis: how many requests a sync
        # makes (and so how many faults it rolls) must not change what the next step draws.
        @rule(i=who, rate=st.sampled_from([0.1, 0.25, 0.4]), seed=st.integers(0, 2**32 - 1))
        def sync(self, i, rate, seed):
            network = self.networks[i]
            network.rate, network.rng = rate, random.Random(seed)
            totals["syncs"] += 1
            try:
                engine.run_sync(self.sessions[i], http=self.https[i], max_attempts=4,
                                sleep=lambda _s: None)
            except requests.ConnectionError:
                pass  # gave up this time; nothing may be lost for it
            finally:
                network.rate = 0.0

        def teardown(self):
            try:
                self.check()
            finally:
                for s in self.sessions:
                    s.close()

        def check(self):
            for _ in range(2):  # the quiet period: every laptop syncs twice, no faults
                for i, s in enumerate(self.sessions):
                    assert engine.run_sync(s, http=self.https[i])["check"] == "ok"
            assert_converged(agency, self.sessions, self.team)
            assert_applied_once(agency)
            for i, s in enumerate(self.sessions):
                results = {r["op_id"]: stored.result_from(r["op_id"], r["result"])["status"]
                           for r in agency.rows(
                    "SELECT op_id, result FROM applied_op WHERE device_id = :d",
                    d=s.device_id)}
                outbox = dict(s.db.execute("SELECT op_id, state FROM outbox"))
                for op in self.written[i]:
                    if results.get(op) in (P.APPLIED, P.CONFLICT):
                        assert op not in outbox
                    elif results.get(op) == P.REJECTED:
                        assert outbox[op] == "rejected"  # stays visible to the user
                    else:  # held behind a rejected op on the same record, also visible
                        assert outbox[op] == "pending" and s.db.execute(
                            "SELECT count(*) FROM outbox WHERE state = 'rejected' AND "
                            "record_id = (SELECT record_id FROM outbox WHERE op_id = ?)",
                            [op]).fetchone()[0] > 0
            totals["faults"] += sum(n.injected for n in self.networks)
            totals["ops"] += sum(map(len, self.written))
            totals["rejected"] += sum(s.db.execute(
                "SELECT count(*) FROM outbox WHERE state = 'rejected'").fetchone()[0]
                for s in self.sessions)

    run_state_machine_as_test(ThreeLaptops, settings=settings(
        max_examples=12, stateful_step_count=25, deadline=None, database=None))
    assert totals["faults"] > 0 and totals["syncs"] > 0
    print(f"#10: {totals}, conflicts {agency.scalar('SELECT count(*) FROM conflict')}")
