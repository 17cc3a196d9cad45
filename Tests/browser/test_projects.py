"""Chat projects in the web UI, in headless Chromium against a `parley serve` of this test's own (the server, browser
and helpers of test_memory.py): create a project, give it instructions and a Markdown file, start a chat in it, and
the reply lists the file passage it was given, numbered for citation. The model's words are never asserted.
"""
import tempfile
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

import test_memory as tm
from test_memory import click, finds, last_reply, send_and_wait, tid, visible, wait

pytestmark = pytest.mark.incremental

USER = {"name": "Pat Project", "email": "pat@example.com", "password": "correct horse battery"}
PLAN = "# Launch plan\n\nThe launch is on the 3rd of March in Lisbon.\n\nThe budget is 40,000 euros, approved by Marta.\n"

server = tm.server
driver = tm.driver


def screenshot_on_failure(test_name):
    tm.screenshot_on_failure(f"projects-{test_name}")


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


def test_02_create_a_project_with_instructions_and_a_file(driver):
    d = driver
    click(d, "new-project")
    field = visible(d, "confirm-input")
    field.send_keys("Launch")
    click(d, "confirm-ok")
    visible(d, "project-dialog")
    instructions = visible(d, "project-instructions")
    instructions.send_keys("Answer briefly.")
    click(d, "project-save")
    wait(d, lambda _: visible(d, "project-status").text == "Saved.", 10, "the project was not saved")
    path = Path(tempfile.mkdtemp(prefix="parley-project-")) / "plan.md"
    path.write_text(PLAN)
    d.find_element(*tid("project-file-input")).send_keys(str(path))
    wait(d, lambda _: [n.text for n in finds(d, "project-file-name")] == ["plan.md"], 30, "the file was not added")
    assert [n.get_attribute("data-testid") for n in finds(d, "project-item")] == ["project-item"]
    d.save_screenshot(str(tm.ARTIFACTS / "project-dialog.png"))


def test_03_a_chat_in_the_project_cites_the_file(driver):
    d = driver
    click(d, "project-new-chat")
    badge = visible(d, "project-badge")
    assert badge.text == "Project: Launch", badge.text
    send_and_wait(d, "Where is the launch, and what is the budget?")
    reply = last_reply(d)
    cited = [li.get_attribute("textContent") for li in reply.find_elements(*tid("file-citation"))]
    assert cited and cited[0].startswith("[1] plan.md (part 1)"), cited
    assert "Lisbon" in cited[0], cited
    visible(d, "project-badge")
    d.save_screenshot(str(tm.ARTIFACTS / "project-citation.png"))


def test_04_a_chat_outside_the_project_gets_no_file(driver):
    d = driver
    tm.new_chat(d)
    assert not d.find_element(*tid("project-badge")).is_displayed()
    send_and_wait(d, "Where is the launch, and what is the budget?")
    assert not last_reply(d).find_elements(*tid("file-citation"))


def test_05_no_script_errors_or_csp_violations(driver):
    bad = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"
           and ("Content Security Policy" in e.get("message", "") or "Uncaught" in e.get("message", ""))]
    assert not bad, bad
