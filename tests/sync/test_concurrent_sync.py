"""Many laptops pushing and pulling at once against a server of several worker processes on
PostgreSQL, where pushes run side by side (sync/server/change_log.py): every puller sees every
record, each version of it once and in order, ends where the server is, and the end-of-sync
check agrees; two pushes racing for one record or one op get answers, never a 5xx.

Pushes of two teams interleave, and now and then one team's pushes are held up after they
took their change_seq values (a transaction of the test holds that team's sum rows, as a slow
disk or a long vacuum would), while the other team's later values commit: a pull that served
past the held values would skip them for good.

Over raw HTTP, as the OpenAPI description gives it, not through the laptop's code."""

import random
import threading
import time
from collections import defaultdict

import pytest
import requests
from sqlalchemy import text

from sync import protocol as P
from sync.server import change_log
from sync.server.tables import record, record_sum
from tests.agency_process import serving
from tests.conftest import PASSWORD

PUSHERS, PULLERS, ROUNDS = 6, 4, 8
TEAMS = ("mhst-1", "mhst-2")
CONTESTED = [f"contested-{k}" for k in range(8)]  # every pusher creates these: one wins each


class Device:
    """A signed-in device speaking raw HTTP."""

    def __init__(self, url: str, name: str):
        self.url, self.name, self.counter = url + P.PREFIX, name, 0
        self.http = requests.Session()
        answer = self.http.post(f"{self.url}/login", json={
            "username": name, "password": PASSWORD, "device_id": f"dev-{name}"}, timeout=60)
        assert answer.status_code == 200, answer.text
        self.http.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"

    def call(self, method: str, path: str, **kwargs) -> dict:
        answer = self.http.request(method, f"{self.url}{path}", timeout=60, **kwargs)
        assert answer.status_code == 200, f"{method} {path}: {answer.status_code} {answer.text}"
        return answer.json()

    def op(self, kind: str, record_id: str, fields: dict, base: dict | None = None,
           base_version: int = 0) -> dict:
        self.counter += 1
        return {"op_id": f"{self.name}-op-{self.counter}", "table": "person",
                "record_id": record_id, "kind": kind, "fields": fields, "base": base or {},
                "base_version": base_version,
                "hlc": f"{int(time.time() * 1000):013d}-{self.counter:05d}-dev-{self.name}"}


def _push_work(device: Device, team: str, rng: random.Random, failures: list) -> None:
    """Rounds of new records, edits of earlier ones, the contested creates, and one batch sent
    twice (a retry after a lost answer)."""
    mine, sent = {}, []  # id -> (version, description)
    try:
        for n in range(ROUNDS):
            ops = []
            for _ in range(rng.choice([1, 20, 100])):
                record_id = f"{device.name}-{device.counter + 1}"
                ops.append(device.op("create", record_id, {
                    "team": team, "kind": "alias", "alias": "new", "description": "new"}))
            for record_id in rng.sample(sorted(mine), min(len(mine), rng.randint(0, 4))):
                version, said = mine[record_id]
                ops.append(device.op("patch", record_id, {"description": f"{said}+"},
                                     {"description": said}, version))
            if n == ROUNDS // 2:
                ops += [device.op("create", i, {"team": team, "kind": "alias",
                                                "alias": device.name})
                        for i in rng.sample(CONTESTED, len(CONTESTED))]
            results = device.call("POST", "/push", json={"ops": ops})["results"]
            for op, result in zip(ops, results, strict=True):
                if op["record_id"] in CONTESTED:
                    assert result["status"] == P.APPLIED or "already exists" in result["reason"]
                elif op["kind"] == "create":
                    assert result["status"] == P.APPLIED, result
                    mine[op["record_id"]] = (1, "new")
                else:
                    assert result["status"] == P.APPLIED, result
                    mine[op["record_id"]] = (result["version"], op["fields"]["description"])
            sent.append(ops)
        again = device.call("POST", "/push", json={"ops": sent[0]})["results"]
        assert {r["status"] for r in again} == {P.DUPLICATE}
    except Exception as e:  # reported by the test
        failures.append(f"{device.name}: {e!r}")


class Puller:
    """Pulls in small pages as a laptop does, checking each version comes once, in order."""

    def __init__(self, device: Device, rng: random.Random):
        self.device, self.rng, self.cursor = device, rng, 0
        self.held: dict[str, int] = {}
        self.seen: dict[str, list[int]] = defaultdict(list)

    def page(self) -> bool:
        page = self.device.call("GET", "/pull", params={
            "after": self.cursor, "limit": self.rng.choice([3, 40, 500])})
        assert page["cursor"] >= self.cursor
        for r in page["records"]:
            self.seen[r["id"]].append(r["version"])
            self.held[r["id"]] = r["version"]
        self.cursor = page["cursor"]
        return page["more"]


def _hold_up(engine, team: str, done: threading.Event, failures: list) -> None:
    """Now and then keep `team`'s pushes from committing for a moment, after they took their
    change_seq values (they add to the team's sums last)."""
    try:
        while not done.wait(0.2):
            with engine.begin() as conn:
                conn.execute(record_sum.select().where(record_sum.c.team == team)
                             .with_for_update()).all()
                time.sleep(0.3)
    except Exception as e:  # reported by the test
        failures.append(f"hold-up: {e!r}")


def _pull_work(puller: Puller, done: threading.Event, failures: list) -> None:
    try:
        while not done.is_set():
            puller.page()
        while puller.page():  # what the last pushes left
            pass
    except Exception as e:  # reported by the test
        failures.append(f"{puller.device.name}: {e!r}")


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_concurrent_pushers_and_pullers_see_every_record_once(agency, tmp_path):
    names = [f"ofc.push{i}" for i in range(PUSHERS)] + [f"ofc.pull{i}" for i in range(PULLERS)]
    teams = [TEAMS[i % 2] for i in range(PUSHERS)]
    for name, team in zip(names, teams + [TEAMS] * PULLERS, strict=True):
        agency.add_user(name, "officer", [team] if isinstance(team, str) else list(team))
    with serving(agency.db_url, tmp_path / "server.log",
                 env={"TANDEM_WORKERS": "3", "TANDEM_DB_POOL_SIZE": "4"}) as url:
        devices = [Device(url, name) for name in names]
        pushers, pullers = devices[:PUSHERS], [Puller(d, random.Random(i))
                                               for i, d in enumerate(devices[PUSHERS:])]
        failures, done = [], threading.Event()
        writing = [threading.Thread(target=_push_work,
                                    args=(d, team, random.Random(i), failures))
                   for i, (d, team) in enumerate(zip(pushers, teams, strict=True))]
        others = [threading.Thread(target=_pull_work, args=(p, done, failures))
                  for p in pullers]
        others.append(threading.Thread(target=_hold_up,
                                       args=(agency.engine, TEAMS[0], done, failures)))
        for t in writing + others:
            t.start()
        for t in writing:
            t.join(timeout=300)
        done.set()
        for t in others:
            t.join(timeout=300)
        assert not failures
        summary = pullers[0].device.call("GET", "/summary")

    with agency.engine.connect() as conn:
        rows = conn.execute(record.select().where(record.c.table_name == "person")).all()
        server = {r.id: r.version for r in rows}
        teams_of = {r.id: r.team for r in rows}
        sums = conn.execute(record_sum.select()).all()
    assert len(server) > PUSHERS * ROUNDS and set(CONTESTED) <= set(server)
    assert sum(v for v in server.values()) > len(server)  # edits happened
    for puller in pullers:
        assert puller.held == server  # nothing skipped, every last version arrived
        for versions in puller.seen.values():  # no version twice, none older after newer
            assert versions == sorted(set(versions))
    # The sums the summary reads, kept by pushes side by side, equal a recount.
    mine = P.SetHash()
    for record_id, version in server.items():
        mine.add("person", record_id, version)
    assert (summary["count"], summary["hash"]) == (mine.count, mine.hex)
    assert sorted((s.team, s.table_name, s.count) for s in sums) == [
        (team, "person", sum(1 for i in server if teams_of[i] == team)) for team in TEAMS]


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_push_still_open_holds_pulls_back_until_it_ends_however_it_ends(agency):
    """A push that took values and has not committed keeps pulls below them; when it rolls
    back, or its server process dies mid-transaction, pulls go on at once."""
    agency.add_user("ofc.a", "officer", [TEAMS[0]])
    device = Device(agency.url, "ofc.a")

    def push_one() -> str:
        op = device.op("create", f"p-{device.counter + 1}", {
            "team": TEAMS[0], "kind": "alias", "alias": "x"})
        [result] = device.call("POST", "/push", json={"ops": [op]})["results"]
        assert result["status"] == P.APPLIED
        return op["record_id"]

    def pulled() -> set[str]:
        return {r["id"] for r in device.call("GET", "/pull", params={"after": 0})["records"]}

    first = push_one()
    for ending in ("rollback", "killed"):
        stuck = agency.engine.connect()
        stuck.begin()
        change_log.join_writers(stuck)
        change_log.take(stuck, 2)
        later = push_one()
        assert first in pulled() and later not in pulled()
        if ending == "rollback":
            stuck.rollback()
        else:
            pid = stuck.execute(text("SELECT pg_backend_pid()")).scalar_one()
            with agency.engine.begin() as conn:
                conn.execute(text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": pid})
            stuck.invalidate()
        assert later in pulled()
        stuck.close()
