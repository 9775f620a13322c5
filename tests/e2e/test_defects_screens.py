"""Issue 14's defects of the screens, each a regression test on the real app at 1024×768 (a
common in-car screen): an officer, a sergeant and a peer, each on a laptop of their own,
signed in once for the module against one agency server, driven with the mouse and keyboard.

Defects 5 (the wheel edits the record), 6 (1024×768 breaks), 7 (too small for a moving car),
8 (shortcuts change meaning with the role), 10 ("copy phone" copies a fax), 11 (the CRC
clock's minutes do not add up), 12 (follow-up attempts, history, dates, empty list, a stale
message).
"""

import re
import time
from types import SimpleNamespace

import pytest

from tests.e2e.harness import SMALL, Snapshot

MIN_TARGET = 44  # px: the smallest control a gloved hand in a moving car can hit
CONTROLS = ("QPushButton", "QCheckBox", "QRadioButton", "QComboBox", "QLineEdit", "QSpinBox",
            "QDoubleSpinBox", "QToolButton", "QScrollBar")


@pytest.fixture(scope="module")
def crew(module_world):
    agency = module_world.agency()
    people = {"officer": "ofc.ramirez", "sergeant": "sgt.morales", "peer": "peer.jackson"}
    laptops = {who: module_world.laptop(who, SMALL).start() for who in people}
    for who, username in people.items():
        laptops[who].sign_in(username, server=agency.url)
    return SimpleNamespace(agency=agency, **laptops)


@pytest.fixture
def on_failure(kept_on_failure):
    return kept_on_failure


def home(laptop) -> None:
    """Close whatever dialog is open and go back to a screen every role has."""
    for _ in range(3):
        snap = laptop.snapshot()
        if not any(w["class"] != "MainWindow" for w in snap.windows):
            break
        laptop.key("Escape")
        time.sleep(0.3)
    laptop.go("resources")


# --- defect 5 -----------------------------------------------------------------------------------

def test_defect_05_the_wheel_scrolls_the_form_and_never_edits_it(crew, on_failure):
    officer = crew.officer
    problems = []
    try:
        snap = officer.go("encounter")
        disposition = snap.combo("Transported CRC voluntary")
        officer.choose(disposition, "Transported CRC voluntary")
        officer.key("Tab")  # the focus leaves the drop-down, which stays in view
        before = officer.snapshot().combo("Transported CRC voluntary")
        assert not before["focus"] and before["shown"], before
        officer.wheel(before, 3, down=True)
        time.sleep(0.5)
        after = officer.snapshot().combo("Transported CRC voluntary")
        if after["text"] != "Transported CRC voluntary":
            problems.append(f"the wheel over Disposition changed it to {after['text']!r}")
        if after["rect"][1] >= before["rect"][1]:
            problems.append("the wheel over Disposition did not scroll the encounter form")
        # Every drop-down and spin box on the officer's screens: the wheel over it, without
        # focus, leaves its value alone.
        for key in officer.nav_keys():
            snap = officer.go(key)
            for w in snap.find(screen=key, shown=True):
                if w["class"] not in ("QComboBox", "QSpinBox", "QDoubleSpinBox") or w["focus"] \
                        or not w["enabled"]:
                    continue
                officer.wheel(w, 2, down=True)
                time.sleep(0.3)
                again = [v for v in officer.snapshot().find(name=w["name"], cls=w["class"],
                                                            screen=key)
                         if v.get("items") == w.get("items")]
                if again and again[0]["text"] != w["text"]:
                    problems.append(f"{key}: the wheel changed {Snapshot.label(w)} to "
                                    f"{again[0]['text']!r}")
                    if w["class"] == "QComboBox":  # as it was, for the next tests
                        officer.choose(again[0], w["text"])
    finally:
        home(officer)
    assert not problems, "\n".join(problems)


# --- defect 6 -----------------------------------------------------------------------------------

def layout_problems(snap: Snapshot, where: str, size=SMALL, title: str | None = None) -> list[str]:
    """What does not fit a screen of `size`: windows, widgets off it, clipped buttons and table
    columns, horizontal scrolling; only in the window titled /title/ when one is given."""
    width, height = size
    out = []
    windows = [snap.window(title=title)] if title else snap.windows
    for win in windows:
        x, y, w, h = win["rect"]
        if x < 0 or y < 0 or x + w > width or y + h > height:
            out.append(f"{where}: the window '{win['title'] or win['class']}' ({w}×{h} at "
                       f"{x}, {y}) does not fit the {width}×{height} screen")
        off = [wd for wd in snap.find(window=win, shown=True)
               if wd["shown"][0] + wd["shown"][2] > width
               or wd["shown"][1] + wd["shown"][3] > height]
        named = [wd.get("text") or wd["name"] for wd in off if wd.get("text") or wd["name"]]
        if named:
            out.append(f"{where}: off the screen: {sorted(set(named))[:10]}")
    for wd in (w for win in windows for w in snap.find(window=win, shown=True)):
        text = (wd.get("text") or "").replace("\n", " ")
        if wd["class"] in ("QPushButton", "QCheckBox", "QRadioButton") and text \
                and wd["hint"][0] > wd["rect"][2]:
            out.append(f"{where}: the button '{text}' is cut ({wd['rect'][2]} px wide, its text "
                       f"needs {wd['hint'][0]})")
        if wd["class"] == "QScrollBar" and wd["horizontal"] and wd["maximum"] > 0:
            out.append(f"{where}: a horizontal scroll bar ({wd['rect'][2]} px)")
        for column in wd.get("columns", []):
            if column["width"] < column["title_width"] or \
                    column["width"] < min(column["content_width"], 120):
                out.append(f"{where}: the table column '{column['title']}' is "
                           f"{column['width']} px wide, its contents need "
                           f"{column['content_width']}")
    return out


def every_screen(laptop, role: str, check) -> list[str]:
    problems = []
    for key in laptop.nav_keys():
        problems += check(laptop.go(key), f"{role} {key}")
    return problems


def test_defect_06_every_screen_and_dialog_fits_1024x768(crew, on_failure):
    officer, sergeant, peer = crew.officer, crew.sergeant, crew.peer
    problems = []
    try:
        for laptop, role in ((officer, "officer"), (sergeant, "sergeant"), (peer, "peer")):
            problems += every_screen(laptop, role, layout_problems)
            laptop.key("F1")
            laptop.wait_window("Keyboard shortcuts")
            problems += layout_problems(laptop.snapshot(), f"{role} F1 help",
                                        title="Keyboard shortcuts")
            home(laptop)

        # The officer's end-of-shift summary.
        officer.go("shift")
        officer.fill("MHST-12", placeholder="e.g. 2M14")
        officer.key("ctrl+Return")
        officer.wait_widget(name="endShift", shown=True)
        officer.key("ctrl+shift+e")
        officer.click_widget(cls="QPushButton", text="Yes")
        officer.wait_window("Shift summary")
        problems += layout_problems(officer.snapshot(), "officer shift summary",
                                    title="Shift summary")
        home(officer)

        # The sergeant's dialogs, and a shift returned to the officer to amend.
        for button, title in (("newAssignment", "New assignment"),
                              ("newFollowUp", "New follow-up")):
            sergeant.go("review")
            sergeant.click_widget(name=button)
            sergeant.wait_window(title)
            problems += layout_problems(sergeant.snapshot(), f"sergeant {title}", title=title)
            home(sergeant)
        for laptop in (officer, sergeant):
            laptop.sync_now()
        sergeant.go("dashboard")
        sergeant.go("review")
        sergeant.click_row("MHST-12", cls="QTableView")
        sergeant.click_widget(name="reviewComment")
        sergeant.type("Say where the drop-off was.")
        sergeant.key("alt+r")
        sergeant.row(r"MHST-12.*Returned", cls="QTableView")
        for laptop in (sergeant, officer):
            laptop.sync_now()
        officer.go("resources")
        officer.go("shift")
        officer.click_widget(name="amendRecord")
        officer.wait_window("Amend a record")
        problems += layout_problems(officer.snapshot(), "officer amend dialog",
                                    title="Amend a record")
    finally:
        for laptop in (officer, sergeant, peer):
            home(laptop)
    assert not problems, "\n".join(problems)


# --- defect 7 -----------------------------------------------------------------------------------

def size_problems(snap: Snapshot, where: str) -> list[str]:
    """Interactive controls (and their parts) smaller than MIN_TARGET in either direction."""
    out = []
    for w in snap.find(shown=True):
        if w["class"] not in CONTROLS or w["name"].startswith("qt_") or not w["enabled"]:
            continue
        x, y, width, height = w["rect"]
        if min(width, height) < MIN_TARGET:
            what = w.get("text") or w["name"] or w.get("placeholder") or ""
            out.append(f"{where}: {w['class']} '{what[:40]}' is {width}×{height}")
        area = w.get("click_area")
        if area and min(area[2], area[3]) < MIN_TARGET:
            out.append(f"{where}: {w['class']} '{(w.get('text') or w['name'])[:40]}' toggles "
                       f"only in {area[2]}×{area[3]} px")
        for arrow in w.get("arrows", []):
            if min(arrow[2], arrow[3]) < MIN_TARGET:
                out.append(f"{where}: a spin box arrow of '{w['name'] or w.get('text')}' is "
                           f"{arrow[2]}×{arrow[3]}")
    return out


def test_defect_07_every_control_is_44px_in_both_themes(crew, on_failure):
    officer, sergeant = crew.officer, crew.sergeant
    problems = []
    try:
        for theme in (1, 2):
            for laptop, role in ((officer, "officer"), (sergeant, "sergeant")):
                name = laptop.snapshot().text("themeButton")
                where = f"{role} ({'day' if 'Night' in name else 'night'} theme)"
                problems += every_screen(laptop, where, size_problems)
                snap = laptop.go("encounter")
                laptop.click(snap.combo("Transported CRC voluntary"))
                popup = laptop.wait_widget(cls="QComboBoxListView")
                small = [r["rect"][3] for r in popup["rows"] if r["rect"][3] < MIN_TARGET]
                if small:
                    problems.append(f"{where}: the encounter's drop-down rows are "
                                    f"{min(small)} px high")
                laptop.key("Escape")
                laptop.toggle_theme()
    finally:
        for laptop in (officer, sergeant):
            home(laptop)
    assert not problems, "\n".join(problems)


# --- defect 8 -----------------------------------------------------------------------------------

def shortcut_map(laptop) -> dict[str, int]:
    """Screen -> the n of the Ctrl+n that shows it, found by pressing Ctrl+1 … Ctrl+0. A press
    that shows nothing is tried again from another screen (it may lead to the one shown)."""
    found = {}
    current = laptop.snapshot().screen_key()
    for n in (*range(1, 10), 0):
        for attempt in range(2):
            if attempt:
                current = "conflicts" if current != "conflicts" else "resources"
                laptop.go(current)
            mark = laptop.mark()
            laptop.key(f"ctrl+{n}")
            try:
                shown = laptop.wait_event("screen", after=mark, timeout=1.0)
            except AssertionError:
                continue
            found.setdefault(shown["key"], n)
            current = shown["key"]
            break
    return found


def test_defect_08_a_shortcut_means_one_thing_whatever_the_role(crew, on_failure):
    maps = {}
    helps = {}
    try:
        for laptop, role in ((crew.officer, "officer"), (crew.sergeant, "sergeant"),
                             (crew.peer, "peer")):
            maps[role] = shortcut_map(laptop)
            laptop.key("F1")
            laptop.wait_window("Keyboard shortcuts")
            helps[role] = " ".join(w.get("text") or "" for w in laptop.snapshot().find(
                cls="QTextBrowser"))
            home(laptop)
    finally:
        for laptop in (crew.officer, crew.sergeant, crew.peer):
            home(laptop)
    problems = []
    for screen in sorted({k for m in maps.values() for k in m}):
        keys = {role: m[screen] for role, m in maps.items() if screen in m}
        if len(set(keys.values())) > 1:
            problems.append(f"{screen}: " + ", ".join(f"Ctrl+{n} for the {role}"
                                                     for role, n in keys.items()))
    for role, m in maps.items():
        for screen, n in m.items():
            if f"Ctrl+{n}" not in helps[role]:
                problems.append(f"the {role}'s F1 help does not list Ctrl+{n} ({screen})")
    assert not problems, "a key means different screens by role:\n" + "\n".join(problems)


# --- defect 10 ----------------------------------------------------------------------------------

CRC_LE_SERVICE = "Adult Crisis Receiving - Law Enforcement Drop-off"
VOICE, FAX = "520-555-0110", "520-555-0111"  # seeds/directory/phones.csv


def test_defect_10_copy_phone_copies_a_voice_number(crew, on_failure):
    officer = crew.officer
    try:
        officer.go("resources")
        officer.fill("Law Enforcement Drop-off", name="resourceSearch")
        time.sleep(0.5)  # the search waits for typing to pause
        officer.wait_idle()
        officer.click_row(re.escape(CRC_LE_SERVICE), cls="QListView", screen="resources")

        def picked(s):
            view = s.one(cls="QListView", screen="resources")
            current = view["current"]
            return current is not None and view["rows"][current]["match"]
        officer.wait_for(picked, "the CRC's law-enforcement entrance selected",
                         find=[re.escape(CRC_LE_SERVICE)])
        snap = officer.snapshot(find=[re.escape(CRC_LE_SERVICE), re.escape(FAX)])
        rows = [r for v in snap.find(cls="QListView", screen="resources") for r in v["rows"]
                if 0 in r["match"]]
        shows_fax = [r for r in rows if 1 in r["match"]]
        officer.key("ctrl+p")
        copied = officer.wait_widget(cls="QLabel", text="^Copied phone")
        clipboard = officer.x.clipboard().strip()
    finally:
        home(officer)
    assert clipboard == VOICE, (f"Copy phone on the CRC's law-enforcement entrance copied "
                                f"{clipboard!r} ({copied['text']}), not its voice line {VOICE}")
    assert not shows_fax, f"the result's row shows the fax number {FAX}"


# --- defect 11 ----------------------------------------------------------------------------------

def test_defect_11_crc_clock_elapsed_and_remaining_add_up_to_the_target(crew, on_failure):
    officer = crew.officer
    readings = []
    try:
        officer.go("crc")
        officer.key("ctrl+Return")
        officer.wait_widget(name="handOff", shown=True)
        for _ in range(4):
            snap = officer.snapshot()
            readings.append((snap.text("crcClock"), snap.text("crcTarget")))
            time.sleep(0.7)
    finally:
        officer.key("ctrl+Return")  # handed off
        officer.wait_widget(name="clearDropoff", shown=True)
        officer.key("ctrl+Return")  # cleared
        officer.wait_widget(name="arrive", shown=True)
        home(officer)

    def seconds(mmss: str) -> int:
        minutes, secs = mmss.split(":")
        return int(minutes) * 60 + int(secs)

    wrong = []
    for clock, target in readings:
        found = re.match(r"Target (\d+:\d\d) — (\d+:\d\d) left", target)
        assert found, f"the target line reads {target!r}"
        if seconds(clock) + seconds(found.group(2)) != seconds(found.group(1)):
            wrong.append(f"{clock} elapsed + {found.group(2)} left ≠ {found.group(1)}")
    assert not wrong, "the CRC clock does not add up: " + "; ".join(wrong)


# --- defect 12 ----------------------------------------------------------------------------------

ISO_DATE = r"\b\d{4}-\d\d-\d\d\b"


def test_defect_12_follow_ups_take_notes_show_history_whole_and_say_when_empty(crew,
                                                                               on_failure):
    officer, peer, agency = crew.officer, crew.peer, crew.agency
    problems = []
    note = "Left a card with his sister at the door"
    try:
        # Nothing selected: logging an attempt asks to select one; selecting clears that.
        officer.go("followups")
        officer.key("alt+2")
        officer.wait_widget(cls="QLabel", text="Select a follow-up first", screen="followups")
        officer.click_row("Montenegro", cls="QTableView")
        time.sleep(1.0)
        if officer.snapshot().find(cls="QLabel", text="Select a follow-up first", shown=True):
            problems.append("'Select a follow-up first.' stays after a follow-up is selected")

        # An attempt with a note.
        fields = [w for w in officer.snapshot().find(screen="followups", shown=True)
                  if w["class"] in ("QLineEdit", "QPlainTextEdit", "QTextEdit")
                  and w.get("editable")]
        if not fields:
            problems.append("the follow-up screen has no field for an attempt's note")
        else:
            officer.click(fields[0])
            officer.type(note)
        officer.key("alt+2")  # no answer
        officer.wait_widget(cls="QLabel", text="^Logged", screen="followups")
        officer.sync_now()
        attempts = [a for a in agency.rows("SELECT data FROM record WHERE table_name = "
                                           "'follow_up_attempt'")]
        if not any(note in a["data"] for a in attempts):
            problems.append(f"the attempt reached the server without its note {note!r}")

        # The person's history: whole, one date format.
        snap = officer.snapshot(find=[ISO_DATE])
        for view in snap.find(screen="followups", shown=True):
            if "rows" not in view:
                continue
            vx, _vy, vw, _vh = view["viewport"]
            cut = [r for r in view["rows"] if r["shown"] and r["rect"][0] + r["rect"][2] > vx + vw]
            if cut or view["scrollbars"]["horizontal"]:
                problems.append(f"a list on the follow-up screen is cut off on the right "
                                f"({view['name'] or view['class']})")
            if any(r["match"] for r in view["rows"]):
                problems.append(f"dates like 2026-11-27 beside 'Mon 30 Nov' in "
                                f"{view['name'] or view['class']}")

        # A peer with no follow-ups sees that there are none.
        snap = peer.go("followups")
        said = [w["text"] for w in snap.find(screen="followups", shown=True, cls="QLabel")
                if re.search(r"(?i)\bno\b.*follow-?ups?|nothing", w.get("text") or "")]
        if not said:
            problems.append("a peer's empty follow-up list does not say it is empty")
    finally:
        home(officer)
        home(peer)
    assert not problems, "\n".join(problems)
