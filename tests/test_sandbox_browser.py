"""`warroom sandbox` in real Chromium: an incident from declare to resolved, as a newcomer
clicks through it. Debian's chromium + chromedriver driven by selenium; the sandbox is a
real `python -m bot.cli sandbox --speed 60` process. Nothing is downloaded at run time.

The run saves docs/sandbox.png, the screenshot the README shows.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from tests.test_sandbox_quickstart import ROOT, SandboxProcess, _alive, _children

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOT = ROOT / "docs" / "sandbox.png"
WAIT = 20

for _binary, _package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
    if not os.access(_binary, os.X_OK):
        pytest.skip(f"{_binary} is not installed (apt-get install {_package})", allow_module_level=True)
if shutil.which("redis-server") is None:
    pytest.skip("redis-server is not installed (apt-get install redis-server)", allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install selenium)")

from selenium.common.exceptions import StaleElementReferenceException, TimeoutException  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    box = SandboxProcess(tmp_path_factory.mktemp("sandbox"), speed=60)
    box.wait_ready()
    yield box
    redis = _children(box.proc.pid)
    box.close()
    assert not any(_alive(p) for p in redis)


@pytest.fixture(scope="module")
def browser():
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="warroom-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-default-apps", "--disable-extensions", "--no-first-run",
                "--no-default-browser-check", "--metrics-recording-only", "--mute-audio",
                "--window-size=1280,800", "--force-device-scale-factor=1",
                f"--user-data-dir={profile}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_window_size(1280, 800)
    # the page itself 1280x800, whatever the window decorations take
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False})
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def wait(driver, predicate, what: str, timeout: float = WAIT):
    def check(d):
        try:
            return predicate(d)
        except StaleElementReferenceException:
            return False
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.1).until(check, message=what)
    except TimeoutException:
        shot = Path(tempfile.gettempdir()) / "warroom-sandbox-failure.png"
        driver.save_screenshot(str(shot))
        raise AssertionError(f"timed out waiting for {what} (screenshot: {shot})") from None


def retry(action, attempts: int = 20):
    """Run `action()` again when the page re-rendered the element under it (live updates)."""
    for i in range(attempts):
        try:
            return action()
        except StaleElementReferenceException:
            if i == attempts - 1:
                raise
            time.sleep(0.1)


def css(driver, selector: str):
    return driver.find_elements(By.CSS_SELECTOR, selector)


def card(driver):
    """The pinned war-room card (the first pinned row with a header block)."""
    for row in css(driver, "#messages .row.pinned"):
        if row.find_elements(By.CSS_SELECTOR, ".bk-header"):
            return row
    return None


def type_in(driver, text: str) -> None:
    box = driver.find_element(By.ID, "message-input")
    box.click()
    box.send_keys(text, Keys.ENTER)


def as_user(driver, user_id: str) -> None:
    Select(driver.find_element(By.ID, "user-switcher")).select_by_value(user_id)
    wait(driver, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-me") == user_id
         and d.find_element(By.ID, "connection").get_attribute("data-state") == "live",
         f"the page showing what {user_id} sees")


def press(driver, action_id: str) -> None:
    """Press a button on the war-room card (found afresh: the card is edited live)."""
    retry(lambda: wait(driver, card, "the card").find_element(
        By.CSS_SELECTOR, f'button[data-action-id="{action_id}"]').click())


def modal_field(driver, block_id: str):
    return driver.find_element(By.CSS_SELECTOR,
                               f'#modal-body [data-block-id="{block_id}"][data-action-id]')


def test_an_incident_from_declare_to_resolved_in_the_browser(sandbox, browser):
    d = browser
    d.get(sandbox.url + "/")
    wait(d, lambda d: d.find_element(By.ID, "connection").get_attribute("data-state") == "live"
         and d.find_element(By.TAG_NAME, "body").get_attribute("data-me") == "U0ALICE", "the page live")
    assert d.find_element(By.ID, "speed").text == "60×"
    assert d.find_element(By.ID, "channel-title").text == "#general"
    switcher = [o.text for o in Select(d.find_element(By.ID, "user-switcher")).options]
    assert switcher[:4] == ["alice (On-call engineer)", "bob (On-call engineer)",
                            "carol (Engineering manager)", "dan (VP Engineering)"]

    # declare from #general: the ack is an ephemeral only alice sees
    type_in(d, "/incident declare P1 checkout is failing")
    wait(d, lambda d: any("Declaring a P1 incident" in r.text and "Only visible to you" in r.text
                          for r in css(d, "#messages .row.ephemeral")), "the declare ack")

    # the new channel appears in the sidebar; open it
    # read the name inside the wait: the sidebar re-renders live, so an element can go stale
    name = wait(d, lambda d: next((a.get_attribute("data-channel-name") for a in css(d, "#incidents a")
                                   if a.get_attribute("data-channel-name").endswith("-checkout-is-failing")), None),
                "the war-room channel in the sidebar")
    assert name.startswith("inc-")
    retry(lambda: d.find_element(By.CSS_SELECTOR, f'#incidents a[data-channel-name="{name}"]').click())
    wait(d, lambda d: d.find_element(By.ID, "channel-title").text == f"#{name}", "the channel open")

    # the pinned war-room card and the triage card
    wait(d, card, "the pinned war-room card")
    # live edits re-render the card: read it again rather than hold an element
    header, text = retry(lambda: (card(d).find_element(By.CSS_SELECTOR, ".bk-header").text,
                                  card(d).text))
    assert "checkout is failing" in header
    assert "📌 Pinned" in text and "INVESTIGATING" in text
    def triage_row(d):
        return next((r for r in css(d, "#messages .row")
                     if "Database unreachable" in r.text and "Runbook" in r.text), None)

    wait(d, triage_row, "the triage card")
    triage_text = retry(lambda: triage_row(d).text)
    assert "postgres" in triage_text and "First failure" in triage_text
    assert not css(d, '#messages a[href^="javascript"]')
    # its evidence is a thread reply, collapsed under it
    assert "1 reply" in retry(lambda: triage_row(d).find_element(By.CSS_SELECTOR, ".thread-toggle").text)
    retry(lambda: triage_row(d).find_element(By.CSS_SELECTOR, ".thread-toggle").click())
    wait(d, lambda d: any("Full evidence" in r.text for r in css(d, "#messages .replies .reply")),
         "the evidence thread")

    # a message with markup renders as text, mrkdwn as formatting
    type_in(d, "<img src=x onerror=alert(1)> *bold* _it_ `code` <javascript:alert(1)|click>")
    def my_row(d):
        return next((r for r in css(d, "#messages .row") if "onerror" in r.text), None)

    wait(d, my_row, "alice's message")
    imgs, bold, code, links = retry(lambda: (
        my_row(d).find_elements(By.TAG_NAME, "img"),
        [b.text for b in my_row(d).find_elements(By.CSS_SELECTOR, ".text b")],
        [c.text for c in my_row(d).find_elements(By.CSS_SELECTOR, ".text code")],
        my_row(d).find_elements(By.CSS_SELECTOR, "a")))
    assert not imgs and bold == ["bold"] and code == ["code"] and not links

    # a :pushpin: reaction from the message's hover menu
    def react():
        row = my_row(d)
        ActionChains(d).move_to_element(row).perform()
        row.find_element(By.CSS_SELECTOR, '.hover-actions [data-react="pushpin"]').click()
    retry(react)
    wait(d, lambda d: my_row(d).find_elements(By.CSS_SELECTOR, '.reaction[data-reaction="pushpin"]'),
         "the :pushpin: reaction")

    # bob (on call) acknowledges: the card changes in place
    as_user(d, "U0BOB")
    assert d.find_element(By.ID, "channel-title").text.startswith("#inc-")
    press(d, "incident_ack")
    wait(d, lambda d: card(d) is not None and "@bob after" in card(d).text
         and not card(d).find_elements(By.CSS_SELECTOR, '[data-action-id="incident_ack"]'),
         "the card acknowledged by bob")

    # Post update: a whitespace-only "What changed" is refused next to the field
    press(d, "incident_post_update")
    wait(d, lambda d: d.find_element(By.ID, "modal-backdrop").is_displayed(), "the update modal")
    Select(modal_field(d, "status")).select_by_value("identified")
    text = modal_field(d, "text")
    text.clear()
    text.send_keys("   ")
    d.find_element(By.ID, "modal-submit").click()
    error = wait(d, lambda d: next((e for e in css(d, '.field-error[data-error-for="text"]')
                                    if e.is_displayed() and e.text), None), "the error next to the field")
    assert d.find_element(By.CSS_SELECTOR, '.bk-input[data-block-id="text"]').get_attribute("class").count("has-error")
    assert error.text
    text = modal_field(d, "text")
    text.clear()
    text.send_keys("connection pool exhausted after the 14:10 deploy")
    eta = modal_field(d, "eta")
    eta.clear()
    eta.send_keys("15 minutes")
    d.find_element(By.ID, "modal-submit").click()
    wait(d, lambda d: not d.find_element(By.ID, "modal-backdrop").is_displayed(), "the modal closed")
    wait(d, lambda d: card(d) is not None and "connection pool exhausted" in card(d).text
         and "IDENTIFIED" in card(d).text, "the card showing the update")

    # the screenshot the README shows: the war room during the incident
    assert not d.find_element(By.ID, "tips").is_displayed()  # hidden once there is an incident
    d.execute_script("const m = document.getElementById('messages');"
                     "const c = [...m.querySelectorAll('.row.pinned')].find(r => r.querySelector('.bk-header'));"
                     "if (c) m.scrollTop = c.offsetTop - m.offsetTop - 8;")
    ActionChains(d).move_to_element(d.find_element(By.ID, "channel-title")).perform()  # no hover menus
    SCREENSHOT.parent.mkdir(exist_ok=True)
    assert d.save_screenshot(str(SCREENSHOT))

    # resolve: checks still fail, so the bot offers "Resolve anyway"
    press(d, "incident_resolve")
    wait(d, lambda d: d.find_element(By.ID, "modal-backdrop").is_displayed(), "the resolve modal")
    modal_field(d, "summary").send_keys("rolled back the 14:10 deploy")
    d.find_element(By.ID, "modal-submit").click()
    wait(d, lambda d: not d.find_element(By.ID, "modal-backdrop").is_displayed(), "the resolve modal closed")
    anyway = '#messages .row.ephemeral button[data-action-id="incident_resolve_anyway"]'
    wait(d, lambda d: css(d, anyway), "Resolve anyway, shown to bob only")
    retry(lambda: d.find_element(By.CSS_SELECTOR, anyway).click())
    wait(d, lambda d: card(d) is not None and "RESOLVED" in card(d).text
         and not card(d).find_elements(By.CSS_SELECTOR, ".bk-actions button"), "the resolved card")
    wait(d, lambda d: css(d, "#incidents li.resolved"), "the channel marked resolved in the sidebar")

    # alice never saw bob's ephemeral; bob never saw alice's
    as_user(d, "U0ALICE")
    assert not css(d, '#messages .row.ephemeral button[data-action-id="incident_resolve_anyway"]')
    retry(lambda: d.find_element(By.CSS_SELECTOR, '#channels a[data-channel-id="C0GENERAL"]').click())
    wait(d, lambda d: d.find_element(By.ID, "channel-title").text == "#general", "#general open")
    assert any("Declaring a P1 incident" in r.text for r in css(d, "#messages .row.ephemeral"))
    as_user(d, "U0BOB")
    assert not any("Declaring a P1 incident" in r.text for r in css(d, "#messages .row"))

    # and the page's script never failed
    errors = [e for e in d.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors
