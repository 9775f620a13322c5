"""The acceptance suite's harness: the real programs as separate processes on a real X server.

- `XServer`: Xvfb on a display it chose itself, at a given size, with openbox as its window manager
  (no decorations, new windows focused, Alt+F4 closes), and xdotool for input.
- `Agency`: `tandem-server serve` as a process, on a copy of a database made once per run with
  the real `tandem-server init`, `add-user` and `import-directory` commands.
- `Laptop`: one `tandem` process on one X server (one laptop, one screen), with its own data
  folder, keyring-free key files, and TANDEM_PROBE set: it is read through ui/probe.py's JSON
  lines and driven only with X input (mouse moves, clicks, typed keys).

Every wait names what it waited for and shows the last thing it saw when it gives up.
"""

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import requests

from tests.ports import free_port
from tests.xvfb import XvfbError, start_xvfb

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
OPENBOX_RC = Path(__file__).with_name("openbox.xml")
PASSWORD = "Field-test-2026"  # every account of the suite's agency; fictional, tests only
SMALL, WIDE = (1024, 768), (1366, 768)
ERROR_DIALOGS = ("bugReport", "environmentError")  # ui/errors.py's dialogs

# The agency the suite signs in to: (username, role, teams, display name)
ROSTER = (
    ("ofc.ramirez", "officer", ("mhst-1",), "Ofc. Jordan Ramirez"),
    ("clin.okafor", "clinician", ("mhst-1",), "Adaeze Okafor, LPC"),
    ("sgt.morales", "supervisor", ("mhst-1", "outreach-1"), "Sgt. Ana Morales"),
    ("peer.jackson", "peer", ("outreach-1",), "Dee Jackson"),
)


class Timeout(AssertionError):
    """A wait ran out; the message says what for, and what was seen last."""


def wait_until(check, what: str, timeout: float = 15.0, interval: float = 0.2, last=None):
    """Call `check()` until it returns something true; that value is returned."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            seen = f"; last seen: {last()}" if last else ""
            raise Timeout(f"waited {timeout:g} s for {what}{seen}")
        time.sleep(interval)


def spawn(argv: list[str], log: Path, err: Path | None = None, **options) -> subprocess.Popen:
    """A process in its own session (stopped with its children), its output appended to
    `log` (and `err`, when given, for stderr)."""
    with log.open("a") as out, (err or log).open("a") as errors:
        return subprocess.Popen(argv, stdout=out, stderr=errors, stdin=subprocess.DEVNULL,
                                start_new_session=True, **options)


def _stop(process: subprocess.Popen | None, grace: float = 10.0) -> None:
    """SIGTERM the process group, then SIGKILL what is left."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)
    except ProcessLookupError:
        pass


# --- X ------------------------------------------------------------------------------------------

class XServer:
    """Xvfb with openbox at `size` pixels on a display Xvfb chose; logs under `workdir`."""

    def __init__(self, size: tuple[int, int], workdir: Path):
        self.size = tuple(size)
        workdir.mkdir(parents=True, exist_ok=True)
        log = workdir / f"xvfb-{size[0]}x{size[1]}-{time.monotonic_ns()}.log"
        with log.open("a") as out:
            try:
                self.xvfb, self.number = start_xvfb(size, stdout=out, stderr=out,
                                                    stdin=subprocess.DEVNULL,
                                                    start_new_session=True)
            except XvfbError as e:
                raise RuntimeError(f"{e}: {log.read_text()[-500:]}") from None
        self.display = f":{self.number}"
        self.env = {**os.environ, "DISPLAY": self.display}
        self.env.pop("QT_QPA_PLATFORM", None)
        self.wm = None
        try:
            self.wm = spawn(["openbox", "--sm-disable", "--config-file", str(OPENBOX_RC)],
                            workdir / f"openbox-{self.number}.log", env=self.env)
            wait_until(self._wm_running, f"openbox on {self.display}", 15)
        except BaseException:
            self.stop()
            raise

    def _wm_running(self) -> bool:
        out = self.run("xprop", "-root", "_NET_SUPPORTING_WM_CHECK", check=False).stdout
        return "window id" in out

    @property
    def alive(self) -> bool:
        return self.xvfb.poll() is None

    def run(self, *argv, check=True, timeout=30, input=None) -> subprocess.CompletedProcess:
        result = subprocess.run(argv, env=self.env, capture_output=True, text=True,
                                timeout=timeout, input=input)
        if check and result.returncode:
            raise RuntimeError(f"{' '.join(argv)} on {self.display} failed: "
                               f"{result.stderr.strip() or result.stdout.strip()}")
        return result

    def xdotool(self, *args) -> str:
        return self.run("xdotool", *map(str, args)).stdout

    def screenshot(self, path: Path, palette: bool = False) -> Path:
        """The whole screen as a PNG; with `palette`, 256 colours (half the size, for docs)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.run("import", "-display", self.display, "-window", "root",
                 f"PNG8:{path}" if palette else str(path))
        return path

    def clipboard(self) -> str:
        return self.run("xclip", "-o", "-selection", "clipboard", check=False, timeout=5).stdout

    def mapped_windows(self, name_regex: str, timeout: float = 30.0) -> list[str]:
        """`xdotool search --sync`: the ids of visible windows whose title matches."""
        try:
            out = self.run("xdotool", "search", "--sync", "--onlyvisible", "--name", name_regex,
                           timeout=timeout).stdout
        except subprocess.TimeoutExpired:
            raise Timeout(f"no window titled /{name_regex}/ was mapped on {self.display} "
                          f"within {timeout:g} s") from None
        return out.split()

    def stop(self) -> None:
        _stop(self.wm, 5)
        _stop(self.xvfb, 5)


class XServers:
    """The module's X servers, each on a display of its own, reused test after test."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.free: list[XServer] = []
        self.all: list[XServer] = []

    def take(self, size=SMALL) -> XServer:
        for x in self.free:
            if x.size == tuple(size) and x.alive:
                self.free.remove(x)
                return x
        x = XServer(size, self.workdir)
        self.all.append(x)
        return x

    def give_back(self, x: XServer) -> None:
        if x.alive:
            self.free.append(x)

    def stop(self) -> None:
        for x in self.all:
            x.stop()


# --- the agency server ----------------------------------------------------------------------

def server_command(*args, db: Path, stdin: str | None = None) -> str:
    result = subprocess.run([str(BIN / "tandem-server"), "--db", f"sqlite:///{db}", *args],
                            input=stdin, capture_output=True, text=True, timeout=120)
    if result.returncode:
        raise RuntimeError(f"tandem-server {' '.join(args)}: {result.stderr or result.stdout}")
    return result.stdout


def make_agency_database(path: Path) -> Path:
    """A new agency database: schema, the suite's roster, the seed resource directory, and
    the CRC's discharge list for team mhst-1 (follow-ups overdue, due today and upcoming)."""
    server_command("init", db=path)
    # The suite signs in with passwords alone; the second factor has tests of its own
    # (tests/sync/test_two_factor.py, tests/sync/test_intake_signin.py).
    server_command("settings", "set", "two_factor", "optional", db=path)
    for username, role, teams, name in ROSTER:
        server_command("add-user", username, "--role", role, *[a for t in teams
                       for a in ("--team", t)], "--display-name", name, db=path,
                       stdin=PASSWORD + "\n")
    server_command("import-directory", str(ROOT / "seeds" / "directory"), db=path)
    today = date.today()
    discharges = path.with_name("discharges.csv")
    discharges.write_text(
        "first_name,last_name,discharged_on,due_on,priority,reason\n"
        f"Maximiliano,Montenegro-Villasenor,{today - timedelta(days=4)},"
        f"{today - timedelta(days=2)},1,crc_discharge\n"
        f"Ray,Ortiz,{today - timedelta(days=1)},{today},2,post_crisis_check\n"
        f"Dolores,Haskins,{today},{today + timedelta(days=3)},3,crc_discharge\n")
    server_command("import-followups", str(discharges), "--team", "mhst-1", db=path)
    return path


class Agency:
    """`tandem-server serve` on a copy of `template`, on one port for its whole life (a
    restart after a kill comes back on the same address, as a real server does)."""

    def __init__(self, template: Path, workdir: Path, env: dict | None = None):
        workdir.mkdir(parents=True, exist_ok=True)
        self.db = workdir / "agency.db"
        shutil.copy(template, self.db)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / "server.log"
        self.env = {**os.environ, **(env or {})}
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> "Agency":
        self.starts += 1
        with self.log.open("a") as log:
            log.write(f"--- start {self.starts}\n")
        self.process = spawn([str(BIN / "tandem-server"), "--db", f"sqlite:///{self.db}",
                              "serve", "--port", str(self.port)], self.log, env=self.env)
        wait_until(self._healthy, f"the agency server at {self.url} to answer /health", 30,
                   last=lambda: self.log.read_text()[-300:])
        return self

    def _healthy(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"tandem-server exited with {self.process.returncode}: "
                               f"{self.log.read_text()[-800:]}")
        try:
            return requests.get(f"{self.url}/v1/health", timeout=2).ok
        except requests.RequestException:
            return False

    def move(self) -> str:
        """Stop, and serve the same database on another port (the agency moved it)."""
        self.stop()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.start()
        return self.url

    def kill(self) -> None:
        """Killed, not stopped: SIGKILL, as when the server's machine loses power."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        _stop(self.process)

    def add_integration(self, name: str, team: str) -> str:
        """A CAD integration made with the real command; returns the key it prints once."""
        out = server_command("add-integration", name, "--team", team, db=self.db)
        return out.strip().splitlines()[-1].strip()

    def post_cad(self, key: str, **call) -> dict:
        answer = requests.post(f"{self.url}/api/v1/cad/assignments", json=call,
                               headers={"X-Integration-Key": key}, timeout=10)
        assert answer.status_code in (200, 201), answer.text
        return answer.json()

    def rows(self, sql: str, *params) -> list[dict]:
        """Read the server's database directly (read-only), to check what it holds."""
        with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=10) as conn:
            conn.row_factory = sqlite3.Row
            return [dict(r) for r in conn.execute(sql, params)]

    def count(self, table: str, where: str = "1", *params) -> int:
        return self.rows(f"SELECT count(*) AS n FROM {table} WHERE {where}", *params)[0]["n"]


# --- what the app shows -------------------------------------------------------------------------

class Snapshot:
    """One answer of the probe: the visible windows and their widgets."""

    def __init__(self, answer: dict):
        self.answer = answer
        self.windows = answer["windows"]
        self.focus = answer.get("focus")
        self.widgets = [w for win in self.windows for w in win["widgets"]]

    def window(self, cls: str | None = None, title: str | None = None, name: str | None = None):
        for win in self.windows:
            if ((cls is None or win["class"] == cls) and (name is None or win["name"] == name)
                    and (title is None or re.search(title, win["title"]))):
                return win
        return None

    def find(self, name: str | None = None, cls: str | None = None, text: str | None = None,
             window: dict | None = None, shown: bool = False,
             placeholder: str | None = None, screen: str | None = None,
             said: str | None = None) -> list[dict]:
        """Widgets by objectName, class (theirs or a Qt class they derive from), text or
        placeholder (regexes searched in them), what a user or a screen reader takes them for
        (`said`: the text or the accessible name, for a "⚙" button that says "Settings"), and
        the main window's screen they are on."""
        out = []
        for w in self.widgets:
            if screen is not None and w.get("screen") != screen:
                continue
            if name is not None and w["name"] != name:
                continue
            if cls is not None and cls not in w["kinds"]:
                continue
            if text is not None and not re.search(text, w.get("text") or ""):
                continue
            if said is not None and not any(re.search(said, w.get(k) or "")
                                            for k in ("text", "accessible")):
                continue
            if placeholder is not None and not re.search(placeholder,
                                                         w.get("placeholder") or ""):
                continue
            if window is not None and w["window"] != window["index"]:
                continue
            if shown and not w["shown"]:
                continue
            out.append(w)
        return out

    def one(self, **query) -> dict:
        found = self.find(**query)
        if len(found) != 1:
            raise AssertionError(f"expected one widget {query}, found {len(found)}: "
                                 f"{[self.label(w) for w in found][:10]}")
        return found[0]

    def has(self, **query) -> bool:
        return bool(self.find(**query))

    def combo(self, item: str) -> dict:
        """The drop-down that offers `item` (many have no objectName)."""
        found = [w for w in self.find(cls="QComboBox") if item in w.get("items", [])]
        if not found:
            raise AssertionError(f"no drop-down offers {item!r}")
        return found[0]

    def text(self, name: str) -> str:
        return self.one(name=name).get("text", "")

    def screen_key(self) -> str | None:
        main = self.window(cls="MainWindow")
        return main and main.get("screen")

    def idle(self) -> bool:
        """No window has work queued on its workers or a result not yet shown."""
        return not any(w.get("busy") for w in self.windows)

    @staticmethod
    def label(w: dict) -> str:
        said = w.get("text") or w.get("accessible") or ""
        return f"{w['class']}#{w['name'] or '-'} {said!r:.60} at {w['rect']}"

    def summary(self) -> str:
        """What the windows say, in short: for a failed wait's message."""
        parts = []
        for win in self.windows:
            texts = [w.get("text") for w in win["widgets"] if w.get("text") and {
                "QLabel", "QPushButton", "QCheckBox"} & set(w["kinds"])]
            parts.append(f"{win['class']} '{win['title']}': " + "; ".join(
                dict.fromkeys(t.replace("\n", " ")[:60] for t in texts[:40])))
        return (" || ".join(parts) or "no window")[:2500]


def centre(w: dict) -> tuple[int, int]:
    """Where a user clicks a widget: its middle; a check box on its box and words (a click
    on the empty width a layout gives it beyond them does nothing)."""
    x, y, width, height = w["shown"] or w["rect"]
    if w["class"] in ("QCheckBox", "QRadioButton"):
        width = min(width, w["hint"][0])
    return x + width // 2, y + height // 2


class Laptop:
    """One `tandem` process on one X server: its own data folder, home and probe log."""

    def __init__(self, x: XServer, workdir: Path, name: str, env: dict | None = None):
        self.x, self.name = x, name
        self.dir = workdir / name
        self.data_dir = self.dir / "data"
        self.probe = self.dir / "probe.jsonl"
        self.stdout, self.stderr = self.dir / "stdout.log", self.dir / "stderr.log"
        self.extra_env = env or {}
        self.process: subprocess.Popen | None = None
        self._request_id = 0
        self._events: list[dict] = []
        self._offset = 0
        self._events_seen = 0
        self._errors_reported = 0  # error dialogs before this event were already reported
        self.runs = 0

    # -- process
    def _env(self) -> dict:
        """This laptop's environment: its X server, its own home (no keyring: the wrapped
        key goes to a file beside the cache), the probe; `env` given to the laptop wins."""
        home = self.dir / "home"
        (home / "run").mkdir(parents=True, exist_ok=True, mode=0o700)
        env = {**self.x.env, "QT_QPA_PLATFORM": "xcb", "TANDEM_PROBE": str(self.probe),
               "HOME": str(home), "XDG_DATA_HOME": str(home / ".local/share"),
               "XDG_CONFIG_HOME": str(home / ".config"), "XDG_CACHE_HOME": str(home / ".cache"),
               "XDG_RUNTIME_DIR": str(home / "run"),
               "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
               "LANG": "C.UTF-8", "PYTHONUNBUFFERED": "1", **self.extra_env}
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        return {k: v for k, v in env.items() if v is not None}  # None: leave it unset

    def command(self, *args, stdin: str = "", timeout: float = 120) -> subprocess.CompletedProcess:
        """A headless `tandem` command on this laptop's data folder (login, sync, doctor)."""
        return subprocess.run([str(BIN / "tandem"), "--data-dir", str(self.data_dir), *args],
                              input=stdin, capture_output=True, text=True, env=self._env(),
                              timeout=timeout)

    def start(self, *args, wait: bool = True) -> "Laptop":
        """Start `tandem [--data-dir D] ARGS` on this laptop's X server, on the xcb platform."""
        self.dir.mkdir(parents=True, exist_ok=True)
        env = self._env()
        self.runs += 1
        self._events_seen = len(self.events())
        for path in (self.stdout, self.stderr):
            with path.open("a") as f:
                f.write(f"--- run {self.runs}: tandem {' '.join(args)}\n")
        self.process = spawn([str(BIN / "tandem"), "--data-dir", str(self.data_dir), *args],
                             self.stdout, self.stderr, env=env)
        if wait:
            ready = self.wait_event("ready", timeout=60)
            assert ready["platform"] == "xcb", f"the app runs on {ready['platform']}, not xcb"
        return self

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        _stop(self.process)

    def wait_exit(self, timeout: float = 30.0) -> int:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise Timeout(f"{self.name}'s app did not exit within {timeout:g} s; "
                          f"last events: {self.events()[-5:]}") from None

    # -- what it says
    def events(self, kind: str | None = None) -> list[dict]:
        """The probe's events so far (read on from where the last call stopped)."""
        try:
            with self.probe.open("rb") as f:
                f.seek(self._offset)
                chunk = f.read()
        except FileNotFoundError:
            chunk = b""
        end = chunk.rfind(b"\n") + 1  # a line still being written waits for the next call
        self._offset += end
        self._events += [json.loads(line) for line in chunk[:end].splitlines() if line]
        return [e for e in self._events if kind is None or e["event"] == kind]

    def mark(self) -> int:
        """A point in the event log; `wait_event(after=mark)` looks only at what came later."""
        return len(self.events())

    def wait_event(self, kind: str, where=lambda e: True, after: int | None = None,
                   timeout: float = 30.0, what: str = "") -> dict:
        after = self._events_seen if after is None else after

        def found():
            self._check_alive(f"a {kind} event")
            for e in self.events()[after:]:
                if e["event"] == kind and where(e):
                    return e
            return None
        return wait_until(found, what or f"a '{kind}' event from {self.name}'s app", timeout,
                          last=lambda: [e["event"] for e in self.events()[after:]][-8:])

    def expected_dialog(self, name: str, after: int) -> dict:
        """An error dialog the test brought about on purpose: waited for, and not reported as
        a problem by the waits that follow."""
        shown = self.wait_event("dialog", where=lambda e: e["name"] == name, after=after)
        self._errors_reported = self.mark()
        return shown

    def wait_sync(self, after: int, timeout: float = 60.0, ok: bool | None = True) -> dict:
        """The next sync to finish after `after`; with ok=True it must have succeeded."""
        done = self.wait_event("sync", after=after, timeout=timeout,
                               what=f"a sync to finish on {self.name}'s laptop")
        if ok is True:
            assert done["ok"], f"{self.name}'s sync failed: {done.get('error')}: " \
                               f"{done.get('message')}"
        return done

    def error_dialogs(self, after: int = 0) -> list[str]:
        """Error dialogs shown (a bug report, an environment error, any critical box)."""
        return [f"'{e['title']}': {e['text']} {(e.get('details') or '').strip()[-600:]}"
                for e in self.events()[after:] if e["event"] == "dialog" and (
                    e["name"] in ERROR_DIALOGS or e.get("icon") == "Critical")]

    def sync_now(self, attempts: int = 3) -> dict:
        """F5 and the sync it runs. A sync already under way (the automatic one, perhaps still
        failing from a moment ago) takes the key press; its failure is followed by another
        press, as a user would."""
        on_top = next((w for w in self.snapshot().windows if w["active"]), None)
        assert on_top is None or on_top["class"] == "MainWindow", \
            f"F5 would go to '{on_top['title']}', not the main window: close it first"
        for attempt in range(attempts):
            mark = self.mark()
            self.key("F5")
            done = self.wait_sync(mark, ok=None)
            if done["ok"]:
                return done
            time.sleep(1)
        raise AssertionError(f"{self.name}'s sync failed {attempts} times: "
                             f"{done.get('error')}: {done.get('message')}")

    def problems(self) -> list[str]:
        """Tracebacks and error dialogs: what a crew should never see."""
        out = [e["text"] for e in self.events("traceback")] + self.error_dialogs()
        if self.stderr.exists() and "Traceback" in self.stderr.read_text():
            out.append("stderr: " + self.stderr.read_text()[-2000:])
        return out

    def _check_alive(self, waiting_for: str) -> None:
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError(f"{self.name}'s app exited ({self.process.returncode}) while "
                                 f"waiting for {waiting_for}; stderr: "
                                 f"{self.stderr.read_text()[-1500:]}")

    # -- what it shows
    def snapshot(self, find=(), timeout: float = 15.0) -> Snapshot:
        """Ask the app for its visible widgets (find: regexes to match list and table rows)."""
        self._request_id += 1
        request_id = f"{os.getpid()}-{self._request_id}"
        request = Path(str(self.probe) + ".request")
        partial = request.with_suffix(".partial")
        partial.write_text(json.dumps({"id": request_id, "find": list(find)}))
        os.replace(partial, request)
        mark = max(0, self.mark() - 1)
        answer = self.wait_event("widgets", where=lambda e: e["id"] == request_id, after=mark,
                                 timeout=timeout,
                                 what=f"{self.name}'s app to answer a probe request (a busy "
                                      "or frozen UI thread does not answer)")
        if "error" in answer:
            raise AssertionError(f"the probe failed in {self.name}'s app: {answer['error']}")
        for window in answer["windows"]:
            self._place(window)
        return Snapshot(answer)

    def _place(self, window: dict) -> None:
        """Put a window's geometry where the X server shows it. Qt's idea of a window's place
        can lag the window manager's (a dialog opened just after the lock screen went away
        reads (0, 0) while it shows centred), and a click there would miss it."""
        out = self.x.run("xdotool", "getwindowgeometry", str(window["wid"]), check=False).stdout
        found = re.search(r"Position: (-?\d+),(-?\d+).*\n.*Geometry: (\d+)x(\d+)", out)
        if not found:
            return
        x, y, width, height = map(int, found.groups())
        window["rect"] = [x, y, width, height]  # undecorated: the frame is the window
        dx, dy = x - window["inner"][0], y - window["inner"][1]
        if not (dx or dy):
            return

        def moved(r):
            return [r[0] + dx, r[1] + dy, r[2], r[3]] if r else r
        window["inner"] = moved(window["inner"])
        for w in window["widgets"]:
            for key in ("rect", "shown", "viewport", "click_area"):
                if key in w:
                    w[key] = moved(w[key])
            w["arrows"] = [moved(a) for a in w.get("arrows", [])]
            for row in w.get("rows", []):
                row["rect"], row["shown"] = moved(row["rect"]), moved(row["shown"])

    def wait_for(self, check, what: str, timeout: float = 20.0, find=()):
        """Take snapshots until `check(snapshot)` returns something true; returns it. An error
        dialog the app showed (since the last one reported) ends the wait with its text."""
        last: list[Snapshot] = []

        def attempt():
            errors = self.error_dialogs(self._errors_reported)
            if errors:
                self._errors_reported = self.mark()
                raise AssertionError(f"an error dialog appeared on {self.name}'s laptop (seen "
                                     f"while waiting for {what}): {errors[0]}")
            snap = self.snapshot(find)
            last[:] = [snap]
            return check(snap)
        return wait_until(attempt, f"{what} on {self.name}'s laptop", timeout, 0.25,
                          last=lambda: last[0].summary() if last else "nothing")

    def wait_idle(self, timeout: float = 20.0) -> Snapshot:
        """Until no window has work queued or results not yet shown (loads, saves)."""
        return self.wait_for(lambda s: s if s.idle() else None,
                             "the app to finish its queued work", timeout)

    def wait_widget(self, timeout: float = 20.0, **query) -> dict:
        return self.wait_for(lambda s: (s.find(**query) or [None])[0],
                             f"a widget {query}", timeout)

    def wait_window(self, title: str, timeout: float = 30.0) -> dict:
        return self.wait_for(lambda s: s.window(title=title), f"a window titled /{title}/",
                             timeout)

    # -- X input, as a user gives it
    def click(self, target, button: int = 1) -> None:
        """Move the pointer to the middle of a widget (or x, y) and click."""
        x, y = target if isinstance(target, tuple) else centre(target)
        width, height = self.x.size
        if not (0 <= x < width and 0 <= y < height):
            what = target if isinstance(target, tuple) else Snapshot.label(target)
            raise AssertionError(f"cannot click {what}: ({x}, {y}) is off the {width}×{height} "
                                 "screen")
        self.x.xdotool("mousemove", x, y, "click", button)

    def double_click(self, target) -> None:
        """Two clicks 40 ms apart, as a hurried or gloved hand gives one where one was meant."""
        x, y = target if isinstance(target, tuple) else centre(target)
        self.x.xdotool("mousemove", x, y, "click", "--repeat", "2", "--delay", "40", "1")

    def click_widget(self, timeout: float = 20.0, **query) -> dict:
        """Wait for the widget to be visible and enabled, scroll it into view with the
        wheel if it is scrolled away, then click it."""
        widget = self.wait_for(lambda s: next((w for w in s.find(**query) if w["enabled"]),
                                              None),
                               f"an enabled widget {query}", timeout)
        if widget["shown"] is None or widget["shown"][3] < widget["rect"][3]:
            widget = self.scroll_into_view(**query)
        self.click(self._settled(widget, query))
        return widget

    def _settled(self, widget: dict, query: dict) -> dict:
        """The widget once it stays put between two looks: a window just mapped may still be
        moved by the window manager, and a click at its old place would miss."""
        for _ in range(20):
            again = next((w for w in self.snapshot().find(**query) if w["enabled"]), None)
            if again is None or again["shown"] == widget["shown"]:
                return widget
            widget = again
        return widget

    def scroll_into_view(self, **query) -> dict:
        """Turn the mouse wheel over the scroll bar beside a widget until it is all shown."""
        for _ in range(40):
            snap = self.snapshot()
            widget = snap.one(**query)
            if widget["shown"] is not None and widget["shown"][3] >= widget["rect"][3]:
                return widget
            x, y, _w, height = widget["rect"]
            bars = [b for b in snap.find(cls="QScrollBar", shown=True)
                    if not b["horizontal"] and b["maximum"] > 0 and b["rect"][0] > x]
            if not bars:
                raise AssertionError(f"{Snapshot.label(widget)} is scrolled away and no scroll "
                                     "bar beside it scrolls")
            bar = min(bars, key=lambda b: b["rect"][0] - x)
            self.wheel(bar, 2, down=y + height > bar["rect"][1] + bar["rect"][3])
        raise AssertionError(f"could not scroll {query} into view")

    def row(self, pattern: str, timeout: float = 20.0, **view_query) -> tuple[dict, dict]:
        """Wait for a row matching `pattern` (a regex) to show in a list or table."""
        def found(s: Snapshot):
            for view in s.find(**view_query):
                for row in view.get("rows", []):
                    if row["match"] and row["shown"]:
                        return view, row
            return None
        return self.wait_for(found, f"a row /{pattern}/ in {view_query or 'a list'}", timeout,
                             find=[pattern])

    def click_row(self, pattern: str, timeout: float = 20.0, **view_query) -> dict:
        view, row = self.row(pattern, timeout, **view_query)
        x, y, width, height = row["shown"]
        self.click((x + width // 2, y + height // 2))
        return view

    def choose(self, combo: dict, item: str) -> None:
        """Open a drop-down with a click and click one of its items."""
        self.click(combo)
        self.click_row(f"^{re.escape(item)}$", cls="QComboBoxListView")
        self.wait_for(lambda s: any(w.get("text") == item for w in s.find(name=combo["name"],
                                                                            cls=combo["class"])),
                      f"the drop-down to show {item!r}")

    def choose_partner(self, username: str, timeout: float = 60.0) -> None:
        """Pick the shift's partner from the team roster on the start page (the roster the
        first sync brings, shown on the open page)."""
        def offered(s: Snapshot):
            return next((w for w in s.find(name="partner", shown=True) if w["enabled"]
                         and any(f"({username})" in i for i in w["items"])), None)
        combo = self.wait_for(offered, f"{username} offered as partner", timeout)
        self.choose(combo, next(i for i in combo["items"] if f"({username})" in i))

    def type(self, text: str) -> None:
        self.x.xdotool("type", "--delay", "15", "--", text)

    def key(self, *keys: str) -> None:
        self.x.xdotool("key", "--delay", "60", *keys)

    def wheel(self, target, clicks: int, down: bool = True) -> None:
        x, y = centre(target)
        self.x.xdotool("mousemove", x, y)
        for _ in range(clicks):
            self.x.xdotool("click", 5 if down else 4)
            time.sleep(0.05)

    def fill(self, text: str, **query) -> None:
        """Click into a text field, select what is there, and type."""
        self.click_widget(**query)
        self.key("ctrl+a")
        self.type(text)

    def screenshot(self, path: Path, palette: bool = False) -> Path:
        return self.x.screenshot(path, palette)

    # -- the sign-in screen
    def sign_in(self, username: str, password: str = PASSWORD, server: str | None = None,
                timeout: float = 60.0) -> Snapshot:
        """Fill in the sign-in screen with the mouse and keyboard and press Sign in; returns
        the first snapshot of the main window."""
        self.wait_window("sign in")
        self.fill(username, name="username")
        self.fill(password, name="password")
        if server is not None:
            self.fill(server, name="server")
        box = self.wait_widget(name="acknowledge")
        if not box["checked"]:
            self.click(box)
        self.click_widget(name="signIn")
        return self.wait_signed_in(username, timeout)

    def wait_signed_in(self, username: str, timeout: float = 60.0) -> Snapshot:
        def main(s: Snapshot):
            win = s.window(cls="MainWindow")
            if win and any(username in (w.get("text") or "")
                           for w in s.find(name="userBadge", window=win)):
                return s
            errors = [w["text"] for w in s.find(name="fieldError") if w.get("text")]
            if errors and not s.find(name="signIn", text="Signing in"):
                raise AssertionError(f"sign-in refused for {username}: {errors}")
            return None
        return self.wait_for(main, f"{username} signed in, the main window shown", timeout)

    def sign_out(self) -> None:
        """Lock (Ctrl+Shift+L) and press Sign out on the lock screen."""
        self.key("ctrl+shift+l")
        self.click_widget(name="signOut")

    def go(self, key: str) -> Snapshot:
        """Click a screen's button in the navigation (nav_KEY); wait until that screen shows
        what it loads (a screen fills in from its workers after it appears, as a user waits)."""
        self.click_widget(name=f"nav_{key}")
        return self.wait_for(lambda s: s if s.screen_key() == key and s.idle() else None,
                             f"the {key} screen, loaded")

    def nav_keys(self) -> list[str]:
        """The screens this user's navigation offers, top to bottom."""
        buttons = [w for w in self.snapshot().find(cls="QPushButton")
                   if w["name"].startswith("nav_")]
        return [w["name"][4:] for w in sorted(buttons, key=lambda w: w["rect"][1])]

    def toggle_theme(self) -> str:
        """Ctrl+Shift+N; returns the theme the header's button then offers to switch to."""
        before = self.snapshot().text("themeButton")
        self.key("ctrl+shift+n")
        return self.wait_for(lambda s: s.text("themeButton") != before and
                             s.text("themeButton"), "the theme to switch")


def keep_artifacts(node_name: str, laptops, agencies, xservers) -> Path:
    """On a failure: a screenshot of every screen in use and every log, under .e2e-artifacts."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", node_name)[:120]
    out = ROOT / ".e2e-artifacts" / safe
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    for x in xservers:
        if x.alive:
            try:
                x.screenshot(out / f"display-{x.number}.png")
            except Exception as e:  # a failed screenshot must not hide the test's failure
                (out / f"display-{x.number}.error").write_text(str(e))
    for laptop in laptops:
        for path in (laptop.probe, laptop.stdout, laptop.stderr):
            if path.exists():
                shutil.copy(path, out / f"{laptop.name}-{path.name}")
    for n, agency in enumerate(agencies):
        if agency.log.exists():
            shutil.copy(agency.log, out / f"server-{n}.log")
    return out
