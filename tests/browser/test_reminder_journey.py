"""A reminder's "I'll come" link: the mail arrives when its lead comes due, the link opens in a browser without
signing in, one click confirms, and the doctor's dashboard shows that the patient confirmed."""
import re

import pytest
from playwright.sync_api import Page, expect

from portal.services.scheduling import appointments
from tests.fixtures import clinic

pytestmark = pytest.mark.browser

HOUR = 3600


def test_a_patient_confirms_from_the_reminder_and_the_doctor_sees_it(page: Page, app, base_url, factories, clock,
                                                                    mailbox, console_errors):
    doctor = factories.user("doctor", full_name="Dr Carla Diaz")
    patient = factories.user("patient", full_name="Pat Example")
    saved = app.config["PUBLIC_BASE_URL"]
    app.config["PUBLIC_BASE_URL"] = base_url  # the mail's links point at this test's server
    try:
        with app.app_context():
            slot = clinic.slot(doctor.doctor_id, clinic.soon(26))
            visit_id = appointments.book(clinic.actor(patient.id), slot_id=slot.id, reason="Back pain").id
        clock.advance(2 * HOUR + 60)  # the day-ahead reminder is due
        reminder = next(message for message in mailbox.wait_for(2) if "reminder" in message["Subject"])
    finally:
        app.config["PUBLIC_BASE_URL"] = saved
    body = mailbox.body(reminder)
    assert "Back pain" not in body and "General practice" not in body
    confirm_link = re.search(r"^I'll come: (\S+)", body, re.M).group(1)

    page.goto(confirm_link)  # nobody is signed in
    expect(page.get_by_role("heading", level=1)).to_have_text("Will you come?")
    expect(page.locator("#reminder-answer")).to_contain_text("with Dr Carla Diaz")
    page.get_by_role("button", name="Yes, I'll come").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
    expect(page.get_by_role("status").last).to_contain_text(re.compile(r"Thanks, we expect you on .* CES?T"))

    page.goto("/login")
    page.get_by_label("Username or email").fill(doctor.username)
    page.get_by_label("Password").fill(doctor.password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Doctor's dashboard")
    expect(page.locator(f"#visit-{visit_id}")).to_contain_text("Patient confirmed")
    assert console_errors == []
