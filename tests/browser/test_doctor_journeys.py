"""What a doctor does in the browser: publish a week of availability, see a patient's booking in the calendar and
among the coming days, remove a free slot, close a visit that has started, and cancel visits ahead."""
import re
from datetime import time, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import Slot
from portal.services import clinic_time
from portal.services.scheduling import appointments
from tests.fixtures import clinic

pytestmark = pytest.mark.browser


def log_in(page: Page, login: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Username or email").fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Doctor's dashboard")
    page.wait_for_load_state("load")  # htmx (a deferred script) listens from DOMContentLoaded: act after it


def test_a_doctor_publishes_a_week_sees_a_booking_and_closes_a_visit(page: Page, app, factories, console_errors):
    doctor = factories.user("doctor", full_name="Dr Carla Diaz")
    patient = factories.user("patient", full_name="Pat Example")
    with app.app_context():
        tomorrow = clinic_time.today() + timedelta(days=1)
    log_in(page, doctor.username, doctor.password)
    page.get_by_role("link", name="Manage availability").click()
    page.wait_for_load_state("load")  # htmx (a deferred script) listens from DOMContentLoaded: act after it

    # Five days from tomorrow, every weekday ticked, 09:00 to 12:00 in half hours: thirty slots.
    page.get_by_label("From", exact=True).fill(tomorrow.isoformat())
    page.get_by_label("Until (inclusive)").fill((tomorrow + timedelta(days=4)).isoformat())
    for day in ("Saturday", "Sunday"):
        page.get_by_label(day).check()
    page.get_by_label("Start time").fill("09:00")
    page.get_by_label("End time").fill("12:00")
    page.get_by_label("Slot length (minutes)").select_option("30")
    page.get_by_role("button", name="Publish slots").click()
    form = page.locator("#plan-form")
    expect(form).to_contain_text("30 slots created, 0 skipped (overlapping or past).")
    expect(form.get_by_role("status")).to_be_focused()
    calendar = page.locator("#week-grid")
    expect(calendar).to_contain_text(f"{tomorrow:%a %-d %b}")
    expect(page).to_have_url(re.compile(rf"week={clinic_time.week_of(tomorrow).monday}"))

    # A patient books tomorrow's 09:00 (through the service, as the portal or the API would).
    with app.app_context():
        first = db.session.scalar(select(Slot).where(Slot.doctor_id == doctor.doctor_id).order_by(Slot.starts_at))
        appointments.book(clinic.actor(patient.id), slot_id=first.id, reason="Back pain")
    page.reload()
    tomorrow_column = page.locator(".grid-day", has_text=f"{tomorrow:%a %-d %b}")
    expect(tomorrow_column.locator(".slot").first).to_contain_text("booked")
    expect(tomorrow_column).to_contain_text(re.compile(r"To remove it, cancel the appointment .*first\.", re.S))
    expect(tomorrow_column.get_by_role("link", name=re.compile("^cancel the appointment"))).to_have_count(1)

    # Removing a free slot asks first, then the calendar shows it gone.
    page.once("dialog", lambda dialog: dialog.accept())
    tomorrow_column.get_by_role("button", name=re.compile("^Remove")).first.click()
    expect(page.locator("#calendar-message")).to_contain_text("Removed the slot of")
    expect(page.locator("#calendar-message p")).to_be_focused()
    expect(page.locator(".grid-day", has_text=f"{tomorrow:%a %-d %b}").locator(".slot")).to_have_count(5)

    # A visit that began ten minutes ago (written straight to the database) can be closed from the dashboard.
    with app.app_context():
        started = clinic.slot(doctor.doctor_id, clinic_time.now() - timedelta(minutes=10))
        visit_id = clinic.appointment(patient.patient_id, started).id
    page.get_by_role("link", name="Dashboard").click()
    days = page.locator("#doctor-days")
    expect(days).to_contain_text("Back pain")
    expect(days).to_contain_text(re.compile(r"09:00–09:30 CES?T"))
    row = page.locator(f"#visit-{visit_id}")
    row.get_by_role("button", name=re.compile("^Mark completed")).click()
    expect(page.locator(f"#visit-{visit_id}")).to_contain_text("Marked completed.")
    expect(page.locator(f"#visit-{visit_id}")).to_contain_text("Completed")
    assert console_errors == []


def test_a_doctor_cancels_a_visit_from_the_dashboard_and_another_from_the_calendar(page: Page, app, factories,
                                                                                  console_errors):
    doctor = factories.user("doctor", full_name="Dr Carla Diaz")
    with app.app_context():
        week = clinic_time.week_of(clinic_time.today()).next
        soon = clinic.slot(doctor.doctor_id, clinic_time.now() + timedelta(hours=3))
        row_visit = clinic.appointment(clinic.patient(full_name="Rita Row").id, soon).id
        later = clinic.slot(doctor.doctor_id, clinic_time.local_instant(week.monday + timedelta(days=2), time(11)))
        clinic.appointment(clinic.patient(full_name="Cal Endar").id, later)
    log_in(page, doctor.username, doctor.password)

    dialogs = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    row = page.locator(f"#visit-{row_visit}")
    row.get_by_role("button", name=re.compile("^Cancel appointment")).click()
    expect(row).to_contain_text("Cancelled. The time is free again.")
    expect(row.locator(".badge")).to_have_text("Cancelled")
    expect(row.get_by_role("button")).to_have_count(0)
    assert dialogs and dialogs[0].startswith("Cancel the appointment of Rita Row on")

    page.goto(f"/doctor/availability?week={week.monday}")
    page.locator("#week-grid").get_by_role("link", name=re.compile("^cancel the appointment")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cancel this appointment?")
    expect(page.locator("main")).to_contain_text("Cal Endar")
    page.get_by_role("button", name="Yes, cancel it").click()
    expect(page).to_have_url(re.compile(rf"/doctor/availability\?week={week.monday}$"))
    expect(page.locator("#messages")).to_contain_text("Cal Endar")
    expect(page.locator("#week-grid").get_by_role("button", name=re.compile("^Remove"))).to_have_count(1)
    assert console_errors == []


def test_the_availability_page_fits_a_phone(page: Page, factories):
    doctor = factories.user("doctor")
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, doctor.username, doctor.password)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.goto("/doctor/availability")
    expect(page.get_by_role("button", name="Publish slots")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
