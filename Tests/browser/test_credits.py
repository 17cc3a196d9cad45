"""Browser test of the compute-credits pages (/ui/credits.html) in headless Chromium: request → decision → usage
→ report. Self-contained: it starts its own `parley serve` on a free port with a temporary PARLEY_HOME and stops
it. The parley binary is PARLEY_BIN, else the first word of PARLEY_SERVE_CMD (as scripts/browser-test.sh sets);
the model is SmolLM2 from PARLEY_TEST_MODELS (default .models).
"""
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from browser_support import chromium

pytestmark = pytest.mark.incremental

ARTIFACTS = Path(os.environ.get("PARLEY_ARTIFACTS", ".artifacts")) / "browser-credits"
USERS = {
    "admin": ("ada@example.com", "correct horse battery"),
    "lead": ("lena@example.com", "lead password long"),
    "reviewer": ("rita@example.com", "reviewer password long"),
}
ctx = {}
_driver = None


def parley_binary():
    if os.environ.get("PARLEY_BIN"):
        return os.environ["PARLEY_BIN"]
    cmd = os.environ.get("PARLEY_SERVE_CMD")
    if cmd:
        return shlex.split(cmd)[0]
    pytest.skip("neither PARLEY_BIN nor PARLEY_SERVE_CMD is set (run scripts/browser-test.sh)")


@pytest.fixture(scope="module")
def server():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    model = Path(os.environ.get("PARLEY_TEST_MODELS", ".models")) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    if not model.exists():
        pytest.skip(f"missing {model}")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    home = tempfile.mkdtemp(prefix="parley-credits-")
    env = {**os.environ, "PARLEY_HOME": home}
    env.pop("PARLEY_API_KEY", None)
    log = open(ARTIFACTS / "server.log", "ab")
    proc = subprocess.Popen([parley_binary(), "serve", "-m", str(model), "--ctx", "1024", "-t", "2", "--host", "127.0.0.1",
                             "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"parley serve exited with {proc.returncode}; see {ARTIFACTS / 'server.log'}")
        try:
            with urllib.request.urlopen(url + "/health", timeout=2) as r:
                if r.status == 200:
                    break
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            raise AssertionError("parley serve not healthy after 120 s")
        time.sleep(0.1)
    ctx["url"] = url
    yield url
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
    log.close()
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module")
def driver(server):
    global _driver
    d = chromium()
    _driver = d
    yield d
    _driver = None
    d.quit()


def screenshot_on_failure(test_name):
    if _driver is not None:
        _driver.save_screenshot(str(ARTIFACTS / f"failed-{test_name}.png"))


# ---------------------------------------------------------------- helpers

def wait(d, cond, timeout=20, msg=""):
    return WebDriverWait(d, timeout, poll_frequency=0.1).until(cond, msg)


def tid(name):
    return f'[data-testid="{name}"]'


def visible(d, name, timeout=20):
    return wait(d, lambda d: next((e for e in d.find_elements(By.CSS_SELECTOR, tid(name)) if e.is_displayed()), None),
                timeout, f"{name} not visible")


def fill(el, text):
    el.clear()
    el.send_keys(text)


def fetch(d, method, path, body=None):
    """A same-origin fetch from the page: the browser's cookie goes along, as the app's own calls."""
    return d.execute_async_script("""
        const [method, path, body, done] = arguments;
        const headers = {'Content-Type': 'application/json'};
        fetch('/api/session').then(r => r.json()).then(s => {
          if (s.csrf_token) headers['X-CSRF-Token'] = s.csrf_token;
          return fetch(path, {method, headers, body: body === null ? undefined : JSON.stringify(body)});
        }).then(async r => done({status: r.status, text: await r.text()})).catch(e => done({status: 0, text: String(e)}));
    """, method, path, body)


def sign_in(d, who):
    email, password = USERS[who]
    d.get(ctx["url"] + "/ui/credits.html")
    r = fetch(d, "POST", "/api/auth/signin", {"email": email, "password": password})
    assert r["status"] == 200, r
    d.get(ctx["url"] + "/ui/credits.html")
    wait(d, lambda d: d.find_element(By.CSS_SELECTOR, tid("credits-user")).text != "", msg="credits page did not load")


def cell_text(row, name):
    return row.find_element(By.CSS_SELECTOR, tid(name)).text


# ---------------------------------------------------------------- the story

def test_accounts(driver):
    d = driver
    d.get(ctx["url"] + "/")
    for who in ("admin", "lead", "reviewer"):  # the first account is the admin
        email, password = USERS[who]
        r = fetch(d, "POST", "/api/auth/signup", {"email": email, "password": password, "display_name": who})
        assert r["status"] == 201, r
    sign_in(d, "admin")
    # The chat app links to the credits pages.
    d.get(ctx["url"] + "/")
    assert visible(d, "open-credits").get_attribute("href").endswith("/ui/credits.html")


def test_admin_sets_up_an_area_and_a_reviewer(driver):
    d = driver
    sign_in(d, "admin")
    visible(d, "admin-section")
    fill(visible(d, "area-name"), "core LLM")
    visible(d, "area-create").click()
    wait(d, lambda d: "core LLM" in d.find_element(By.CSS_SELECTOR, tid("reviewer-area")).text, msg="area not listed")
    fill(visible(d, "reviewer-user"), USERS["reviewer"][0])
    visible(d, "reviewer-add").click()
    wait(d, lambda d: d.find_element(By.CSS_SELECTOR, tid("reviewer-user")).get_attribute("value") == "", msg="reviewer not added")
    assert not d.find_element(By.CSS_SELECTOR, tid("credits-error")).is_displayed()


def test_lead_opens_a_project_and_requests_credits(driver):
    d = driver
    sign_in(d, "lead")
    assert not d.find_element(By.CSS_SELECTOR, tid("admin-section")).is_displayed()
    fill(visible(d, "project-name"), "tokenizer")
    visible(d, "project-create").click()
    visible(d, "project-detail")
    fill(visible(d, "request-amount"), "50")
    fill(visible(d, "request-justification"), "Evaluation runs for the new tokenizer")
    fill(visible(d, "request-outcome"), "A comparison table")
    visible(d, "request-submit").click()
    row = wait(d, lambda d: d.find_element(By.CSS_SELECTOR, tid("request-row")), msg="request not listed")
    assert cell_text(row, "request-status") == "pending"
    visible(d, "key-create").click()
    key = wait(d, lambda d: visible(d, "key-secret").text, msg="no key shown")
    assert key.startswith("pk-")
    ctx["key"] = key


def test_reviewer_needs_a_reason_then_grants_part(driver):
    d = driver
    sign_in(d, "reviewer")
    item = visible(d, "review-item")
    assert "tokenizer" in item.text and "50" in item.text
    item.find_element(By.CSS_SELECTOR, tid("decision-deny")).click()
    error = visible(d, "credits-error")
    assert "reason" in error.text.lower()
    fill(item.find_element(By.CSS_SELECTOR, tid("decision-amount")), "30")
    fill(item.find_element(By.CSS_SELECTOR, tid("decision-reason")), "Half the budget goes to the main line this quarter")
    item.find_element(By.CSS_SELECTOR, tid("decision-partial")).click()
    visible(d, "review-empty")


def test_usage_is_metered_against_the_grant(driver):
    d = driver
    auth = {"Authorization": f"Bearer {ctx['key']}"}
    with urllib.request.urlopen(urllib.request.Request(ctx["url"] + "/v1/models", headers=auth), timeout=30) as r:
        model = json.loads(r.read())["data"][0]["id"]
    req = urllib.request.Request(ctx["url"] + "/v1/chat/completions", method="POST",
                                 headers={**auth, "Content-Type": "application/json"},
                                 data=json.dumps({"model": model, "messages": [{"role": "user", "content": "Say hello."}],
                                                  "max_tokens": 8, "temperature": 0}).encode())
    with urllib.request.urlopen(req, timeout=120) as r:
        reply = json.loads(r.read())
    usage = reply["usage"]
    ctx["used"] = (usage["prompt_tokens"] + usage["completion_tokens"]) / 1000  # default prices: 1 credit per 1k tokens
    sign_in(d, "lead")
    row = visible(d, "project-row")
    remaining = float(cell_text(row, "project-remaining").replace(",", ""))
    assert abs(remaining - (30 - ctx["used"])) < 1e-6, (remaining, ctx["used"])
    row.find_element(By.CSS_SELECTOR, tid("project-open")).click()
    status = wait(d, lambda d: d.find_element(By.CSS_SELECTOR, tid("request-status")).text, msg="no request row")
    assert status == "partial"


def test_report_shows_requested_granted_and_used(driver):
    d = driver
    row = wait(d, lambda d: d.find_element(By.CSS_SELECTOR, '[data-testid="report-row"][data-area="core LLM"]'),
               msg="no report row")
    assert cell_text(row, "report-requested") == "50"
    assert cell_text(row, "report-granted") == "30"
    assert abs(float(cell_text(row, "report-used")) - ctx["used"]) < 1e-6
    csv = fetch(d, "GET", visible(d, "report-csv").get_attribute("href").replace(ctx["url"], ""))
    assert csv["status"] == 200 and csv["text"].startswith("research_area,")
    assert "core LLM,1,1,50,30,1," in csv["text"]
