"""The intake board in a real browser (Debian's chromium through chromedriver and Selenium)
against a real `tandem-server serve` process: sign-in (setting up an authenticator app, as the
agency requires by default) and every action by keyboard, the focus order, the board
refreshing by itself, contrast, no CSP violation; screenshots of what staff see.

One browser and one server for the module. Screenshots go to $TANDEM_SCREENSHOT_DIR when set
(docs/screenshots is where the committed ones live), else to a temporary folder.
"""

import json
import os
import shutil
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pyotp
import pytest
import requests

from fieldapp.ids import new_id
from fieldapp.timeutil import to_iso, utc_now
from sync.server import imports
from sync.server.accounts import Caller
from sync.server.db import make_engine
from tests.conftest import PASSWORD

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.common.exceptions import WebDriverException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402
from tests.ports import free_port  # noqa: E402

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER),
                                reason="apt-get install chromium chromium-driver")
TEAM = "mhst-1"


def _cli(db, *args, stdin=None):
    done = subprocess.run([sys.executable, "-m", "sync.server.cli", "--db", db, *args],
                          input=stdin, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("intake-server")
    db = f"sqlite:///{folder / 'agency.db'}"
    _cli(db, "init")
    _cli(db, "add-user", "crc.front", "--role", "crc_intake", "--team", "crc",
         "--display-name", "Front desk (CRC)", stdin=PASSWORD + "\n")
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "sync.server.cli", "--db", db, "serve",
                                "--port", str(port), "--log-level", "warning"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            requests.get(f"{url}/v1/health", timeout=1)
            break
        except requests.ConnectionError:
            time.sleep(0.1)
    engine = make_engine(db)
    yield {"url": url, "engine": engine}
    process.terminate()
    process.wait(timeout=30)
    engine.dispose()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium look for a driver online
    options = Options()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--window-size=1280,1000",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.implicitly_wait(0)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    return Path(os.environ.get("TANDEM_SCREENSHOT_DIR") or tmp_path_factory.mktemp("shots"))


def _write(engine, table, values, role="officer"):
    caller = Caller(0, "ofc.ramirez", role, (TEAM,), "test-laptop")
    record_id = new_id()
    [op] = imports.create_ops(caller, [(table, record_id, values)])
    with engine.begin() as conn:
        imports.push_or_fail(conn, caller, [op])
    return record_id


def _notice(engine, unit, minutes, **extra):
    now = utc_now()
    return _write(engine, "crc_notice", {
        "team": TEAM, "unit": unit, "transport": "voluntary", "age_group": "adult",
        "eta_at": to_iso(now + timedelta(minutes=minutes)), "eta_source": "entered",
        "sent_at": to_iso(now - timedelta(minutes=5)), **extra})


def _active(driver) -> str:
    return driver.execute_script("return document.activeElement.id || "
                                 "document.activeElement.name || document.activeElement.tagName")


def _labelled(driver):
    for field in driver.find_elements(By.CSS_SELECTOR, "input:not([type=hidden])"):
        assert driver.find_elements(By.CSS_SELECTOR, f'label[for="{field.get_attribute("id")}"]')


def _wait(driver, test, seconds=15):
    """Polls `test` while the board redraws its rows or reloads (after a status post): a node
    read mid-reload is stale, or to Chrome "does not belong to the document"; either is
    tried again, and a test still false after `seconds` fails."""
    return WebDriverWait(driver, seconds, poll_frequency=0.2, ignored_exceptions=(
        WebDriverException,)).until(lambda d: test(d))


def _contrast(driver, selector) -> float:
    """WCAG contrast ratio of an element's text against its (first opaque) background."""
    return driver.execute_script("""
        const el = document.querySelector(arguments[0]);
        function rgb(c) { return c.match(/[\\d.]+/g).map(Number); }
        function lum(c) { const v = rgb(c).slice(0, 3).map(x => { x /= 255;
            return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
            return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; }
        let bg = el, colour;
        while (bg) { colour = getComputedStyle(bg).backgroundColor;
            const a = rgb(colour); if (a.length < 4 || a[3] > 0) break; bg = bg.parentElement; }
        const l1 = lum(getComputedStyle(el).color), l2 = lum(colour || 'rgb(255,255,255)');
        return (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);""", selector)


def test_the_board_by_keyboard_refreshing_itself(server, browser, shots):
    engine, url, driver = server["engine"], server["url"], browser
    _notice(engine, "ADAM-12", 9, age_group="youth", safety_cautions="spits; hides blades",
            emergency_petition=True, transport="involuntary")
    _notice(engine, "BAKER-3", 22, pickup_order=True)
    arrived = _notice(engine, "2M14", -2)
    _write(engine, "crc_dropoff", {"team": TEAM, "transport": "voluntary",
                                   "arrived_at": to_iso(utc_now() - timedelta(minutes=3)),
                                   "notice_id": arrived})
    done = _notice(engine, "CHARLIE-7", -30)
    _write(engine, "crc_checkin", {"notice_id": done,
                                   "arrived_at": to_iso(utc_now() - timedelta(minutes=31)),
                                   "checked_in_at": to_iso(utc_now() - timedelta(minutes=25))},
           role="crc_intake")

    # Signed out, the board sends you to sign in; the form is labelled and keyboard-only.
    driver.get(f"{url}/intake")
    assert driver.current_url.endswith("/intake/sign-in")
    _labelled(driver)
    assert _active(driver) == "username"
    assert driver.find_element(By.CSS_SELECTOR, "label[for=code]").text == \
        "Code from your authenticator app (or a recovery code)"
    driver.save_screenshot(str(shots / "intake-sign-in.png"))
    driver.switch_to.active_element.send_keys("crc.front", Keys.TAB, "not the password",
                                              Keys.ENTER)
    _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "[role=alert]"))
    assert "wrong user name or password." in driver.page_source
    assert driver.find_element(By.ID, "username").get_attribute("value") == "crc.front"
    assert _active(driver) == "password"
    driver.switch_to.active_element.send_keys(PASSWORD, Keys.ENTER)

    # The agency requires a second factor (the default) and none is set up: the QR code and
    # the key to type by hand, then the first code with the password again, by keyboard.
    _wait(driver, lambda d: d.find_elements(By.ID, "secret"))
    _labelled(driver)
    assert driver.find_element(By.CSS_SELECTOR, "figure.qr svg").size["width"] >= 200
    assert PASSWORD not in driver.page_source
    assert driver.execute_script(  # the QR code in view beside the field with the keyboard
        "const r = document.querySelector('figure.qr svg').getBoundingClientRect();"
        "return r.top >= 0 && r.bottom <= window.innerHeight")
    driver.save_screenshot(str(shots / "intake-enrol.png"))
    app = pyotp.TOTP(driver.find_element(By.ID, "secret").text.replace(" ", ""))
    assert _active(driver) == "code"
    driver.switch_to.active_element.send_keys(app.now(), Keys.TAB, PASSWORD, Keys.ENTER)
    _wait(driver, lambda d: d.find_elements(By.ID, "recovery-codes"))
    codes = driver.find_elements(By.CSS_SELECTOR, "#recovery-codes code")
    assert len(codes) == 10
    driver.save_screenshot(str(shots / "intake-recovery-codes.png"))
    assert _active(driver) == "continue"
    driver.switch_to.active_element.send_keys(Keys.ENTER)
    _wait(driver, lambda d: d.current_url.rstrip("/").endswith("/intake"))

    # Incoming (soonest first), then arrived, then checked in.
    groups = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "section.group h2")]
    assert groups == ["Incoming (2)", "Arrived (1)", "Checked in (1)"]
    units = [e.text.split("\n")[0] for e in driver.find_elements(By.CSS_SELECTOR,
                                                                  "article.notice h3")]
    assert [u.split(" ")[1] for u in units] == ["ADAM-12", "BAKER-3", "2M14", "CHARLIE-7"]
    assert "arrived" in driver.find_element(By.ID, f"n-{arrived}").text
    driver.set_window_size(1280, 1900)  # the whole board in one picture
    driver.save_screenshot(str(shots / "intake-board.png"))
    driver.set_window_size(1280, 1000)

    # Focus order: sign out, the status form, then each row's actions, top to bottom.
    driver.get(f"{url}/intake")  # focus starts at the top of the page
    order = []
    for _ in range(10):
        driver.switch_to.active_element.send_keys(Keys.TAB)
        order.append(_active(driver))
    assert order[:4] == ["BUTTON", "status", "wait", "BUTTON"]
    assert order[4].startswith("arrived-") and order[5].startswith("checked-in-")
    assert order[8] == f"arrived-{arrived}" or order[8] == f"checked-in-{arrived}"

    # Check-in complete on the arrived unit, by keyboard; it moves to "Checked in" without a
    # reload and the keyboard stays on the board.
    driver.find_element(By.ID, f"checked-in-{arrived}").send_keys(Keys.ENTER)
    _wait(driver, lambda d: d.find_element(By.ID, f"n-{arrived}")
          .get_attribute("data-state") == "checked_in")
    assert driver.find_element(By.ID, "h-checked_in").text == "Checked in (2)"
    # The board's own 5-second refresh may redraw the row first (the keyboard is on the page
    # for a moment); the action's handler then puts it on the moved row.
    _wait(driver, lambda d: _active(d) != "BODY")

    # A new notice appears by itself and is announced.
    late = _notice(engine, "DOG-9", 15, safety_cautions="large dog in the car")
    _wait(driver, lambda d: d.find_elements(By.ID, f"n-{late}"))
    assert "DOG-9" in driver.find_element(By.ID, "announce").text

    # The center's status, by keyboard.
    Select(driver.find_element(By.ID, "status")).select_by_value("at_capacity")
    wait = driver.find_element(By.ID, "wait")
    wait.clear()
    wait.send_keys("35", Keys.ENTER)
    _wait(driver, lambda d: "At capacity, expected wait 35 min" in
          d.find_element(By.ID, "status-now").text)
    driver.set_window_size(1024, 768)  # an intake desk's small screen
    driver.save_screenshot(str(shots / "intake-board-1024.png"))
    driver.set_window_size(1280, 1000)

    # Large type, strong contrast, and nothing refused by the page's own policy.
    assert float(driver.execute_script(
        "return parseFloat(getComputedStyle(document.body).fontSize)")) >= 20
    for selector in ("body", "article.notice dd", "button", "header h1", "section.group h2"):
        assert _contrast(driver, selector) >= 4.5, selector
    logs = [e for e in driver.get_log("browser")
            if "Content Security Policy" in e["message"]
            or (e["level"] == "SEVERE" and e["source"] != "network")]  # a 401 is expected
    assert not logs, json.dumps(logs)

    # Signing out goes back to sign-in, and the board is gone until the next sign-in.
    sign_out = "form[action='/intake/sign-out'] button"
    _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, sign_out))  # after the reload
    driver.find_element(By.CSS_SELECTOR, sign_out).click()
    _wait(driver, lambda d: d.current_url.endswith("/intake/sign-in"))
    driver.get(f"{url}/intake")
    assert driver.current_url.endswith("/intake/sign-in")
    assert "ADAM-12" not in driver.page_source
