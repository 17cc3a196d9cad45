"""pytest plumbing for the browser test: its steps form one story, so once a step fails the later ones are
reported as skipped (they would only fail for the same reason), and a failing step leaves a screenshot."""
import pytest

_failed = {}


def pytest_runtest_makereport(item, call):
    if call.excinfo is not None and call.when == "call" and "incremental" in item.keywords:
        _failed[item.module.__name__] = item.name


def pytest_runtest_setup(item):
    if "incremental" in item.keywords:
        prev = _failed.get(item.module.__name__)
        if prev is not None:
            pytest.skip(f"an earlier step failed ({prev})")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    outcome = yield
    if outcome.excinfo is not None:
        shoot = getattr(item.module, "screenshot_on_failure", None)
        if shoot:
            shoot(item.name)


def pytest_configure(config):
    config.addinivalue_line("markers", "incremental: later steps are skipped once a step fails")
