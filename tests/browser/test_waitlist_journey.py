"""A patient waits for a time, another patient cancels one, and the first books it from the offer mail's link."""
import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from portal.extensions import db
from portal.models import Slot
from portal.services.scheduling import appointments
from tests.browser.test_booking_journeys import doctor_with_tuesday, log_in
from tests.fixtures import clinic

pytestmark = pytest.mark.browser


def test_a_waiting_patient_gets_a_cancelled_time_by_mail_and_books_it(page: Page, app, factories, mailbox,
                                                                       console_errors):
    waiting = factories.user("patient", full_name="Wanda Waits", email="wanda@example.org")
    doctor_id, _ = doctor_with_tuesday(app, hours=(9,))
    with app.app_context():  # another patient has the only time
        other_id = clinic.patient_account(email="otto@example.org").id
        slot_id = db.session.scalar(db.select(Slot.id).where(Slot.doctor_id == doctor_id))
        taken = appointments.book(clinic.actor(other_id), slot_id=slot_id).id
        db.session.remove()

    log_in(page, waiting.username, waiting.password)
    page.goto(f"/doctors/{doctor_id}")
    page.get_by_role("link", name="Tell me when something opens").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tell me when something opens")
    page.get_by_role("button", name="Put me on the waitlist").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your dashboard")
    waitlist = page.locator("#waitlist")
    expect(waitlist).to_contain_text("Dr Carla Diaz")
    expect(waitlist).to_contain_text("1 person is waiting")

    with app.app_context():  # the other patient cancels; the worker runs the jobs (the mailbox drains them)
        appointments.cancel(clinic.actor(other_id), taken)
        db.session.remove()
    mails = [m for m in mailbox.wait_for(3) if m["To"] == "wanda@example.org"]
    assert len(mails) == 1, [m["Subject"] for m in mailbox.messages]
    link = re.search(r"https?://\S+/waitlist/offers/\d+", mailbox.body(mails[0])).group(0)

    page.reload()
    expect(waitlist.get_by_role("timer")).to_have_text(re.compile(r"\((29|30):\d\d left\)"))
    page.goto(urlsplit(link).path)  # the mail's link, on the server under test
    panel = page.locator("#booking-panel")
    expect(panel.get_by_role("heading", name="Confirm your appointment")).to_be_visible()
    panel.get_by_role("button", name="Confirm").click()
    expect(panel.get_by_role("heading", name="Booked")).to_be_visible()
    page.goto("/dashboard")
    expect(page.locator("#upcoming-list")).to_contain_text("Dr Carla Diaz")
    expect(page.locator("#waitlist")).to_contain_text("Booked: you took a time offered to you.")
    assert console_errors == []
