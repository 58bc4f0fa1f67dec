"""Browser tests: pytest-playwright driving Debian's chromium against the live server.

Playwright's own browser download needs the internet, so the system chromium is launched with the
flags a root, offline machine needs. Pages are opened relative to the live server (`base_url`).
"""
import pytest
from playwright.sync_api import expect

from tests.fixtures.live_server import live_server  # noqa: F401 (fixture)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


# How long a step may wait for the page to get where it must (never a speed check). Playwright's 5 s
# is tight when two xdist workers each drive a browser and a server on this 2-core machine.
WAIT_MS = 15_000
expect.set_options(timeout=WAIT_MS)


@pytest.fixture(autouse=True)
def _page_waits(page):
    page.set_default_timeout(WAIT_MS)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    args = [*browser_type_launch_args.get("args", []), *CHROMIUM_FLAGS]
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": args}


@pytest.fixture(scope="session")
def base_url(live_server):  # noqa: F811 (the fixture above, by name)
    return live_server


# Chromium logs every 4xx answer as a console error; tests check those statuses on the page instead.
HTTP_STATUS_NOTE = "Failed to load resource: the server responded with a status of 4"


@pytest.fixture
def console_errors(page):
    """Errors the page logs (a CSP violation, a failing script); a test asserts there are none."""
    errors: list[str] = []

    def on_console(message):
        if message.type == "error" and not message.text.startswith(HTTP_STATUS_NOTE):
            errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors
