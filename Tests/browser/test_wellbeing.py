"""The wellbeing safeguards in the web UI, in headless Chromium against a `parley serve` of this test's own (own port,
own PARLEY_HOME, a policy file and a simulated clock):
  - no resource card for "this traffic is killing me"; the card and the honest review notice for a crisis message;
  - a break reminder after the policy's session length (the clock is moved forward, not waited for), and snooze;
  - the human-review queue shows the case to the admin, with its audit trail, and records what the admin does.

Run by scripts/browser-test.sh, which sets PARLEY_SERVE_CMD (this test reuses its binary and model, not its port),
CHROMIUM and CHROMEDRIVER. The model's words are never asserted.
"""
import json
import os
import shlex
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait
from browser_support import chromium, free_port

pytestmark = pytest.mark.incremental

ARTIFACTS = Path(os.environ.get("PARLEY_ARTIFACTS", ".artifacts")) / "browser-wellbeing"
REPLY_TIMEOUT = float(os.environ.get("PARLEY_REPLY_TIMEOUT", "90"))
ADMIN = {"name": "Wanda Admin", "email": "wanda@example.com", "password": "correct horse battery"}
CRISIS = "I have the pills ready and I'm going to end my life tonight"
REVIEW_NOTICE = "A trained person on this service may look at the risk level of this chat, never your words."
SESSION_MINUTES = 60

ctx = {}
_driver = None


def policy():
    """The built-in policy's shape with the thresholds this test needs: a reminder after 60 minutes of one session
    (gaps up to a day keep it going, late night never triggers), and the user's notice for review cases."""
    return {
        "version": 1,
        "actions": {"self_harm_acute": "crisis_support", "self_harm_ideation": "gentle_check_in",
                    "psychosis_mania": "ground_and_reality_check", "emotional_reliance": "encourage_human_connection",
                    "distress_other": "gentle_check_in"},
        "breakReminders": {"enabled": True, "continuousMinutes": SESSION_MINUTES, "sessionGapMinutes": 1440,
                           "lateNightMinutes": 1440, "repeatAfterMinutes": 60},
        "humanReview": {"userMessage": REVIEW_NOTICE},
    }


class Server:
    def __init__(self):
        cmd = os.environ.get("PARLEY_SERVE_CMD")
        if not cmd:
            pytest.skip("PARLEY_SERVE_CMD is not set (run scripts/browser-test.sh)")
        argv = shlex.split(cmd)
        if "--port" in argv:
            i = argv.index("--port")
            del argv[i:i + 2]
        self.home = Path(tempfile.mkdtemp(prefix="parley-wellbeing-"))
        self.policy = self.home / "policy.json"
        self.policy.write_text(json.dumps(policy()))
        self.clock = self.home / "clock"
        self.move_clock(0)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.argv = argv + ["--port", str(self.port), "--wellbeing-policy", str(self.policy),
                            "--wellbeing-test-clock", str(self.clock)]
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.log = open(ARTIFACTS / "server.log", "ab")
        env = dict(os.environ, PARLEY_HOME=str(self.home))
        self.proc = subprocess.Popen(self.argv, stdout=self.log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"parley serve exited with {self.proc.returncode}; see {ARTIFACTS / 'server.log'}")
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        raise AssertionError("parley serve not healthy after 120 s")

    def move_clock(self, seconds):
        """The server's wellbeing clock runs `seconds` ahead of the real one from now on."""
        tmp = self.clock.with_suffix(".tmp")
        tmp.write_text(str(seconds))
        tmp.replace(self.clock)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log.close()
        subprocess.run(["rm", "-rf", str(self.home)], check=False)


@pytest.fixture(scope="module")
def server():
    s = Server()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def driver(server):
    global _driver
    d = chromium(driver_log=ARTIFACTS / "chromedriver.log", console_logs=True)
    _driver = d
    yield d
    _driver = None
    d.quit()


def screenshot_on_failure(test_name):
    try:
        if _driver is not None:
            _driver.save_screenshot(str(ARTIFACTS / f"FAILED-{test_name}.png"))
    except Exception:  # the browser may be gone; the failure itself is what matters
        pass


def wait(d, cond, timeout=20, msg=""):
    return WebDriverWait(d, timeout, poll_frequency=0.05,
                         ignored_exceptions=(StaleElementReferenceException,)).until(cond, msg)


def tid(name):
    return (By.CSS_SELECTOR, f'[data-testid="{name}"]')


def finds(d, name):
    return d.find_elements(*tid(name))


def visible(d, name, timeout=20):
    return wait(d, EC.visibility_of_element_located(tid(name)), timeout, f"{name} not visible")


def click(d, name, timeout=20):
    el = wait(d, EC.element_to_be_clickable(tid(name)), timeout, f"{name} not clickable")
    d.execute_script("arguments[0].scrollIntoView({block: 'nearest'})", el)
    el.click()
    return el


def idle(d):
    return d.execute_script("return !document.body.hasAttribute('data-busy')")


def send_and_wait(d, text):
    box = visible(d, "composer-input")
    box.click()
    box.send_keys(text)
    box.send_keys(Keys.ENTER)
    wait(d, lambda _: d.find_elements(By.CSS_SELECTOR, '[data-testid="message"][data-role="assistant"]'), 30,
         "no reply started")
    wait(d, lambda _: idle(d), REPLY_TIMEOUT, "the reply did not finish")


# ---------------------------------------------------------------- the story

def test_01_sign_up(driver, server):
    d = driver
    d.get(server.url + "/")
    visible(d, "auth-email")
    click(d, "auth-mode-signup")
    for field, value in (("auth-name", ADMIN["name"]), ("auth-email", ADMIN["email"]), ("auth-password", ADMIN["password"])):
        el = visible(d, field)
        el.clear()
        el.send_keys(value)
    click(d, "auth-submit")
    visible(d, "new-chat")


def test_02_no_card_for_a_figure_of_speech(driver):
    d = driver
    send_and_wait(d, "this traffic is killing me")
    assert not finds(d, "wellbeing-card")
    assert not finds(d, "review-notice")
    assert not finds(d, "break-reminder"), "the session has only just begun"


def test_03_crisis_card_review_notice_and_break_reminder(driver, server):
    d = driver
    # An hour and a bit later, by the server's clock, in the same session.
    server.move_clock((SESSION_MINUTES + 5) * 60)
    click(d, "new-chat")
    wait(d, lambda _: not d.find_elements(By.CSS_SELECTOR, '[data-testid="thread"] [data-testid="message"]'), 10)
    send_and_wait(d, CRISIS)
    visible(d, "wellbeing-card", timeout=30)
    notice = visible(d, "review-notice")
    assert notice.text.startswith(REVIEW_NOTICE), notice.text
    reminder = visible(d, "break-reminder", timeout=30)  # asked for when the reply finished
    assert reminder.get_attribute("data-reason") == "long_session"
    assert "chatting for" in reminder.text, reminder.text
    d.save_screenshot(str(ARTIFACTS / "crisis-and-break.png"))
    click(d, "break-snooze")
    wait(d, lambda _: not finds(d, "break-reminder"), 5, "the reminder stayed after snooze")


def test_04_review_queue_shows_the_case_to_the_admin(driver):
    d = driver
    click(d, "open-settings")
    visible(d, "settings-dialog")
    click(d, "settings-tab-review")
    case = visible(d, "review-case")
    assert "self harm acute" in case.text and "severity 3" in case.text and ADMIN["email"] in case.text, case.text
    case.click()
    status = visible(d, "review-case-status")
    assert status.text == "open"
    trail = visible(d, "review-events").text
    assert "system: opened" in trail and f"{ADMIN['email']}: viewed" in trail, trail
    assert "pills" not in d.find_element(By.CSS_SELECTOR, ".settings-body").text, "no message text in the queue"
    visible(d, "review-note").send_keys("Checked in with the user")
    click(d, "review-take")
    wait(d, lambda _: visible(d, "review-case-status").text == "in review", 10, "status not changed")
    trail = visible(d, "review-events").text
    assert "(in_review)" in trail and "Checked in with the user" in trail, trail
    d.save_screenshot(str(ARTIFACTS / "review-queue.png"))


def test_05_the_user_sees_their_usage_and_records(driver):
    d = driver
    click(d, "settings-tab-wellbeing")
    hours = visible(d, "wellbeing-hours")
    assert "limit" in hours.text
    summary = visible(d, "wellbeing-records-summary").text
    assert "1 kept" in summary and "self harm acute" in summary, summary


def test_06_no_script_errors_or_csp_violations(driver):
    bad = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"
           and ("Content Security Policy" in e.get("message", "") or "Uncaught" in e.get("message", ""))]
    assert not bad, bad
