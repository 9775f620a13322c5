"""What a new user's mouse does that a careful tester's does not, on the real app at 1024×768:
a double-click where one click was meant, and every button pressed at whatever moment.

A double-click's second click reaches only the control the first one pressed, and on a button
it is one press (ui/input_policy): a double-tap on "Start shift" once also pressed "Available",
which the first click had put where the start button was. Every button on every screen, as each role, with nothing picked and
then with the first row of each list picked, says something and never shows a traceback or a
bug report. Buttons that end or lock the session are left out: other tests press them."""

import time

import pytest

from tests.e2e.harness import SMALL, Snapshot

LEAVES = {"signOut"}  # objectNames of buttons that end the session


def test_a_double_click_where_one_was_meant_presses_one_button_only(world):
    agency = world.agency()
    officer = world.laptop("officer", SMALL).start()
    officer.sign_in("ofc.ramirez", server=agency.url)
    officer.wait_sync(0)

    officer.go("shift")
    officer.fill("MHST-31", placeholder="e.g. 2M14")
    start = officer.wait_widget(name="startShift", shown=True)
    officer.double_click(start)
    officer.row("In service", cls="QListView", screen="shift")
    time.sleep(1.0)  # room for a second action to land
    timeline = officer.wait_idle().one(cls="QListView", screen="shift", shown=True)
    assert timeline["row_count"] == 1, \
        f"the double-click logged {timeline['row_count']} statuses, not just 'In service'"

    # On a button, a double-click is one press: a toggle stays on, an outcome is logged once.
    officer.go("outreach")
    food = officer.wait_widget(name="service_food", shown=True)
    officer.double_click(food)
    time.sleep(0.5)
    assert officer.wait_idle().one(name="service_food")["checked"], \
        "a double-click on 'Food' left it off"
    officer.go("followups")
    officer.click_row("Ortiz", cls="QTableView", screen="followups")
    time.sleep(1.0)
    before = officer.wait_idle().one(name="personHistory")["row_count"]
    officer.double_click(officer.wait_widget(name="outcome_no_answer", shown=True))
    officer.wait_widget(cls="QLabel", text="^Logged: No answer", screen="followups")
    time.sleep(1.0)
    logged = officer.wait_idle().one(name="personHistory")["row_count"] - before
    assert logged == 1, f"the double-click logged {logged} attempts, not one"

    # A double-click meant as one still works: it opens an encounter from the list.
    officer.go("encounter")
    officer.click_widget(name="situation_welfare_check")
    officer.click_widget(placeholder="address or landmark")
    officer.type("Under the 4th Ave bridge")
    officer.key("ctrl+s")
    officer.wait_widget(name="draftState", text="^Encounter saved at")
    officer.go("encounters")
    view, row = officer.row("4th Ave bridge", cls="QTableView", screen="encounters")
    x, y, width, height = row["shown"]
    officer.double_click((x + width // 2, y + height // 2))
    officer.wait_for(lambda s: s.screen_key() == "encounter" and s.one(
        placeholder="address or landmark")["length"] == len("Under the 4th Ave bridge"),
        "the encounter opened on the encounter screen")
    assert officer.problems() == []


# --- every button --------------------------------------------------------------------------------

def dismiss(laptop) -> None:
    """Escape until only the main window is left (a dialog, a drop-down's list, a menu)."""
    for _ in range(4):
        snap = laptop.snapshot()
        if all(w["class"] == "MainWindow" for w in snap.windows) and not snap.find(
                cls="QComboBoxListView", shown=True):
            return
        laptop.key("Escape")
        time.sleep(0.4)


def buttons(snap: Snapshot, key: str) -> list[dict]:
    return [w for w in snap.find(screen=key, shown=True)
            if {"QPushButton", "QToolButton"} & set(w["kinds"]) and w["enabled"]
            and not w["name"].startswith("nav_") and w["name"] not in LEAVES
            and w["shown"][2] > 4 and w["shown"][3] > 4]


def ident(w: dict) -> tuple:
    return w["name"], w.get("text") or w.get("accessible")


def pick_first_rows(laptop, key: str) -> Snapshot:
    for view in laptop.snapshot().find(screen=key, shown=True):
        rows = [r for r in view.get("rows", []) if r["shown"]]
        if rows:
            x, y, width, height = rows[0]["shown"]
            laptop.click((x + min(width // 2, 60), y + height // 2))
            time.sleep(0.3)
    return laptop.wait_idle()


def press_everything(laptop, role: str) -> tuple[list[str], int]:
    """(what went wrong, how many presses) over every screen of the laptop's user."""
    problems, presses = [], 0
    for key in laptop.nav_keys():
        for picked in (False, True):
            state = "a row picked" if picked else "nothing picked"
            snap = laptop.go(key)
            if picked:
                snap = pick_first_rows(laptop, key)
            for wanted in dict.fromkeys(ident(w) for w in buttons(snap, key)):
                now = laptop.snapshot()
                if now.screen_key() != key:  # the last button went to another screen
                    now = laptop.go(key)
                    if picked:
                        now = pick_first_rows(laptop, key)
                button = next((w for w in buttons(now, key) if ident(w) == wanted), None)
                if button is None:  # the last press hid or disabled it
                    continue
                mark = len(laptop.events())
                laptop.click(button)
                presses += 1
                time.sleep(0.5)
                try:
                    laptop.wait_idle(timeout=30)
                except AssertionError as e:
                    problems.append(f"{role} {key} ({state}): {Snapshot.label(button)}: {e}")
                for e in laptop.events()[mark:]:
                    if e["event"] == "traceback" or (e["event"] == "dialog"
                                                     and e["name"] == "bugReport"):
                        problems.append(f"{role} {key} ({state}): {Snapshot.label(button)}: "
                                        f"{str(e)[:800]}")
                if not laptop.running:
                    problems.append(f"{role} {key}: the app exited after "
                                    f"{Snapshot.label(button)}")
                    return problems, presses
                dismiss(laptop)
    return problems, presses


@pytest.mark.parametrize("username", ["ofc.ramirez", "clin.okafor", "sgt.morales",
                                      "peer.jackson"])
def test_every_button_on_every_screen_says_something_and_never_breaks(world, username):
    agency = world.agency()
    laptop = world.laptop(username, SMALL).start()
    laptop.sign_in(username, server=agency.url)
    laptop.wait_sync(0)
    problems, presses = press_everything(laptop, username)
    assert presses >= 20, f"only {presses} buttons pressed: the walk did not reach the screens"
    assert not problems, "\n".join(problems)
