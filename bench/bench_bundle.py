"""The desktop bundle as it reaches a laptop: its size, and its cold start to a usable window.

Builds the bundle from build.spec (or takes --bundle DIR) and its .deb (scripts/build_deb.sh),
then starts the bundled `tandem` on an X server of its own (Xvfb, the xcb platform), from a
clean environment, with every file of the bundle dropped from the page cache first
(posix_fadvise DONTNEED), as after a reboot. Timed from outside, as the user sees it:
- first_window_ms: from exec to the sign-in window on screen;
- signed_in_ms: from Enter in the password field (an existing cache, offline) to the main
  window answering a key (Ctrl+Shift+L; the window title changes when the event loop has
  handled it), which includes the password's key derivation, slow on purpose;
- kdf_ms: that derivation alone, with the same parameters, in this process;
- cold_start_ms = first_window_ms + signed_in_ms - kdf_ms: start to a usable window, without
  the derivation (the user types meanwhile, and it is the lock, not the start).
The baseline, bare_window_ms, is a bare PySide6 QMainWindow from this venv with its PySide6
files dropped from the page cache the same way, timed from exec to answering the same key.

Last line: one JSON object (bundle_bytes, bundle_mib, bundle_files, deb_bytes,
first_window_ms, signed_in_ms, kdf_ms, cold_start_ms, bare_window_ms, ratio_to_bare_window,
runs).
"""

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fieldapp import __version__, keys, paths  # noqa: E402
from fieldapp.session import Profile, create_cache  # noqa: E402
from tests.bundle import desktop  # noqa: E402

USER = "ofc.bench"
PASSWORD = secrets.token_urlsafe(16)  # a throwaway cache; made anew each run
BARE = """
import sys
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QApplication, QMainWindow, QTableWidget
app = QApplication(sys.argv[:1])
window = QMainWindow()
window.setWindowTitle("bare")
window.setCentralWidget(QTableWidget(20, 5))
QShortcut(QKeySequence("Ctrl+Shift+L"), window, lambda: window.setWindowTitle("bare, locked"))
window.resize(1366, 768)
window.show()
app.exec()
"""


def build(out: Path) -> Path:
    subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level",
                    "WARN", "--distpath", str(out / "dist"), "--workpath", str(out / "work"),
                    str(ROOT / "build.spec")], cwd=ROOT, check=True, capture_output=True)
    return out / "dist" / f"tandem-{__version__}"


def evict(folder: Path) -> None:
    """Drop every file under `folder` from the page cache: the next read comes from disk."""
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def answered(launch: desktop.Launch, window: int, title: str) -> float:
    """Send Ctrl+Shift+L to `window`; the moment its title becomes `title`."""
    d = launch.display
    subprocess.run(["xdotool", "windowfocus", "--sync", str(window)], check=True,
                   env={"DISPLAY": d, "PATH": desktop.PLAIN_PATH})
    desktop.keys(d, "ctrl+shift+l")
    launch.wait_window(title, timeout=60)
    return time.monotonic()


def bundle_start(bundle: Path, xserver, home: Path, work: Path) -> dict:
    evict(bundle)
    env = desktop.clean_env(home, xserver.display)
    started = time.monotonic()
    launch = desktop.Launch.start([str(bundle / "tandem")], env, work, work / "app.log",
                                  xserver.display)
    try:
        window = launch.wait_window(desktop.SIGN_IN)
        first = time.monotonic()
        d = xserver.display
        subprocess.run(["xdotool", "windowfocus", "--sync", str(window)], check=True,
                       env={"DISPLAY": d, "PATH": desktop.PLAIN_PATH})
        desktop.keys(d, "shift+Tab", "space", "Tab")
        desktop.type_text(d, USER)
        desktop.keys(d, "Tab")
        desktop.type_text(d, PASSWORD)
        entered = time.monotonic()
        desktop.keys(d, "Return")
        main = launch.wait_window(desktop.MAIN)
        usable = answered(launch, main, desktop.LOCKED)
        launch.check()
    finally:
        launch.stop()
    return {"first_window_ms": (first - started) * 1000, "signed_in_ms": (usable - entered) * 1000}


def bare_start(xserver, work: Path) -> float:
    import PySide6
    evict(Path(PySide6.__file__).parent)
    env = {**desktop.clean_env(work, xserver.display), "PATH": os.environ["PATH"]}
    started = time.monotonic()
    launch = desktop.Launch.start([sys.executable, "-c", BARE], env, work, work / "bare.log",
                                  xserver.display)
    try:
        window = launch.wait_window("bare")
        usable = answered(launch, window, "bare, locked")
    finally:
        launch.stop()
    return (usable - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, help="a bundle already built (default: build one)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-bundle-") as tmp:
        tmp = Path(tmp)
        bundle = args.bundle.resolve() if args.bundle else build(tmp / "build")
        files = [p for p in bundle.rglob("*") if p.is_file() and not p.is_symlink()]
        size = sum(p.stat().st_size for p in files)
        deb = Path(subprocess.run(["bash", str(ROOT / "scripts" / "build_deb.sh"), str(bundle),
                                   str(tmp)], check=True, capture_output=True,
                                  text=True).stdout.strip()).stat().st_size
        home = tmp / "home"
        data_dir = home / ".local" / "share" / "Tandem"
        create_cache(data_dir, Profile(USER, "officer", ("mhst-1",), "Bench"), PASSWORD).close()
        stored = keys.KeyStore(paths.cache_path(data_dir, USER)).load()
        kdf = []
        for _ in range(args.runs):
            started = time.perf_counter()
            keys.unwrap(stored, PASSWORD)
            kdf.append((time.perf_counter() - started) * 1000)
        xserver = desktop.Xvfb()
        try:
            starts = [bundle_start(bundle, xserver, home, tmp) for _ in range(args.runs)]
            bare = [bare_start(xserver, tmp) for _ in range(args.runs)]
        finally:
            xserver.stop()
    first = statistics.median(s["first_window_ms"] for s in starts)
    signed_in = statistics.median(s["signed_in_ms"] for s in starts)
    kdf_ms = statistics.median(kdf)
    cold = first + signed_in - kdf_ms
    bare_ms = statistics.median(bare)
    print(json.dumps({
        "bundle_bytes": size, "bundle_mib": round(size / 2**20, 1), "bundle_files": len(files),
        "deb_bytes": deb,
        "first_window_ms": round(first, 1), "signed_in_ms": round(signed_in, 1),
        "kdf_ms": round(kdf_ms, 1), "cold_start_ms": round(cold, 1),
        "bare_window_ms": round(bare_ms, 1), "ratio_to_bare_window": round(cold / bare_ms, 2),
        "runs": args.runs}))


if __name__ == "__main__":
    main()
