"""Plumbing the browser tests share: a free loopback port and a headless Chromium (Debian's chromium and
chromedriver, or $CHROMIUM / $CHROMEDRIVER)."""
import os
import socket

from selenium import webdriver
from selenium.webdriver.chrome.service import Service


def free_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def chromium(driver_log=None, console_logs=False):
    """A headless Chromium at 1366x900 in English; `console_logs` keeps the page's console for get_log("browser")."""
    opts = webdriver.ChromeOptions()
    opts.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1366,900",
                "--lang=en-US", "--no-first-run", "--password-store=basic"):
        opts.add_argument(arg)
    if console_logs:
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    executable = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
    service = Service(executable_path=executable, log_output=str(driver_log)) if driver_log else Service(executable_path=executable)
    d = webdriver.Chrome(service=service, options=opts)
    d.set_page_load_timeout(30)
    return d
