"""Memory in the web UI, in headless Chromium against a `parley serve` of this test's own (own port, own PARLEY_HOME,
the all-MiniLM-L6-v2 embedding model):
  - "remember …" shows the "memory updated" notice; its Undo takes the memory back out;
  - a new chat that asks about the fact shows the memory it used under the reply (what was injected);
  - the memory page lists it; deleting it there means the next chat no longer uses it;
  - a temporary chat neither reads nor writes memory.

Run by scripts/browser-test.sh, which sets PARLEY_SERVE_CMD (this test reuses its binary and model, not its port),
PARLEY_EMBEDDING_MODEL_DIR, CHROMIUM and CHROMEDRIVER. The model's words are never asserted: a 135M model's reply is
unreliable, so the test checks what the app shows about memory.
"""
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

ARTIFACTS = Path(os.environ.get("PARLEY_ARTIFACTS", ".artifacts")) / "browser-memory"
REPLY_TIMEOUT = float(os.environ.get("PARLEY_REPLY_TIMEOUT", "90"))
USER = {"name": "Mona Memory", "email": "mona@example.com", "password": "correct horse battery"}
FACT = "my favourite colour is teal"

_driver = None


class Server:
    def __init__(self):
        cmd = os.environ.get("PARLEY_SERVE_CMD")
        if not cmd:
            pytest.skip("PARLEY_SERVE_CMD is not set (run scripts/browser-test.sh)")
        encoder = os.environ.get("PARLEY_EMBEDDING_MODEL_DIR") or str(Path(os.environ.get("PARLEY_TEST_MODELS", ".models")) / "all-MiniLM-L6-v2")
        if not Path(encoder, "config.json").is_file():
            pytest.fail(f"no embedding model at {encoder} (scripts/fetch-test-models.sh)")
        argv = shlex.split(cmd)
        if "--port" in argv:
            i = argv.index("--port")
            del argv[i:i + 2]
        self.home = Path(tempfile.mkdtemp(prefix="parley-memory-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.argv = argv + ["--port", str(self.port), "--embedding-model", encoder]
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


def tid(name, extra=""):
    return (By.CSS_SELECTOR, f'[data-testid="{name}"]{extra}')


def finds(d, name, extra=""):
    return d.find_elements(*tid(name, extra))


def visible(d, name, timeout=20):
    return wait(d, EC.visibility_of_element_located(tid(name)), timeout, f"{name} not visible")


def click(d, name, timeout=20):
    el = wait(d, EC.element_to_be_clickable(tid(name)), timeout, f"{name} not clickable")
    d.execute_script("arguments[0].scrollIntoView({block: 'nearest'})", el)
    el.click()
    return el


def idle(d):
    return d.execute_script("return !document.body.hasAttribute('data-busy')")


def clear_notices(d):
    d.execute_script("document.querySelectorAll('[data-testid=\"memory-notice\"]').forEach(n => n.remove())")


def new_chat(d):
    click(d, "new-chat")
    wait(d, lambda _: not d.find_elements(By.CSS_SELECTOR, '[data-testid="thread"] [data-testid="message"]'), 10,
         "the thread did not clear")


def send_and_wait(d, text):
    box = visible(d, "composer-input")
    box.click()
    box.send_keys(text)
    box.send_keys(Keys.ENTER)
    wait(d, lambda _: d.find_elements(By.CSS_SELECTOR, '[data-testid="message"][data-role="assistant"]'), 30,
         "no reply started")
    wait(d, lambda _: idle(d), REPLY_TIMEOUT, "the reply did not finish")


def last_reply(d):
    replies = d.find_elements(By.CSS_SELECTOR, '[data-testid="thread"] [data-testid="message"][data-role="assistant"]')
    assert replies, "no reply shown"
    return replies[-1]


def used_memories(reply):
    """The memories the app says went into this reply (the chip under it lists what was injected)."""
    return [li.get_attribute("textContent") for li in reply.find_elements(*tid("memory-used-item"))]


def open_memory_page(d):
    click(d, "open-settings")
    visible(d, "settings-dialog")
    click(d, "settings-tab-memory")
    wait(d, lambda _: finds(d, "memory-item") or finds(d, "memory-empty"), 10, "the memory list did not load")


def memory_texts(d):
    return [n.text for n in finds(d, "memory-text")]


def close_settings(d):
    click(d, "settings-close")
    wait(d, lambda _: not d.find_element(*tid("settings-dialog")).is_displayed(), 5)


# ---------------------------------------------------------------- the story

def test_01_sign_up(driver, server):
    d = driver
    d.get(server.url + "/")
    visible(d, "auth-email")
    click(d, "auth-mode-signup")
    for field, value in (("auth-name", USER["name"]), ("auth-email", USER["email"]), ("auth-password", USER["password"])):
        el = visible(d, field)
        el.clear()
        el.send_keys(value)
    click(d, "auth-submit")
    visible(d, "new-chat")


def test_02_remember_shows_the_notice_and_undo_takes_it_back(driver):
    d = driver
    send_and_wait(d, "Remember that my favourite colour is teal.")
    notice = visible(d, "memory-notice")
    assert notice.get_attribute("data-action") == "remembered"
    assert FACT in notice.text, notice.text
    d.save_screenshot(str(ARTIFACTS / "memory-updated.png"))
    notice.find_element(*tid("memory-undo")).click()
    visible(d, "memory-undone")
    open_memory_page(d)
    assert finds(d, "memory-empty") and not memory_texts(d), memory_texts(d)
    close_settings(d)
    clear_notices(d)
    # Said again, in a new chat: kept this time.
    new_chat(d)
    send_and_wait(d, "Remember that my favourite colour is teal.")
    assert visible(d, "memory-notice").get_attribute("data-action") == "remembered"
    clear_notices(d)


def test_03_a_new_chat_uses_the_memory_and_shows_it(driver):
    d = driver
    new_chat(d)
    send_and_wait(d, "What is my favourite colour?")
    reply = last_reply(d)
    summary = reply.find_element(*tid("memory-used-summary"))
    assert summary.text == "Used 1 memory", summary.text
    assert used_memories(reply) == [FACT], used_memories(reply)
    assert not finds(d, "memory-notice"), "asking saves nothing"
    d.save_screenshot(str(ARTIFACTS / "memory-used.png"))


def test_04_the_memory_page_lists_searches_and_deletes_it(driver):
    d = driver
    open_memory_page(d)
    wait(d, lambda _: memory_texts(d) == [FACT], 10, f"the memory page shows {memory_texts(d)}")
    search = visible(d, "memory-search")
    search.send_keys("which colour do I like")
    wait(d, lambda _: "found" in visible(d, "memory-status").text, 10, "search did not run")
    assert memory_texts(d) == [FACT]
    item = finds(d, "memory-item")[0]
    item.find_element(*tid("memory-delete")).click()
    click(d, "confirm-ok")
    wait(d, lambda _: finds(d, "memory-empty"), 10, "the memory was not deleted")
    close_settings(d)


def test_05_a_deleted_memory_is_no_longer_used(driver):
    d = driver
    new_chat(d)
    send_and_wait(d, "What is my favourite colour?")
    assert FACT not in used_memories(last_reply(d))
    assert not any("teal" in t for t in used_memories(last_reply(d)))


def test_06_a_temporary_chat_leaves_no_memory(driver):
    d = driver
    clear_notices(d)
    new_chat(d)
    toggle = click(d, "temporary-toggle")
    wait(d, lambda _: toggle.get_attribute("aria-pressed") == "true", 5, "temporary mode did not turn on")
    visible(d, "temporary-badge")
    send_and_wait(d, "Remember that I have a dog named Rex. I work as a pilot for a small airline.")
    reply = last_reply(d)
    assert reply.find_elements(*tid("memory-temporary")), "the reply says memory was not used"
    assert not used_memories(reply)
    assert not finds(d, "memory-notice"), "nothing was saved"
    visible(d, "temporary-badge")
    d.save_screenshot(str(ARTIFACTS / "temporary-chat.png"))
    open_memory_page(d)
    assert finds(d, "memory-empty") and not memory_texts(d), memory_texts(d)
    close_settings(d)
    # Temporary mode off again: the next chat reads memory as before, and nothing of the temporary one.
    new_chat(d)
    click(d, "temporary-toggle")
    wait(d, lambda _: d.find_element(*tid("temporary-toggle")).get_attribute("aria-pressed") == "false", 5)
    send_and_wait(d, "What is my dog called?")
    reply = last_reply(d)
    assert not any("Rex" in t for t in used_memories(reply))
    assert not any("Rex" in li.get_attribute("textContent") for li in reply.find_elements(*tid("memory-history-item")))


def test_07_no_script_errors_or_csp_violations(driver):
    bad = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"
           and ("Content Security Policy" in e.get("message", "") or "Uncaught" in e.get("message", ""))]
    assert not bad, bad
