"""What a person does in the browser: register, log in, use htmx components, log out; on a phone too."""
import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

PASSWORD = "a long and unusual passphrase"


def log_in(page: Page, login: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Username or email").fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_a_new_patient_registers_logs_in_sees_the_dashboard_and_logs_out(page: Page, console_errors):
    page.goto("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Register").click()
    page.get_by_label("Full name").fill("Nora Newcomer")
    page.get_by_label("Username").fill("nora")
    page.get_by_label("Email").fill("nora@example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("status")).to_contain_text("Your account is ready. Please log in.")

    page.get_by_label("Username or email").fill("nora")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your dashboard")
    expect(page.get_by_role("heading", name="Upcoming appointments")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("status")).to_contain_text("You are logged out.")
    page.goto("/dashboard")
    expect(page).to_have_url(re.compile(r"/login\?next=/dashboard$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")
    assert console_errors == []


def test_a_full_page_form_with_errors_puts_the_keyboard_on_the_first_field_to_fix(page: Page, console_errors):
    page.goto("/register")
    page.get_by_label("Full name").fill("Nora Newcomer")
    page.get_by_label("Username").fill("nora")
    page.get_by_label("Email").fill("nora@example.org")
    page.get_by_label("Password", exact=True).fill("too short")
    page.get_by_label("Repeat the password").fill("too short")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_label("Password", exact=True)).to_be_focused()
    expect(page.get_by_label("Username")).to_have_value("nora")
    assert console_errors == []


def test_a_profile_error_is_swapped_in_place_with_focus_on_the_field(page: Page, factories, console_errors):
    user = factories.user(full_name="Pat Example")
    log_in(page, user.username, user.password)
    page.get_by_role("link", name="Profile").click()
    page.wait_for_load_state("load")  # htmx (a deferred script) listens from DOMContentLoaded: act after it
    page.evaluate("window.stillTheSamePage = true")

    page.get_by_label("Full name").fill("")
    page.get_by_role("button", name="Save changes").click()
    full_name = page.get_by_label("Full name")
    expect(full_name).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#full_name-errors")).to_have_text("Fill this in.")
    expect(full_name).to_be_focused()

    full_name.fill("Pat Renamed")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#profile-details")).to_contain_text("Your details are saved.")
    expect(page.get_by_label("Full name")).to_have_value("Pat Renamed")
    assert page.evaluate("window.stillTheSamePage") is True  # htmx swapped a fragment, no reload
    assert console_errors == []


def test_an_admin_approves_a_doctor_and_deactivates_a_patient_in_their_rows(page: Page, factories, console_errors):
    admin = factories.user(role="admin")
    pending = factories.user(role="doctor", username="newdoc", approved=False)
    patient = factories.user(role="patient", username="pat")
    log_in(page, admin.username, admin.password)
    page.get_by_role("link", name="Users").click()
    page.wait_for_load_state("load")  # htmx (a deferred script) listens from DOMContentLoaded: act after it

    doctor_row = page.locator(f"#user-{pending.id}")
    expect(doctor_row).to_contain_text("Waiting for approval")
    doctor_row.get_by_role("button", name="Approve").click()
    expect(page.locator(f"#user-{pending.id}")).to_contain_text("newdoc: approved.")
    expect(page.locator(f"#user-{pending.id}").get_by_role("button", name="Approve")).to_have_count(0)

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f"#user-{patient.id}").get_by_role("button", name="Deactivate").click()
    expect(page.locator(f"#user-{patient.id}")).to_contain_text("Deactivated")
    expect(page.locator(f"#user-{patient.id}").get_by_role("button", name="Reactivate")).to_be_visible()

    page.get_by_label("Only doctors waiting for approval").check()
    expect(page.locator("#users-table")).to_contain_text("No users match.")
    expect(page).to_have_url(re.compile(r"pending=y"))
    assert console_errors == []


@pytest.mark.parametrize("path", ["/", "/login", "/register"])
def test_public_pages_fit_a_phone_screen(page: Page, path):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(path)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_the_dashboard_and_users_page_fit_a_phone_screen(page: Page, factories):
    admin = factories.user(role="admin")
    factories.user(role="doctor", approved=False)
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, admin.username, admin.password)
    expect(page.get_by_role("heading", level=1)).to_have_text("Administration")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.goto("/admin/users")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
