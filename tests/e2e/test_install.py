"""Defect 14: README command 1 on a fresh Debian 12 with a display must open a window.

Qt's xcb platform plugin is loaded at run time; every other test runs offscreen, so nothing
noticed that command 1 did not install the libraries it links. Two proofs:
- every shared library the plugin (and the Qt modules the app imports) loads comes from a
  package that command 1 installs, or one of their dependencies, or one a fresh Debian has
  (priority required or important) — read from this machine's dpkg database;
- the app, run on a real X server with no platform chosen (Qt picks xcb, as on a laptop),
  maps its window: `xdotool search --sync` finds it.
"""

import re
import subprocess
from pathlib import Path

import PySide6

from tests.e2e.harness import ROOT, SMALL

QT = Path(PySide6.__file__).parent
LINKED = (QT / "Qt/plugins/platforms/libqxcb.so", QT / "QtGui.abi3.so",
          QT / "QtWidgets.abi3.so")


def command_1_packages() -> list[str]:
    """The packages README command 1 installs with apt-get."""
    readme = (ROOT / "README.md").read_text()
    command = next(line for line in readme.splitlines()
                   if "apt-get install" in line and "tandem demo" in line)
    listed = re.search(r"apt-get install -y ([^&]+)&&", command)
    assert listed, f"no apt-get install in README command 1: {command}"
    return listed.group(1).split()


def _installed() -> tuple[dict, dict]:
    """Installed packages -> (priority, dependency clauses); virtual package -> providers."""
    out = subprocess.run(
        ["dpkg-query", "-W", "-f=${Package}\t${db:Status-Status}\t${Priority}\t${Provides}\t"
         "${Pre-Depends}, ${Depends}\n"], capture_output=True, text=True, check=True).stdout
    packages, providers = {}, {}
    for line in out.splitlines():
        name, status, priority, provides, depends = line.split("\t")
        if status != "installed":
            continue
        packages[name] = (priority, [c.strip() for c in depends.split(",") if c.strip()])
        for virtual in filter(None, (p.strip().split(" ")[0] for p in provides.split(","))):
            providers.setdefault(virtual, []).append(name)
    return packages, providers


def _closure(roots, packages, providers) -> set[str]:
    """The roots and everything they depend on (Depends, Pre-Depends), as installed here."""
    seen, todo = set(), [r for r in roots if r in packages]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for clause in packages[name][1]:
            for alternative in clause.split("|"):
                wanted = alternative.strip().split(" ")[0].split(":")[0]
                chosen = [wanted] if wanted in packages else providers.get(wanted, [])
                if chosen:
                    todo.append(chosen[0])
                    break
    return seen


def _owners(paths: set[str]) -> dict[str, str]:
    """The Debian package that ships each library file, from one `dpkg -S` (merged /usr: a
    file may be registered under /lib or /usr/lib, or under its symlink's target)."""
    spellings = {}
    for path in paths:
        real = str(Path(path).resolve())
        for candidate in (path, real):
            spellings[candidate] = path
            other = candidate[4:] if candidate.startswith("/usr/") else "/usr" + candidate
            spellings[other] = path
    out = subprocess.run(["dpkg", "-S", *spellings], capture_output=True, text=True).stdout
    owners = {}
    for line in out.splitlines():
        package, _, shipped = line.partition(": ")
        if shipped in spellings:
            owners.setdefault(spellings[shipped], package.split(",")[0].split(":")[0].strip())
    return owners


def test_defect_14_readme_command_1_installs_what_qt_xcb_loads():
    packages, providers = _installed()
    listed = command_1_packages()
    base = [n for n, (priority, _) in packages.items() if priority in ("required", "important")]
    allowed = _closure(base + listed, packages, providers)
    unknown = [p for p in listed if p not in packages]
    assert not unknown, f"command 1 installs {unknown}, which tests/run did not install here"
    missing, libraries = [], set()
    for linked in LINKED:
        for line in subprocess.run(["ldd", str(linked)], capture_output=True, text=True,
                                   check=True).stdout.splitlines():
            if "not found" in line:
                missing.append(f"{linked.name}: {line.strip()}")
                continue
            found = re.match(r"\s*\S+ => (/\S+)", line)
            if found and not found.group(1).startswith(str(QT)):
                libraries.add(found.group(1))  # Qt's own libraries come with the wheel
    owners = _owners(libraries)
    uncovered = {}
    for library in sorted(libraries):
        owner = owners.get(library)
        if owner not in allowed:
            uncovered.setdefault(owner or "no package", set()).add(Path(library).name)
    assert not missing, f"libraries Qt's xcb platform needs are not installed: {missing}"
    assert not uncovered, (
        "README command 1 does not install these packages that Qt's xcb platform loads "
        f"(package: libraries): {uncovered}; command 1 installs {listed}")


def test_tests_run_installs_command_1s_packages():
    """CI starts from nothing: what command 1 installs, tests/run installs too, so the checks
    here run against command 1's list and not against what a machine happened to have."""
    run = (ROOT / "tests" / "run").read_text()
    listed = re.search(r"packages=\(([^)]*)\)", run).group(1).split()
    assert not set(command_1_packages()) - set(listed)


def test_the_app_maps_its_window_on_xcb_with_no_platform_chosen(world):
    """`tandem` as a laptop runs it: a display set, no platform chosen, so Qt loads xcb.
    (`tandem demo`, command 1's last step, runs on xcb in test_defects_session.py.)"""
    laptop = world.laptop("readme", SMALL, env={"QT_QPA_PLATFORM": None})
    laptop.start(wait=False)
    windows = laptop.x.mapped_windows("^Tandem — sign in$", timeout=60)
    assert windows, "no Tandem window was mapped"
    geometry = laptop.x.xdotool("getwindowgeometry", windows[0])
    assert "Geometry:" in geometry
    ready = laptop.wait_event("ready", timeout=10)
    assert ready["platform"] == "xcb"
    assert laptop.running, f"the app exited: {laptop.stderr.read_text()[-1500:]}"
    assert not laptop.problems()
