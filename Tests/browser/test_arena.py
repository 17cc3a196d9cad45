"""Browser test of the arena (/ui/arena.html) in headless Chromium: the admin adds a provider (a second
`parley serve` on another loopback port, guarded by a key, standing in for a competitor's API), asks one prompt,
sees two anonymous answers stream side by side, votes, sees who was who, and the leaderboard counts the vote.
Self-contained like test_credits.py: it starts and stops both servers, each with its own temporary PARLEY_HOME.
"""
import math
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from browser_support import chromium, free_port

pytestmark = pytest.mark.incremental

ARTIFACTS = Path(os.environ.get("PARLEY_ARTIFACTS", ".artifacts")) / "browser-arena"
ADMIN = ("ada@example.com", "correct horse battery")
PROVIDER_KEY = "sk-arena-test-provider-key-42"
LOCAL_MODEL = "SmolLM2-135M-Instruct.Q4_1"
ctx = {}
_driver = None


def parley_binary():
    if os.environ.get("PARLEY_BIN"):
        return os.environ["PARLEY_BIN"]
    cmd = os.environ.get("PARLEY_SERVE_CMD")
    if cmd:
        return shlex.split(cmd)[0]
    pytest.skip("neither PARLEY_BIN nor PARLEY_SERVE_CMD is set (run scripts/browser-test.sh)")


def start_serve(model, name, extra):
    port = free_port()
    home = tempfile.mkdtemp(prefix=f"parley-arena-{name}-")
    env = {**os.environ, "PARLEY_HOME": home}
    env.pop("PARLEY_API_KEY", None)
    log = open(ARTIFACTS / f"{name}.log", "ab")
    proc = subprocess.Popen([parley_binary(), "serve", "-m", str(model), "--ctx", "1024", "-t", "1", "--host", "127.0.0.1",
                             "--port", str(port), *extra], stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"parley serve ({name}) exited with {proc.returncode}; see {ARTIFACTS / (name + '.log')}")
        try:
            with urllib.request.urlopen(url + "/health", timeout=2) as r:
                if r.status == 200:
                    break
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"parley serve ({name}) not healthy after 120 s")
        time.sleep(0.1)
    return proc, log, home, url


def stop_serve(proc, log, home):
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
    log.close()
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module")
def server():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    model = Path(os.environ.get("PARLEY_TEST_MODELS", ".models")) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    if not model.exists():
        pytest.skip(f"missing {model}")
    provider = start_serve(model, "provider", ["--api-key", PROVIDER_KEY])
    main = start_serve(model, "server", [])
    ctx["url"] = main[3]
    ctx["provider_url"] = provider[3] + "/v1"
    ctx["home"] = main[2]
    yield main[3]
    stop_serve(*main[:3])
    stop_serve(*provider[:3])


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


# ---------------------------------------------------------------- the story

def test_admin_signs_up_and_opens_the_arena(driver):
    d = driver
    d.get(ctx["url"] + "/")
    email, password = ADMIN
    r = fetch(d, "POST", "/api/auth/signup", {"email": email, "password": password, "display_name": "Ada"})
    assert r["status"] == 201, r
    d.get(ctx["url"] + "/")
    link = visible(d, "open-arena")
    assert link.get_attribute("href").endswith("/ui/arena.html")
    link.click()
    wait(d, lambda d: d.find_element(By.CSS_SELECTOR, tid("arena-user")).text != "", msg="arena page did not load")


def test_admin_adds_a_provider_whose_key_is_never_shown(driver):
    d = driver
    fill(visible(d, "provider-name"), "rival")
    fill(visible(d, "provider-url"), ctx["provider_url"])
    fill(visible(d, "provider-models"), LOCAL_MODEL)
    fill(visible(d, "provider-key"), PROVIDER_KEY)
    visible(d, "provider-add").click()
    row = visible(d, "provider-row")
    assert "rival" in row.text and "key set" in row.text
    assert PROVIDER_KEY not in d.page_source
    # The key file the server seals provider keys with is private to its owner.
    key_file = Path(ctx["home"]) / "provider-keys.secret"
    assert key_file.exists() and (key_file.stat().st_mode & 0o777) == 0o600
    # The leaderboard lists both contestants before any vote, at 1000.
    wait(d, lambda d: len(d.find_elements(By.CSS_SELECTOR, tid("leaderboard-row"))) == 2, msg="two contestants")


def test_one_prompt_two_anonymous_answers_then_vote_reveals_them(driver):
    d = driver
    fill(visible(d, "arena-prompt"), "Name one fruit.")
    visible(d, "arena-send").click()
    vote = visible(d, "vote-a", timeout=120)
    answers = [d.find_element(By.CSS_SELECTOR, tid(f"answer-{s}")).text for s in ("a", "b")]
    assert all(a.strip() for a in answers), answers
    # Blind: no model is named while voting.
    for s in ("a", "b"):
        assert d.find_element(By.CSS_SELECTOR, tid(f"model-{s}-name")).text == ""
    vote.click()
    result = visible(d, "arena-result")
    names = [d.find_element(By.CSS_SELECTOR, tid(f"model-{s}-name")).text for s in ("a", "b")]
    assert sorted(names) == sorted([LOCAL_MODEL, f"rival/{LOCAL_MODEL}"]), names
    assert f"A was {names[0]}" in result.text
    ctx["winner"], ctx["loser"] = names


def test_the_leaderboard_counts_the_vote(driver):
    d = driver

    def ranked(d):
        rows = d.find_elements(By.CSS_SELECTOR, tid("leaderboard-row"))
        if len(rows) != 2 or rows[0].get_attribute("data-model") != ctx["winner"]:
            return None
        return rows

    rows = wait(d, ranked, msg="the winner is not first on the leaderboard")
    # One win, one virtual tie per pair as prior: odds 3:1, ratings 1000 ± 200·log10 3 → 1095 and 905.
    assert rows[0].find_element(By.CSS_SELECTOR, tid("leaderboard-rating")).text == str(round(1000 + 200 * math.log10(3)))
    assert rows[1].find_element(By.CSS_SELECTOR, tid("leaderboard-rating")).text == str(round(1000 - 200 * math.log10(3)))
    for row in rows:
        assert row.find_element(By.CSS_SELECTOR, tid("leaderboard-battles")).text == "1"
    assert "1 vote" in visible(d, "leaderboard-method").text


def test_benchmark_results_appear_beside_the_ratings(driver):
    d = driver
    fill(visible(d, "evals-model"), LOCAL_MODEL)
    # What `parley eval run -m … --task arc_easy --json` prints, as the admin pastes it.
    fill(visible(d, "evals-json"), '{"task": "arc_easy", "metric": "acc_norm", "value": 52.5, "n": 40}')
    visible(d, "evals-add").click()
    row = visible(d, "eval-row")
    assert "arc_easy" in row.text and LOCAL_MODEL in row.text and "52.5" in row.text
