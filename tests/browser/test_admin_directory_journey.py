"""The clinic directory in the browser: an admin builds it, patients find the result, a doctor keeps their profile."""
import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_journeys import log_in

pytestmark = pytest.mark.browser


def test_an_admin_adds_a_department_and_a_doctor_who_then_appears_in_the_public_directory(
        page: Page, factories, console_errors):
    admin = factories.user(role="admin")
    log_in(page, admin.username, admin.password)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Departments").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Departments")
    page.wait_for_load_state("load")  # htmx (a deferred script) listens from DOMContentLoaded: act after it
    page.evaluate("window.stillTheSamePage = true")

    page.get_by_label("Name").fill("Sleep Centre")
    page.get_by_label("Description").fill("Sleep disorders, day and night.")
    page.get_by_role("button", name="Add the department").click()
    expect(page.get_by_role("status").filter(has_text="Department Sleep Centre is created.")).to_be_focused()
    found = page.locator("tr", has_text="Sleep Centre")
    expect(found).to_contain_text("0 doctors")
    row = page.locator(f"#{found.get_attribute('id')}")  # the row keeps its id while its text turns into a form

    row.get_by_role("link", name="Edit Sleep Centre").click()
    name = row.get_by_label("Name")
    expect(name).to_be_focused()
    name.fill("Sleep Medicine")
    row.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="Sleep Medicine: Saved.")).to_be_visible()
    assert page.evaluate("window.stillTheSamePage") is True  # htmx swapped the row, no reload

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Doctors").click()
    page.get_by_role("link", name="Add a doctor").click()
    page.get_by_label("Full name").fill("Dr Nina Novak")
    page.get_by_label("Speciality").fill("Neurology")
    page.get_by_label("Department").select_option(label="Sleep Medicine")
    page.get_by_label("Gender").select_option(label="Female")
    page.get_by_label("Fee per visit").fill("95")
    page.get_by_label("Email for patients").fill("nina@example.org")
    page.get_by_label("About").fill("Headaches and sleep.")
    page.get_by_role("button", name="Add the doctor").click()
    expect(page.get_by_role("status").first).to_contain_text("Dr Nina Novak is added to the directory.")
    expect(page.get_by_role("row", name="Dr Nina Novak")).to_contain_text("95.00")

    page.goto("/doctors")
    card = page.locator(".card", has_text="Dr Nina Novak")
    expect(card).to_contain_text("Neurology · Sleep Medicine")
    card.get_by_role("link", name="Dr Nina Novak").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Dr Nina Novak")

    page.goto("/admin/departments")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete Sleep Medicine").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Doctors still belong to this department; move or archive them first.")
    expect(page.locator("tr", has_text="Sleep Medicine")).to_contain_text("1 doctor")
    assert console_errors == []


def test_a_doctor_updates_their_profile_in_place(page: Page, factories, console_errors):
    doctor = factories.user(role="doctor", full_name="Dr Mira Stone")
    log_in(page, doctor.username, doctor.password)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My doctor profile").click()
    expect(page.get_by_role("heading", level=2)).to_have_text("Dr Mira Stone")
    page.wait_for_load_state("load")  # htmx (a deferred script) listens from DOMContentLoaded: act after it

    page.get_by_label("Fee per visit").fill("a lot")
    page.get_by_role("button", name="Save the profile").click()
    fees = page.get_by_label("Fee per visit")
    expect(fees).to_have_attribute("aria-invalid", "true")
    expect(fees).to_be_focused()
    fees.fill("70")
    page.get_by_role("button", name="Save the profile").click()
    expect(page.get_by_role("status").filter(has_text="Your doctor profile is saved.")).to_be_visible()
    expect(page.get_by_label("Fee per visit")).to_have_value("70.00")
    assert console_errors == []
