"""End-to-end test of the chat web UI in headless Chromium, against a real `parley serve`.

The test owns the server process (it restarts it mid-test on the same database). Environment, as set by
scripts/browser-test.sh:
  PARLEY_SERVE_CMD   the server command line (shell words), e.g. "parley serve -m …gguf --ctx 2048 -t 2 --port N"
  PARLEY_URL         the server's base URL (http://127.0.0.1:N)
  PARLEY_HOME        the server's data directory (temporary; the database lives there)
  PARLEY_ARTIFACTS   where screenshots, the server log and downloads go (default .artifacts)
  CHROMIUM, CHROMEDRIVER   browser and driver binaries (default /usr/bin/chromium, /usr/bin/chromedriver)

The model is small and sometimes silly: the assertions are about structure, streaming and persistence, never
about what the model says.
"""
import json
import os
import shlex
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

pytestmark = pytest.mark.incremental

URL = os.environ.get("PARLEY_URL", "http://127.0.0.1:8080").rstrip("/")
ARTIFACTS = Path(os.environ.get("PARLEY_ARTIFACTS", ".artifacts")) / "browser"
REPLY_TIMEOUT = float(os.environ.get("PARLEY_REPLY_TIMEOUT", "90"))

ADMIN = {"name": "Ada Admin", "email": "ada@example.com", "password": "correct horse battery"}
OTHER = {"name": "Bob Other", "email": "bob@example.com", "password": "another long password"}
NONCE = "quokka"  # a word in a message, never in a title: search must look at message text

# Shared across the steps of the story.
ctx = {}
_driver = None
_shots = [0]


# ---------------------------------------------------------------- server process

class ParleyServer:
    def __init__(self):
        cmd = os.environ.get("PARLEY_SERVE_CMD")
        if not cmd:
            pytest.skip("PARLEY_SERVE_CMD is not set (run scripts/browser-test.sh)")
        self.argv = shlex.split(cmd)
        self.proc = None
        self.log_path = ARTIFACTS / "server.log"
        self.log = open(self.log_path, "ab")

    def start(self):
        self.log.write(f"\n===== start {time.strftime('%H:%M:%S')}: {shlex.join(self.argv)}\n".encode())
        self.log.flush()
        self.proc = subprocess.Popen(self.argv, stdout=self.log, stderr=subprocess.STDOUT, env=os.environ.copy(),
                                     start_new_session=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"parley serve exited with {self.proc.returncode}; see {self.log_path}")
            try:
                with urllib.request.urlopen(URL + "/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        raise AssertionError(f"parley serve not healthy after 120 s; see {self.log_path}")

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.log.write(f"===== stopped with {self.proc.returncode}\n".encode())
        self.log.flush()

    def restart(self):
        self.stop()
        self.start()


@pytest.fixture(scope="module")
def server():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    s = ParleyServer()
    s.start()
    yield s
    s.stop()
    s.log.close()


@pytest.fixture(scope="module")
def driver(server):
    global _driver
    opts = webdriver.ChromeOptions()
    opts.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1366,900", "--lang=en-US", "--no-first-run", "--password-store=basic"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"),
                      log_output=str(ARTIFACTS / "chromedriver.log"))
    d = webdriver.Chrome(service=service, options=opts)
    d.set_page_load_timeout(30)
    downloads = ARTIFACTS / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    d.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads.resolve())})
    ctx["console"] = []
    _driver = d
    yield d
    collect_console(d)
    (ARTIFACTS / "console.log").write_text("\n".join(json.dumps(e) for e in ctx["console"]))
    _driver = None
    d.quit()


# ---------------------------------------------------------------- helpers

def shot(name):
    _shots[0] += 1
    if _driver is not None:
        _driver.save_screenshot(str(ARTIFACTS / f"{_shots[0]:02d}-{name}.png"))


def screenshot_on_failure(test_name):
    try:
        shot(f"FAILED-{test_name}")
    except Exception:  # the browser may be gone; the failure itself is what matters
        pass


def collect_console(d):
    try:
        ctx["console"].extend(d.get_log("browser"))
    except Exception:
        pass


def wait(d, cond, timeout=20, msg=""):
    return WebDriverWait(d, timeout, poll_frequency=0.05,
                         ignored_exceptions=(StaleElementReferenceException,)).until(cond, msg)


def tid(name, extra=""):
    return (By.CSS_SELECTOR, f'[data-testid="{name}"]{extra}')


def find(d, name, extra=""):
    return d.find_element(*tid(name, extra))


def finds(d, name, extra=""):
    return d.find_elements(*tid(name, extra))


def visible(d, name, timeout=20):
    return wait(d, EC.visibility_of_element_located(tid(name)), timeout, f"{name} not visible")


def click(d, name, within=None, timeout=20):
    if within is None:
        el = wait(d, EC.element_to_be_clickable(tid(name)), timeout, f"{name} not clickable")
    else:
        ActionChains(d).move_to_element(within).perform()  # hover: some actions show on hover only
        el = within.find_element(*tid(name))
        wait(d, lambda _: el.is_displayed() and el.is_enabled(), timeout, f"{name} not clickable")
    d.execute_script("arguments[0].scrollIntoView({block: 'nearest'})", el)
    el.click()
    return el


def click_in_conversation(d, conv_id, name, timeout=10):
    """Hover a sidebar entry and click one of its buttons (re-finding it if the list re-renders meanwhile)."""
    def attempt(_):
        item = d.find_element(By.CSS_SELECTOR, f'[data-testid="conversation-item"][data-id="{conv_id}"]')
        ActionChains(d).move_to_element(item).perform()
        button = item.find_element(*tid(name))
        if not (button.is_displayed() and button.is_enabled()):
            return False
        button.click()
        return True
    wait(d, attempt, timeout, f"{name} of {conv_id} not clickable")


def fill(el, text):
    el.clear()
    el.send_keys(text)


def http(method, path, body=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(URL + path, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            raw = r.read()
            return r.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw.decode(errors="replace")


def browser_fetch_status(d, path):
    return d.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0], {credentials: 'same-origin'}).then(r => done(r.status), e => done(String(e)));", path)


def messages(d):
    """What the thread shows: one dict per message, top to bottom."""
    return d.execute_script("""
      return [...document.querySelectorAll('[data-testid="thread"] [data-testid="message"]')].map(m => ({
        id: m.dataset.id, role: m.dataset.role, status: m.dataset.status,
        branch: (m.querySelector('[data-testid="branch-label"]') || {}).textContent || null,
        up: (m.querySelector('[data-testid="thumb-up"]') || {getAttribute: () => null}).getAttribute('aria-pressed'),
        down: (m.querySelector('[data-testid="thumb-down"]') || {getAttribute: () => null}).getAttribute('aria-pressed'),
        comment: (m.querySelector('[data-testid="feedback-comment-shown"]') || {}).textContent || null,
        text: (m.querySelector('[data-testid="message-content"]') || {}).textContent || '',
      }));""")


def message_el(d, message_id):
    return d.find_element(By.CSS_SELECTOR, f'[data-testid="thread"] [data-testid="message"][data-id="{message_id}"]')


def idle(d):
    """No reply streaming and the post-stream refresh done."""
    return d.execute_script("return !document.body.hasAttribute('data-busy')")


def wait_idle(d, timeout=REPLY_TIMEOUT):
    wait(d, lambda _: idle(d), timeout, "the reply did not finish")


def watch_stream(d, timeout=REPLY_TIMEOUT):
    """Poll the streaming reply until it is done; return the distinct content lengths seen while it streamed."""
    wait(d, lambda _: d.execute_script("return document.body.hasAttribute('data-busy')") or idle(d), 10)
    lengths = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = d.execute_script("""
          const ms = document.querySelectorAll('[data-testid="thread"] [data-testid="message"][data-role="assistant"]');
          const last = ms[ms.length - 1];
          return {streaming: document.body.hasAttribute('data-busy'),
                  status: last ? last.dataset.status : null,
                  len: last ? last.querySelector('[data-testid="message-content"]').textContent.length : 0};""")
        if state["status"] == "generating" and state["len"] > 0 and (not lengths or lengths[-1] != state["len"]):
            lengths.append(state["len"])
        if not state["streaming"]:
            return lengths
        time.sleep(0.03)
    raise AssertionError(f"reply still streaming after {timeout} s")


def conversation_items(d):
    return d.execute_script("""
      return [...document.querySelectorAll('[data-testid="conversation-item"]')].map(c => ({
        id: c.dataset.id, title: c.querySelector('[data-testid="conversation-link"]').textContent}));""")


def send(d, text):
    box = visible(d, "composer-input")
    box.click()
    box.send_keys(text)
    box.send_keys(Keys.ENTER)


def sign_up(d, who):
    visible(d, "auth-email")
    click(d, "auth-mode-signup")
    fill(visible(d, "auth-name"), who["name"])
    fill(find(d, "auth-email"), who["email"])
    fill(find(d, "auth-password"), who["password"])
    click(d, "auth-submit")
    visible(d, "new-chat")
    wait(d, lambda _: find(d, "user-name").text == who["name"], 10, "user name not shown")


def sign_in(d, who):
    visible(d, "auth-email")
    click(d, "auth-mode-signin")
    fill(find(d, "auth-email"), who["email"])
    fill(find(d, "auth-password"), who["password"])
    click(d, "auth-submit")
    visible(d, "new-chat")


def sign_out(d):
    click(d, "sign-out")
    visible(d, "auth-email")


def open_settings(d, tab):
    click(d, "open-settings")
    visible(d, "settings-dialog")
    click(d, f"settings-tab-{tab}")


def close_settings(d):
    click(d, "settings-close")
    wait(d, lambda _: not find(d, "settings-dialog").is_displayed(), 5)


def switch_branch(d, message_id, direction):
    el = message_el(d, message_id)
    click(d, "branch-next" if direction > 0 else "branch-prev", within=el)
    wait_idle(d, 10)


def reload_and_open(d, conv_id):
    """A real page load (a get that changes only the hash would not reload)."""
    d.get("about:blank")
    d.get(f"{URL}/#/c/{conv_id}")
    visible(d, "composer-input")
    wait(d, lambda _: len(messages(d)) > 0, 20, "conversation did not load")


def view_state(d):
    """The parts of the thread that must survive a reload and a server restart."""
    return [{k: m[k] for k in ("id", "role", "status", "branch", "up", "down", "comment")} for m in messages(d)]


# ---------------------------------------------------------------- the story

def test_01_sign_up_first_user_is_admin(driver, server):
    d = driver
    d.get(URL + "/")
    visible(d, "auth-email")
    status, session = http("GET", "/api/session")
    assert status == 200 and session["user"] is None and session["signup_enabled"] is True
    shot("sign-up-screen")
    sign_up(d, ADMIN)
    visible(d, "empty-state")
    open_settings(d, "admin")  # the admin tab is shown to administrators only
    visible(d, "signup-toggle")
    close_settings(d)
    shot("signed-in")


def test_02_reply_streams_in(driver):
    d = driver
    # Shift+Enter is a new line (the box grows), not a send
    box = visible(d, "composer-input")
    one_line = box.size["height"]
    box.send_keys("first line", Keys.SHIFT, Keys.ENTER, Keys.NULL, "second line", Keys.SHIFT, Keys.ENTER, Keys.NULL, "third")
    assert box.get_attribute("value") == "first line\nsecond line\nthird"
    assert box.size["height"] > one_line, "the message box did not grow"
    assert messages(d) == []
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.DELETE)
    wait(d, lambda _: box.size["height"] == one_line, 5, "the message box did not shrink back")
    send(d, f"Write three short paragraphs about volcanoes. Remember the word {NONCE}.")
    wait(d, lambda _: any(m["role"] == "user" for m in messages(d)), 10, "user message not shown")
    lengths = watch_stream(d)
    assert len(lengths) >= 3, f"reply did not grow over several polls: {lengths}"
    # rendered text may dip for a moment (a closing ** turns markers into bold), but it grows overall
    assert lengths[-1] > lengths[0] and len(set(lengths)) >= 3, f"streamed text did not grow: {lengths}"
    shown = messages(d)
    assert [m["role"] for m in shown] == ["user", "assistant"], shown
    assert shown[1]["status"] in ("complete", "incomplete") and shown[1]["text"].strip(), shown
    assert "data-testid" not in shown[1]["text"]
    conv_id = d.execute_script("return location.hash").removeprefix("#/c/")
    assert conv_id, "no conversation id in the URL"
    ctx["conv_id"] = conv_id
    ctx["u1"], ctx["a1"] = shown[0]["id"], shown[1]["id"]
    ctx["a1_text"] = shown[1]["text"]
    wait(d, lambda _: any(c["id"] == conv_id and c["title"].strip() for c in conversation_items(d)), 10,
         "conversation not in the sidebar with a title")
    assert find(d, "chat-title").text.strip()
    shot("reply-streamed")


def test_03_regenerate_and_switch(driver):
    d = driver
    click(d, "regenerate", within=message_el(d, ctx["a1"]))
    lengths = watch_stream(d)
    assert lengths, "regenerated reply did not stream"
    shown = messages(d)
    assert len(shown) == 2 and shown[0]["id"] == ctx["u1"], shown
    a2 = shown[1]
    assert a2["id"] != ctx["a1"] and a2["branch"] == "2/2", shown
    ctx["a2"] = a2["id"]
    shot("regenerated-2of2")
    switch_branch(d, ctx["a2"], -1)
    shown = messages(d)
    assert shown[1]["id"] == ctx["a1"] and shown[1]["branch"] == "1/2", shown
    assert shown[1]["text"] == ctx["a1_text"]
    shot("switched-1of2")
    switch_branch(d, ctx["a1"], +1)
    shown = messages(d)
    assert shown[1]["id"] == ctx["a2"] and shown[1]["branch"] == "2/2", shown
    _, conv = http("GET", f"/api/conversations/{ctx['conv_id']}", headers=session_headers(d))
    assert conv["conversation"]["current_leaf_id"] == ctx["a2"], "switching did not set current_leaf_id"


def session_headers(d):
    c = d.get_cookie("parley_session")
    assert c, "no parley_session cookie"
    return {"Cookie": f"parley_session={c['value']}"}


def test_04_edit_first_message_branches(driver):
    d = driver
    click(d, "edit-message", within=message_el(d, ctx["u1"]))
    box = visible(d, "edit-input")
    fill(box, "Write a haiku about the sea.")
    click(d, "edit-save")
    watch_stream(d)
    shown = messages(d)
    assert len(shown) == 2 and shown[0]["id"] != ctx["u1"], shown
    assert shown[0]["branch"] == "2/2" and shown[0]["text"] == "Write a haiku about the sea.", shown
    assert shown[1]["branch"] is None, "a single reply needs no switcher"
    ctx["u1b"], ctx["a3"] = shown[0]["id"], shown[1]["id"]
    shot("edited-branch-2of2")
    # back to the first branch: its most recent path (the regenerated reply)
    switch_branch(d, ctx["u1b"], -1)
    shown = messages(d)
    assert [m["id"] for m in shown] == [ctx["u1"], ctx["a2"]], shown
    assert shown[0]["branch"] == "1/2" and shown[1]["branch"] == "2/2", shown
    shot("edited-back-to-1of2")


def test_05_thumbs_down_with_comment(driver):
    d = driver
    click(d, "thumb-down", within=message_el(d, ctx["a2"]))
    fill(visible(d, "feedback-comment"), "Too vague")
    click(d, "feedback-submit")
    wait(d, lambda _: not find(d, "feedback-dialog").is_displayed(), 10)
    wait(d, lambda _: messages(d)[1]["down"] == "true", 10, "thumb-down not shown as chosen")
    shown = messages(d)[1]
    assert shown["up"] == "false" and "Too vague" in (shown["comment"] or ""), shown
    _, conv = http("GET", f"/api/conversations/{ctx['conv_id']}", headers=session_headers(d))
    fb = {f["message_id"]: f for f in conv["feedback"]}
    assert fb[ctx["a2"]]["rating"] == -1 and fb[ctx["a2"]]["comment"] == "Too vague", conv["feedback"]
    shot("thumbs-down")


def test_06_rename_search_and_chat_settings(driver):
    d = driver
    click_in_conversation(d, ctx["conv_id"], "conv-rename")
    fill(visible(d, "confirm-input"), "Geology notes")
    click(d, "confirm-ok")
    wait(d, lambda _: {"id": ctx["conv_id"], "title": "Geology notes"} in conversation_items(d), 10, "rename not shown")
    assert find(d, "chat-title").text == "Geology notes"
    # search: a word only in a message finds it; a word nowhere finds nothing
    search = find(d, "search-input")
    fill(search, "zzyzxnomatch")
    wait(d, lambda _: not conversation_items(d) and "match" in find(d, "conversation-list-empty").text, 10,
         "search did not filter")
    fill(search, NONCE)
    wait(d, lambda _: [c["id"] for c in conversation_items(d)] == [ctx["conv_id"]], 10, "search by content failed")
    shot("search-by-content")
    search.send_keys(Keys.CONTROL, "a")
    search.send_keys(Keys.DELETE)
    wait(d, lambda _: len(conversation_items(d)) >= 1 and not finds(d, "conversation-list-empty"), 10)
    # per-conversation settings
    click(d, "conv-settings-toggle")
    fill(visible(d, "system-prompt"), "You are a terse geologist.")
    slider = find(d, "temperature")
    d.execute_script("arguments[0].value = '0.3'; arguments[0].dispatchEvent(new Event('input'))", slider)
    click(d, "conv-settings-save")
    wait(d, lambda _: "Saved" in d.find_element(By.ID, "conv-settings-status").text, 10)
    _, conv = http("GET", f"/api/conversations/{ctx['conv_id']}", headers=session_headers(d))
    assert conv["conversation"]["system_prompt"] == "You are a terse geologist."
    assert abs(conv["conversation"]["temperature"] - 0.3) < 1e-9
    shot("chat-settings")
    click(d, "conv-settings-toggle")
    # theme: switch to the other one, remembered across reloads
    before = d.execute_script("return document.documentElement.dataset.effectiveTheme")
    click(d, "theme-toggle")
    after = d.execute_script("return document.documentElement.dataset.effectiveTheme")
    assert after != before
    ctx["theme"] = after
    ctx["state"] = view_state(d)
    shot(f"theme-{after}")


def check_everything_is_back(d, label):
    reload_and_open(d, ctx["conv_id"])
    wait(d, lambda _: view_state(d) == ctx["state"], 15, f"{label}: thread differs: {view_state(d)} != {ctx['state']}")
    assert {"id": ctx["conv_id"], "title": "Geology notes"} in conversation_items(d)
    assert d.execute_script("return document.documentElement.dataset.effectiveTheme") == ctx["theme"]
    click(d, "conv-settings-toggle")
    assert find(d, "system-prompt").get_attribute("value") == "You are a terse geologist."
    assert abs(float(find(d, "temperature").get_attribute("value")) - 0.3) < 1e-9
    click(d, "conv-settings-toggle")
    shot(label)


def test_07_reload_keeps_everything(driver):
    check_everything_is_back(driver, "after-reload")


def test_08_server_restart_keeps_everything(driver, server):
    d = driver
    server.restart()
    check_everything_is_back(d, "after-restart")
    # switching still works against the restarted server, and is itself persisted
    switch_branch(d, ctx["u1"], +1)
    assert [m["id"] for m in messages(d)] == [ctx["u1b"], ctx["a3"]]
    reload_and_open(d, ctx["conv_id"])
    assert [m["id"] for m in messages(d)] == [ctx["u1b"], ctx["a3"]]
    shot("after-restart-switched")
    switch_branch(d, ctx["u1b"], -1)
    assert [m["id"] for m in messages(d)] == [ctx["u1"], ctx["a2"]]


def test_09_stop_generating(driver):
    d = driver
    click(d, "new-chat")
    visible(d, "empty-state")
    send(d, "List 200 animals, one per line, numbered.")  # ~1000 tokens from greedy SmolLM2: seconds of streaming
    # A small model may finish before Esc lands: then regenerate and try again (a few times at most).
    for attempt in range(3):
        wait(d, lambda _: any(m["role"] == "assistant" and m["status"] == "generating" and len(m["text"]) > 0
                              for m in messages(d)) or idle(d), REPLY_TIMEOUT, "no streaming reply to stop")
        if not idle(d):
            d.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
        wait_idle(d, 30)
        reply = messages(d)[-1]
        if reply["status"] == "incomplete" or attempt == 2:
            break
        click(d, "regenerate", within=message_el(d, reply["id"]))
    assert reply["role"] == "assistant" and reply["status"] == "incomplete", reply
    status = find(d, "message-status")
    assert status.get_attribute("data-state") == "stopped" and "Stopped" in status.text
    assert not find(d, "stop-button").is_displayed() and find(d, "send-button").is_displayed()
    conv_id = d.execute_script("return location.hash").removeprefix("#/c/")
    _, conv = http("GET", f"/api/conversations/{conv_id}", headers=session_headers(d))
    saved = {m["id"]: m for m in conv["messages"]}[reply["id"]]
    assert saved["status"] == "incomplete"
    # newest first in the sidebar
    wait(d, lambda _: conversation_items(d)[0]["id"] == conv_id, 10, "newest conversation is not first")
    ctx["stopped_conv"] = conv_id
    shot("stopped")
    # after a reload the reply is still marked as incomplete
    reload_and_open(d, conv_id)
    assert messages(d)[-1]["status"] == "incomplete" and find(d, "message-status").is_displayed()


def test_10_phone_layout(driver):
    d = driver
    d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                      {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True})
    try:
        reload_and_open(d, ctx["conv_id"])
        sidebar = find(d, "sidebar")
        wait(d, lambda _: d.execute_script("return arguments[0].getBoundingClientRect().right <= 0", sidebar), 5,
             "sidebar should be a closed drawer on a phone")
        assert d.execute_script("return document.documentElement.scrollWidth") <= 390, "page scrolls sideways"
        box = find(d, "composer-input").rect
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390 and box["y"] + box["height"] <= 844, box
        shot("phone-chat")
        click(d, "sidebar-open")
        wait(d, lambda _: d.execute_script("return arguments[0].getBoundingClientRect().left >= 0", sidebar), 5,
             "drawer did not open")
        time.sleep(0.25)  # the drawer's slide-in transition, for the screenshot
        shot("phone-drawer")
        link = d.find_element(By.CSS_SELECTOR, f'[data-testid="conversation-item"][data-id="{ctx["stopped_conv"]}"] a')
        link.click()
        wait(d, lambda _: d.execute_script("return arguments[0].getBoundingClientRect().right <= 0", sidebar), 5,
             "drawer did not close after choosing a chat")
        wait(d, lambda _: d.execute_script("return location.hash") == f"#/c/{ctx['stopped_conv']}", 5)
    finally:
        d.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_11_user_settings_keys_export_import(driver):
    d = driver
    d.get("about:blank")
    d.get(URL + "/")
    visible(d, "new-chat")
    # custom instructions persist
    open_settings(d, "instructions")
    fill(visible(d, "about-me"), "I am a geology student.")
    fill(find(d, "how-to-answer"), "Briefly.")
    click(d, "save-instructions")
    wait(d, lambda _: "Saved" in find(d, "instructions-status").text, 10)
    close_settings(d)
    open_settings(d, "instructions")
    wait(d, lambda _: find(d, "about-me").get_attribute("value") == "I am a geology student.", 10)
    # an API key, shown once
    click(d, "settings-tab-keys")
    fill(visible(d, "key-name"), "laptop")
    click(d, "create-key")
    secret = visible(d, "key-secret").text
    assert secret.startswith("pk-"), secret
    wait(d, lambda _: len(finds(d, "key-item")) == 1, 10)
    shot("api-key-created")
    close_settings(d)
    bearer = {"Authorization": f"Bearer {secret}"}
    status, models = http("GET", "/api/models", headers=bearer)
    assert status == 200 and models["models"], models
    status, reply = http("POST", "/v1/chat/completions", {
        "model": models["default"], "max_tokens": 8, "messages": [{"role": "user", "content": "Say hi."}]}, bearer)
    assert status == 200 and reply["choices"][0]["message"]["role"] == "assistant", reply
    status, listing = http("GET", "/api/conversations", headers=bearer)
    assert status == 200 and {ctx["conv_id"], ctx["stopped_conv"]} <= {c["id"] for c in listing["conversations"]}
    # a conversation made over the API shows up; delete it in the UI (with confirmation)
    status, scratch = http("POST", "/api/conversations", {"title": "Scratch"}, bearer)
    assert status == 201, scratch
    d.refresh()
    wait(d, lambda _: any(c["id"] == scratch["id"] for c in conversation_items(d)), 10)
    click_in_conversation(d, scratch["id"], "conv-delete")
    visible(d, "confirm-ok")
    shot("confirm-delete")
    click(d, "confirm-ok")
    wait(d, lambda _: all(c["id"] != scratch["id"] for c in conversation_items(d)), 10, "deleted chat still listed")
    assert http("GET", f"/api/conversations/{scratch['id']}", headers=bearer)[0] == 404
    # export downloads a JSON document with our conversations
    downloads = ARTIFACTS / "downloads"
    for f in downloads.glob("*"):
        f.unlink()
    open_settings(d, "data")
    click(d, "export-button")
    wait(d, lambda _: [f for f in downloads.glob("*.json")], 20, "no export downloaded")
    export_file = next(downloads.glob("*.json"))
    wait(d, lambda _: export_file.stat().st_size > 0 and not list(downloads.glob("*.crdownload")), 10)
    doc = json.loads(export_file.read_text())
    assert doc["version"] == 1 and {ctx["conv_id"], ctx["stopped_conv"]} <= {c["conversation"]["id"] for c in doc["conversations"]}
    # import it back: two more conversations
    before = len(conversation_items(d))
    find(d, "import-input").send_keys(str(export_file.resolve()))
    wait(d, lambda _: "Imported" in find(d, "data-status").text, 20, "import did not finish")
    n = len(doc["conversations"])
    assert f"Imported {n} conversation" in find(d, "data-status").text
    wait(d, lambda _: len(conversation_items(d)) == before + n, 10, "imported chats not listed")
    shot("imported")
    # revoke the key: it stops working
    click(d, "settings-tab-keys")
    click(d, "revoke-key")
    click(d, "confirm-ok")
    wait(d, lambda _: find(d, "key-item").get_attribute("data-revoked") == "true", 10)
    assert http("GET", "/api/conversations", headers=bearer)[0] == 401
    close_settings(d)


def test_12_admin_closes_and_opens_sign_up(driver):
    d = driver
    open_settings(d, "admin")
    toggle = visible(d, "signup-toggle")
    if not toggle.is_selected():
        toggle.click()
        wait(d, lambda _: toggle.is_selected() and toggle.is_enabled(), 10)
    toggle.click()  # close sign-up
    wait(d, lambda _: not toggle.is_selected() and toggle.is_enabled() and "closed" in find(d, "admin-status").text, 10)
    close_settings(d)
    sign_out(d)
    click(d, "auth-mode-signup")
    visible(d, "signup-closed")
    assert not find(d, "auth-submit").is_enabled()
    assert http("GET", "/api/session")[1]["signup_enabled"] is False
    shot("sign-up-closed")
    sign_in(d, ADMIN)
    open_settings(d, "admin")
    toggle = visible(d, "signup-toggle")
    toggle.click()
    wait(d, lambda _: toggle.is_selected() and toggle.is_enabled() and "open" in find(d, "admin-status").text, 10)
    close_settings(d)
    sign_out(d)
    shot("signed-out")


def test_13_second_user_sees_nothing_of_the_first(driver):
    d = driver
    sign_up(d, OTHER)
    wait(d, lambda _: finds(d, "conversation-list-empty"), 10, "second user should have no chats")
    assert conversation_items(d) == []
    # the settings of a non-admin have no admin tab
    open_settings(d, "general")
    assert not find(d, "settings-tab-admin").is_displayed()
    close_settings(d)
    # opening the first user's chat by URL shows nothing of it
    d.get("about:blank")
    d.get(f"{URL}/#/c/{ctx['conv_id']}")
    visible(d, "new-chat")
    wait(d, lambda _: any("not yours" in t.text or "does not exist" in t.text for t in finds(d, "toast")), 10,
         "no not-found message")
    assert messages(d) == []
    assert browser_fetch_status(d, f"/api/conversations/{ctx['conv_id']}") == 404
    assert http("GET", f"/api/conversations/{ctx['conv_id']}", headers=session_headers(d))[0] == 404
    fill(find(d, "search-input"), NONCE)
    wait(d, lambda _: "match" in find(d, "conversation-list-empty").text, 10, "search did not run")
    assert conversation_items(d) == []
    shot("second-user")


def test_13b_crisis_message_shows_resource_card(driver):
    d = driver
    # an ordinary figure of speech: a reply, no card
    click(d, "new-chat")
    send(d, "this traffic is killing me")
    wait(d, lambda _: any(m["role"] == "assistant" for m in messages(d)), 20, "no reply started")
    wait_idle(d)
    assert not finds(d, "wellbeing-card")
    # a message of acute risk: the card appears above the reply, with the lines and their sources
    click(d, "new-chat")
    wait(d, lambda _: messages(d) == [], 10, "new chat not empty")
    send(d, "I have the pills ready and I'm going to end my life tonight")
    visible(d, "wellbeing-card", timeout=30)
    wait_idle(d)
    shown = messages(d)
    assert [m["role"] for m in shown] == ["user", "assistant"], shown
    assert shown[1]["text"].strip(), "the reply did not stream"
    above = d.execute_script("""
      const card = document.querySelector('[data-testid="thread"] [data-testid="wellbeing-card"]');
      const next = card && card.nextElementSibling;
      return next ? next.dataset.role : null;""")
    assert above == "assistant", above
    lines = finds(d, "wellbeing-line")
    assert lines and all(line.text.strip() for line in lines)
    sources = [a.get_attribute("href") for a in finds(d, "wellbeing-source")]
    assert len(sources) == len(lines) and all(h.startswith("http") for h in sources), sources
    shot("wellbeing-card")
    click(d, "wellbeing-dismiss")
    wait(d, lambda _: not finds(d, "wellbeing-card"), 5, "the card was not dismissed")
    assert [m["role"] for m in messages(d)] == ["user", "assistant"]


def test_14_no_script_errors_or_csp_violations(driver):
    collect_console(driver)
    bad = [e for e in ctx["console"] if e.get("level") == "SEVERE"
           and ("Content Security Policy" in e.get("message", "") or "Uncaught" in e.get("message", ""))]
    assert not bad, bad
