"""A doctor books at the desk in the browser: a patient phones, the doctor finds them with the live search,
picks one of their own free times (one sooner than patients may book online), confirms, and lands on the
patient's page with the visit listed."""
import re
from datetime import time, timedelta

import pytest
from playwright.sync_api import Page, expect

from portal.extensions import db
from portal.models import Appointment, Assignment
from portal.services import clinic_time
from tests.fixtures import clinic

pytestmark = pytest.mark.browser


def test_a_doctor_books_a_time_for_a_patient_on_the_phone(page: Page, app, factories, rules_on, console_errors):
    rules_on()  # patients book two hours ahead at the earliest; the doctor at the desk is not bound
    doctor = factories.user("doctor", full_name="Dr Desk Moreau")
    with app.app_context():
        patient = clinic.patient_account(full_name="Greta Phonecall")
        patient_id = patient.patient.id
        db.session.add(Assignment(patient_id=patient_id, doctor_id=doctor.doctor_id))
        db.session.commit()
        soon = clinic.soon(1)  # in an hour: not offered to patients online
        this_week = clinic_time.week_of(clinic_time.today())
        in_next_week = clinic_time.week_of(clinic_time.to_local(soon).date()) != this_week
        next_tuesday = clinic_time.week_of(clinic_time.today()).next.monday + timedelta(days=1)
        clinic.slot(doctor.doctor_id, soon)
        clinic.slot(doctor.doctor_id, clinic_time.local_instant(next_tuesday, time(10)))
        soon_label = clinic_time.to_local(soon).strftime("%H:%M")

    page.goto("/login")
    page.get_by_label("Username or email").fill(doctor.username)
    page.get_by_label("Password").fill(doctor.password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Doctor's dashboard")

    page.get_by_role("link", name="Book for a patient").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Book for a patient")
    page.wait_for_load_state("load")  # htmx (a deferred script) listens from DOMContentLoaded: type after it
    page.get_by_label("Name, date of birth or phone").fill("greta")
    results = page.locator("#desk-patients")
    expect(results).to_contain_text("Greta Phonecall")
    expect(page).to_have_url(re.compile(r"q=greta"))
    results.get_by_role("link", name=re.compile("Book for")).click()

    expect(page.get_by_role("heading", name="Patient: Greta Phonecall")).to_be_visible()
    page.wait_for_load_state("load")  # htmx (a deferred script) listens from DOMContentLoaded: act after it
    grid = page.locator("#week-grid")
    if in_next_week:  # late on a Sunday evening the hour ahead is already next week
        page.get_by_role("link", name="Next week →").click()
    grid.get_by_role("button", name=re.compile(rf"^{soon_label}")).click()
    expect(page.get_by_role("heading", name="Book this time?")).to_be_visible()
    page.get_by_label("Reason for the visit (optional)").fill("Phoned: fever since yesterday")
    page.get_by_role("button", name="Book it").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Greta Phonecall")
    expect(page.locator("#messages")).to_contain_text("They get a confirmation by mail")
    expect(page.locator("#appointments")).to_contain_text(soon_label)
    with app.app_context():
        booked = db.session.scalars(db.select(Appointment).where(Appointment.patient_id == patient_id)).all()
        assert [(a.reason, a.created_by_id) for a in booked] == [("Phoned: fever since yesterday", doctor.id)]
    assert console_errors == []
