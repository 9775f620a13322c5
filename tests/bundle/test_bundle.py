"""The desktop bundle as it reaches the laptops, built from build.spec and used as its user
does: on a real X server (Xvfb, the xcb platform), signed in through the sign-in window against
a `tandem-server` process, synced, signed out, closed. Then as Linux fleets install it: a .deb
(scripts/build_deb.sh) installed with dpkg and run by name from a clean environment, where
nothing of this checkout or its venv is visible.

Each step is reported on the terminal, so CI's output shows the bundle built, launched on xcb,
signed in, synced and signed out.
"""

import configparser
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import seeds
from fieldapp import __version__
from fieldapp.session import unlock
from tests.agency_process import ROOT, server_command, serving
from tests.bundle import desktop

BUDGET_BYTES = 150 * 2**20
PASSWORD = seeds.load("roster")["demo_password"]


@pytest.fixture(scope="module")
def say(request):
    """Write a line on the terminal, past pytest's output capture."""
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")

    def write(text: str) -> None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(f"bundle: {text}")
    return write


@pytest.fixture(scope="module")
def bundle(tmp_path_factory, say) -> Path:
    """`pyinstaller build.spec`, into a folder of this test run."""
    out = tmp_path_factory.mktemp("pyinstaller")
    started = time.monotonic()
    built = subprocess.run(
        [sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
         "--distpath", str(out / "dist"), "--workpath", str(out / "work"), "build.spec"],
        cwd=ROOT, capture_output=True, text=True,
        # its own cache: --clean empties the shared one, which another build may be reading
        env={**os.environ, "PYINSTALLER_CONFIG_DIR": str(out / "cache")})
    assert built.returncode == 0, f"pyinstaller build.spec failed:\n{built.stderr[-6000:]}"
    folder = out / "dist" / f"tandem-{__version__}"
    files = [p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()]
    say(f"built {folder.name} from build.spec in {time.monotonic() - started:.0f} s: "
        f"{sum(p.stat().st_size for p in files) / 2**20:.1f} MiB in {len(files)} files")
    return folder


@pytest.fixture(scope="module")
def xserver():
    server = desktop.Xvfb()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def agency(tmp_path_factory):
    """`tandem-server` processes, as an agency runs them: a database with two accounts and the
    seed directory, served on a free port. Yields (url, its log)."""
    folder = tmp_path_factory.mktemp("agency")
    db = f"sqlite:///{folder / 'agency.db'}"
    server_command(db, "init")
    server_command(db, "settings", "set", "two_factor", "optional")  # passwords alone here
    for user, role in (("ofc.ramirez", "officer"), ("clin.okafor", "clinician")):
        server_command(db, "add-user", user, "--role", role, "--team", "mhst-1", stdin=PASSWORD)
    server_command(db, "import-directory", str(seeds.DIRECTORY_DIR))
    log = folder / "server.log"
    with serving(db, log) as url:
        yield url, log


def signed_in_cache(home: Path, user: str):
    """The user's cache as the app left it, opened with their password."""
    return unlock(home / ".local" / "share" / "Tandem", user, PASSWORD)


def check_synced(home: Path, user: str) -> dict:
    """What the sync left in the cache: the directory pulled, nothing pushed left waiting
    but what came after the sync (the lock and the sign-out, audited)."""
    session = signed_in_cache(home, user)
    try:
        db = session.db
        state = db.execute("SELECT last_sync_at FROM sync_state").fetchone()
        services = db.execute("SELECT count(*) FROM dir_service").fetchone()[0]
        waiting = [r[0] for r in db.execute(
            "SELECT fields FROM outbox WHERE state = 'pending' ORDER BY rowid")]
    finally:
        session.close()
    assert state[0], "the cache never recorded a sync"
    assert services == 61, f"{services} directory services pulled, not the seed's 61"
    actions = [json.loads(f).get("action") for f in waiting]
    assert set(actions) <= {"lock", "sign_out"}, f"ops still waiting after the sync: {actions}"
    return {"services": services, "waiting": actions}


def launch_and_use(command: list[str], path: str, cwd: Path, home: Path, xserver, agency,
                   user: str, say, where: str, while_signed_in=None) -> None:
    """Start the app from a clean environment and use it (desktop.use_app), reporting each step."""
    url, log = agency
    home.mkdir(parents=True, exist_ok=True)
    env = desktop.clean_env(home, xserver.display, path=path)
    launch = desktop.Launch.start(command, env, cwd, home / "app.log", xserver.display)
    try:
        say(f"{where}: launched on xcb (DISPLAY {xserver.display}), PATH={path}, HOME={home}")
        requests = desktop.use_app(launch, user, PASSWORD, url, log, while_signed_in)
    finally:
        launch.stop()
    steps = launch.steps
    say(f"{where}: sign-in window after {steps['sign-in window']} s; signed in as {user} "
        f"after {steps['signed in']} s")
    say(f"{where}: synced with tandem-server at {url} after {steps['synced']} s: "
        f"{', '.join(requests)}")
    synced = check_synced(home, user)
    say(f"{where}: the cache holds the directory ({synced['services']} services); waiting to "
        f"sync: {synced['waiting'] or 'nothing'}")
    say(f"{where}: signed out after {steps['signed out']} s; exited 0 after {steps['exited']} s; "
        "no traceback, no error dialog")


def test_bundle_runs_on_x_signs_in_syncs_and_signs_out(bundle, xserver, agency, tmp_path, say):
    launch_and_use([str(bundle / "tandem")], desktop.PLAIN_PATH, tmp_path, tmp_path / "home",
                   xserver, agency, "ofc.ramirez", say, "dist")


def test_bundle_fits_the_size_budget(bundle, say):
    files = [p for p in bundle.rglob("*") if p.is_file() and not p.is_symlink()]
    size = sum(p.stat().st_size for p in files)
    say(f"size {size / 2**20:.1f} MiB (budget {BUDGET_BYTES / 2**20:.0f} MiB)")
    largest = sorted(files, key=lambda p: p.stat().st_size, reverse=True)[:12]
    assert size < BUDGET_BYTES, "the largest files:\n" + "\n".join(
        f"{p.stat().st_size / 2**20:6.1f} MiB  {p.relative_to(bundle)}" for p in largest)


def install_deb(deb: Path, root: Path) -> None:
    """`dpkg -i` into a scratch root whose package database lists this machine's installed
    packages, so the .deb's Depends are checked against what is really here."""
    admin = root / "var" / "lib" / "dpkg"
    (admin / "updates").mkdir(parents=True)
    (admin / "info").mkdir()
    (admin / "available").touch()
    (admin / "status").write_bytes(Path("/var/lib/dpkg/status").read_bytes())
    installed = subprocess.run(["dpkg-query", "-W", "-f", "${binary:Package}\n"],
                               capture_output=True, text=True, check=True).stdout.split()
    for package in installed:  # their file lists, empty: this root holds none of their files
        (admin / "info" / f"{package}.list").touch()
    done = subprocess.run(["dpkg", f"--root={root}", "--force-not-root", "-i", str(deb)],
                          capture_output=True, text=True,  # dpkg wants ldconfig on its PATH
                          env={**os.environ, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
    assert done.returncode == 0, f"dpkg -i {deb.name} failed:\n{done.stdout}{done.stderr}"


def test_deb_installs_and_runs_from_a_clean_environment(bundle, xserver, agency, tmp_path, say):
    built = subprocess.run(["bash", str(ROOT / "scripts" / "build_deb.sh"), str(bundle),
                            str(tmp_path)], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    deb = Path(built.stdout.strip())
    control = subprocess.run(["dpkg-deb", "--field", str(deb)], capture_output=True, text=True,
                             check=True).stdout
    say(f"packed {deb.name} ({deb.stat().st_size / 2**20:.1f} MiB); "
        f"{next(line for line in control.splitlines() if line.startswith('Depends'))}")
    root = tmp_path / "root"
    install_deb(deb, root)

    entry = root / "usr" / "share" / "applications" / "tandem.desktop"
    desktop.require("desktop-file-validate")
    checked = subprocess.run(["desktop-file-validate", str(entry)], capture_output=True,
                             text=True)
    assert checked.returncode == 0 and not checked.stdout, checked.stdout
    menu = configparser.ConfigParser(interpolation=None)
    menu.read(entry)
    assert menu["Desktop Entry"]["Exec"] == "tandem"
    icon = menu["Desktop Entry"]["Icon"]
    assert (root / "usr/share/icons/hicolor/scalable/apps" / f"{icon}.svg").is_file()
    assert (root / "usr" / "bin" / "tandem").resolve() == root / "opt" / "tandem" / "tandem"

    path = f"{root / 'usr' / 'bin'}:{desktop.PLAIN_PATH}"
    home, cwd = tmp_path / "laptop-home", tmp_path / "elsewhere"
    cwd.mkdir()
    env = desktop.clean_env(home, xserver.display, path=path)
    version = subprocess.run(["tandem", "--version"], env=env, cwd=cwd, capture_output=True,
                             text=True, check=True).stdout.strip()
    assert version == f"tandem {__version__}"
    say(f"installed with dpkg -i into {root}: menu entry and icon in place, "
        f"'tandem --version' by name from the PATH: {version}")

    demo = subprocess.run(["tandem", "smoke"], env={**env, "QT_QPA_PLATFORM": "offscreen"},
                          cwd=cwd, capture_output=True, text=True, timeout=300)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert json.loads(demo.stdout.strip().splitlines()[-1])["modules_imported"] > 100
    say(f"'tandem smoke' (the demo's own server, sign-in, sync, main window): "
        f"{demo.stdout.strip().splitlines()[-1]}")

    loaded = []
    launch_and_use(["tandem"], path, cwd, home, xserver, agency, "clin.okafor", say, "deb",
                   lambda launch: loaded.extend(desktop.loaded_files(launch.process.pid)))
    foreign = sorted(f for f in loaded if f.startswith((str(ROOT), sys.prefix, sys.base_prefix)))
    assert not foreign, f"the installed app loaded files of the checkout or a Python: {foreign}"
    ours = [f for f in loaded if f.startswith(str(root / "opt" / "tandem"))]
    assert any("QtWidgets" in f for f in ours), "Qt did not load from /opt/tandem"
    say(f"deb: the running app had loaded {len(ours)} files from {root / 'opt' / 'tandem'} "
        "and none from the checkout, its venv or its Python")
