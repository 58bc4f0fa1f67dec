"""Found in the browser pass over the scheduling pages (issue #8): what broke a phone-width page."""
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect

from portal.extensions import db
from portal.models.jobs import Job

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
LONG_ERROR = ("SMTPRecipientsRefused: {'a.very.very.very.long.address.without.any.spaces@some-very-long-domain-name"
              ".example.org': (550, b'5.1.1 mailbox unavailable')}")


def log_in(page: Page, login: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Username or email").fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Administration")


def test_a_failed_jobs_long_error_wraps_on_a_phone(page: Page, app, factories, console_errors):
    """A mail that failed for a long address: its error breaks inside its cell instead of widening the page."""
    admin = factories.user("admin")
    with app.app_context():
        db.session.add(Job(kind="mail", payload={"to": "x@example.org", "subject": "s", "body": "b"},
                           status="failed", attempts=8, last_error=LONG_ERROR, finished_at=datetime.now(UTC)))
        db.session.commit()
        db.session.remove()
    log_in(page, admin.username, admin.password)
    page.goto("/admin/jobs")
    expect(page.get_by_role("cell", name=LONG_ERROR)).to_be_visible()
    # on a wide screen the columns keep their words whole: the headings stay on one line (about 44 px)
    heights = page.locator("table thead th").evaluate_all("cells => cells.map(cell => cell.clientHeight)")
    assert max(heights) < 60, heights
    page.set_viewport_size(PHONE)
    page.reload()
    expect(page.get_by_role("cell", name=LONG_ERROR)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert console_errors == []
