"""Using the desktop app from outside its process, as the person at the laptop does: an X
server of its own (Xvfb, so the app runs on the xcb platform), keys typed with xdotool, windows
found by their titles, and a window closed the way a window manager closes it.

`use_app` is the whole launch check: sign in through the sign-in window (first sign-in,
online), wait for the sync, lock, sign out, close the app; it fails on a traceback in the
app's output, an error dialog, or an exit status other than 0.
"""

import ctypes
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.xvfb import XvfbError, start_xvfb

SIGN_IN, MAIN, LOCKED = "Tandem — sign in", "Tandem", "Tandem — locked"
PLAIN_PATH = "/usr/bin:/bin"


class DesktopError(AssertionError):
    """The app did not do what its user asked; the message says what and shows its output."""


def require(*programs: str) -> None:
    missing = [p for p in programs if shutil.which(p) is None]
    if missing:
        raise DesktopError(f"missing {', '.join(missing)}: tests/run installs them "
                           "(its packages list)")


class Xvfb:
    """A virtual X server on a free display of its own choosing."""

    def __init__(self):
        require("Xvfb", "xdotool", "xprop")
        try:
            self.process, number = start_xvfb((1366, 768), stdout=subprocess.DEVNULL,
                                              stderr=subprocess.DEVNULL)
        except XvfbError as e:
            raise DesktopError(str(e)) from None
        self.display = f":{number}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def _x(display: str, *args: str, check: bool = True) -> str:
    done = subprocess.run(args, env={"DISPLAY": display, "PATH": PLAIN_PATH},
                          capture_output=True, text=True, timeout=30)
    if check and done.returncode != 0:
        raise DesktopError(f"{' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def windows(display: str, title: str) -> list[int]:
    """The visible windows whose title is exactly `title`."""
    out = _x(display, "xdotool", "search", "--onlyvisible", "--name",
             f"^{re.escape(title)}$", check=False)
    return [int(w) for w in out.split()]


def dialogs(display: str) -> list[str]:
    """Titles of the visible dialog windows (a bug report, an error message)."""
    found = []
    for wid in _x(display, "xdotool", "search", "--onlyvisible", "--name", ".*",
                  check=False).split():
        kind = _x(display, "xprop", "-id", wid, "_NET_WM_WINDOW_TYPE", check=False)
        if "_NET_WM_WINDOW_TYPE_DIALOG" in kind:
            found.append(_x(display, "xdotool", "getwindowname", wid, check=False).strip())
    return found


def keys(display: str, *names: str) -> None:
    _x(display, "xdotool", "key", "--delay", "30", *names)


def type_text(display: str, text: str) -> None:
    _x(display, "xdotool", "type", "--delay", "10", text)


def close_window(display: str, window: int) -> None:
    """Ask the window to close (WM_DELETE_WINDOW), as its title bar's close button does."""
    x11 = ctypes.CDLL("libX11.so.6")
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XInternAtom.restype = ctypes.c_ulong
    x11.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    x11.XSendEvent.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_long,
                               ctypes.c_void_p]
    x11.XFlush.argtypes = x11.XCloseDisplay.argtypes = [ctypes.c_void_p]

    class ClientMessage(ctypes.Structure):
        _fields_ = [("type", ctypes.c_int), ("serial", ctypes.c_ulong),
                    ("send_event", ctypes.c_int), ("display", ctypes.c_void_p),
                    ("window", ctypes.c_ulong), ("message_type", ctypes.c_ulong),
                    ("format", ctypes.c_int), ("data", ctypes.c_long * 5),
                    ("pad", ctypes.c_long * 12)]  # an XEvent is 24 longs

    conn = x11.XOpenDisplay(display.encode())
    if not conn:
        raise DesktopError(f"cannot open X display {display}")
    try:
        event = ClientMessage(type=33, window=window, format=32,
                              message_type=x11.XInternAtom(conn, b"WM_PROTOCOLS", 0))
        event.data[0] = x11.XInternAtom(conn, b"WM_DELETE_WINDOW", 0)
        x11.XSendEvent(conn, window, 0, 0, ctypes.byref(event))
        x11.XFlush(conn)
    finally:
        x11.XCloseDisplay(conn)


def clean_env(home: Path, display: str, path: str = PLAIN_PATH) -> dict[str, str]:
    """What a freshly logged-in desktop user has, and nothing of this checkout or its venv."""
    return {"PATH": path, "HOME": str(home), "DISPLAY": display, "LANG": "C.UTF-8",
            "QT_QPA_PLATFORM": "xcb"}


@dataclass
class Launch:
    """One run of the app: its process, its output file, and the steps it went through."""

    process: subprocess.Popen
    output: Path
    display: str
    steps: dict[str, float] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    @classmethod
    def start(cls, command: list[str], env: dict, cwd: Path, output: Path, display: str):
        with output.open("wb") as out:  # the child keeps its own copy of the file
            process = subprocess.Popen(command, env=env, cwd=cwd, stdout=out,
                                       stderr=subprocess.STDOUT)
        return cls(process, output, display)

    def text(self) -> str:
        return self.output.read_text(errors="replace")

    def fail(self, what: str) -> DesktopError:
        return DesktopError(f"{what}\n--- the app's output ---\n{self.text()[-6000:]}")

    def check(self) -> None:
        """No traceback in the output, no dialog on screen."""
        if "Traceback" in self.text():
            raise self.fail("the app printed a traceback")
        shown = dialogs(self.display)
        if shown:
            raise self.fail(f"the app shows a dialog: {shown}")

    def wait_window(self, title: str, timeout: float = 60) -> int:
        """The window titled `title`, once shown; fails at once on a traceback or a dialog."""
        deadline = time.monotonic() + timeout
        for turn in range(1_000_000):
            found = windows(self.display, title)
            if found:
                return found[-1]
            if self.process.poll() is not None:
                raise self.fail(f"the app exited ({self.process.returncode}) before showing "
                                f"'{title}'")
            if turn % 10 == 9:
                self.check()
            if time.monotonic() > deadline:
                raise self.fail(f"no window titled '{title}' after {timeout:.0f} s")
            time.sleep(0.05)
        raise AssertionError("unreachable")

    def step(self, name: str) -> None:
        self.steps[name] = round(time.monotonic() - self.started, 2)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def wait_for_sync(log: Path, after: int, launch: Launch, timeout: float = 60,
                  quiet_s: float = 1.5) -> list[str]:
    """The agency server's access lines after byte `after` of its log, once a sync has ended
    there: a pull answered 200 (the last page ends a sync, its summary folded in) and no
    request since for `quiet_s`."""
    deadline = time.monotonic() + timeout
    seen, since = -1, time.monotonic()
    while True:
        lines = log.read_bytes()[after:].decode(errors="replace").splitlines()
        requests = [" ".join(m) for m in (re.findall(
            r'"method": "(\w+)", "path": "([^"]+)", "status": (\d+)', line) for line in lines)
            for m in m]
        if len(requests) != seen:
            seen, since = len(requests), time.monotonic()
        elif "GET /v1/pull 200" in requests and time.monotonic() - since > quiet_s:
            return requests
        launch.check()
        if time.monotonic() > deadline:
            raise launch.fail(f"no sync reached the server in {timeout:.0f} s: {requests}")
        time.sleep(0.1)


def use_app(launch: Launch, user: str, password: str, server_url: str, server_log: Path,
            while_signed_in=None) -> list[str]:
    """Sign in (first sign-in on this laptop, online), wait for the sync, lock, sign out and
    close the app, as its user does with the keyboard; `while_signed_in(launch)` runs once the
    sync is done. Returns the server's access lines for the sync; `launch.steps` holds when
    each step was done (seconds from the start)."""
    d = launch.display
    log_start = server_log.stat().st_size
    window = launch.wait_window(SIGN_IN)
    launch.step("sign-in window")
    launch.check()
    _x(d, "xdotool", "windowfocus", "--sync", str(window))
    keys(d, "shift+Tab", "space", "Tab")  # the use banner's checkbox, then back to Username
    type_text(d, user)
    keys(d, "Tab")
    type_text(d, password)
    keys(d, "Tab")
    type_text(d, server_url)
    keys(d, "Return")  # Enter signs in from the server field (the code field follows it)
    main = launch.wait_window(MAIN)
    launch.step("signed in")
    requests = wait_for_sync(server_log, log_start, launch)
    launch.step("synced")
    launch.check()
    if while_signed_in is not None:
        while_signed_in(launch)
    _x(d, "xdotool", "windowfocus", "--sync", str(main))
    keys(d, "ctrl+shift+l")
    launch.wait_window(LOCKED, timeout=15)
    keys(d, "Tab", "Tab", "space")  # from the password field: Unlock, then Sign out
    window = launch.wait_window(SIGN_IN, timeout=15)
    launch.check()
    launch.step("signed out")
    close_window(d, window)
    try:
        code = launch.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        raise launch.fail("the app did not exit 30 s after its window was closed") from None
    launch.check()
    if code != 0:
        raise launch.fail(f"the app exited with status {code}")
    launch.step("exited")
    return requests


def loaded_files(pid: int) -> set[str]:
    """Every file the process has mapped (its libraries and extension modules)."""
    maps = Path(f"/proc/{pid}/maps").read_text()
    return {line.split(None, 5)[5] for line in maps.splitlines()
            if len(line.split(None, 5)) == 6 and line.split(None, 5)[5].startswith("/")}
