"""The admin's patient-data pages in the browser: ending an assignment is destructive, so it asks first; sorting
the audit log leaves the keyboard on the column header that was used."""
import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_records_journeys import log_in
from tests.web.record_pages import assign, patient_of

pytestmark = pytest.mark.browser
WHO = re.compile(r"^Who\b")


def test_ending_an_assignment_from_the_admin_list_asks_first(page: Page, app, factories, console_errors):
    admin = factories.user("admin")
    doctor = factories.user("doctor", full_name="Dr Kept Keen")
    assign(app, patient_of(app, None, "Kai Kept"), doctor.doctor_id)
    log_in(page, admin.username, admin.password)
    page.goto("/admin/assignments")
    end = page.get_by_role("button", name="End the assignment of Dr Kept Keen to Kai Kept")

    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    end.click()
    expect(page.get_by_role("row", name="Kai Kept")).to_contain_text("Active")
    assert asked == ["End the assignment of Dr Kept Keen to Kai Kept?"]

    page.once("dialog", lambda dialog: dialog.accept())
    end.click()
    expect(page.get_by_text("The assignment is ended.")).to_be_visible()
    expect(page.get_by_text("No assignments match.")).to_be_visible()
    assert console_errors == []


def test_sorting_the_audit_log_keeps_the_focus_on_the_header_that_was_used(page: Page, app, factories,
                                                                            console_errors):
    admin = factories.user("admin")
    patient_id = patient_of(app, None, "Sorted Sam")
    log_in(page, admin.username, admin.password)
    page.goto(f"/patients/{patient_id}")  # the admin's read is an audit row
    page.goto("/admin/audit")
    who = page.get_by_role("link", name=WHO)
    who.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("columnheader", name=WHO)).to_have_attribute("aria-sort", "ascending")
    expect(page.get_by_role("link", name=WHO)).to_be_focused()
    page.wait_for_function("!document.querySelector('.htmx-settling, .htmx-swapping, .htmx-request')")
    page.keyboard.press("Enter")
    expect(page.get_by_role("columnheader", name=WHO)).to_have_attribute("aria-sort", "descending")
    expect(page.get_by_role("link", name=WHO)).to_be_focused()
    assert console_errors == []
