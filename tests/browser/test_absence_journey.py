"""A doctor marks an absence in the browser, sees the booked visit inside it, and cancels it; the free slot is gone."""
import re
from datetime import time, timedelta

import pytest
from playwright.sync_api import Page, expect

from portal.extensions import db
from portal.models import Appointment, Slot
from portal.services import clinic_time
from tests.fixtures import clinic

pytestmark = pytest.mark.browser


def test_a_doctor_marks_an_absence_and_cancels_the_visit_inside(page: Page, app, factories, console_errors):
    doctor = factories.user("doctor", full_name="Dr Ada Away")
    with app.app_context():
        away = clinic_time.today() + timedelta(days=3)
        visit_id = clinic.appointment(clinic.patient(full_name="Vera Visit").id,
                                      clinic.slot(doctor.doctor_id, clinic_time.local_instant(away, time(10)))).id
        free_id = clinic.slot(doctor.doctor_id, clinic_time.local_instant(away, time(11))).id
    page.goto("/login")
    page.get_by_label("Username or email").fill(doctor.username)
    page.get_by_label("Password").fill(doctor.password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Manage absences").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Absences: Dr Ada Away")

    page.get_by_label("First day away").fill(away.isoformat())
    page.get_by_label("Last day away").fill(away.isoformat())
    page.get_by_label("Reason (optional, for staff)").fill("Conference")
    page.get_by_role("button", name="Mark the absence").click()
    expect(page.locator("#messages")).to_contain_text(
        "Absence marked: 1 free slot withdrawn; 1 booked visit below to move or cancel.")
    page.wait_for_load_state("load")  # htmx (a deferred script) listens from DOMContentLoaded: act after it
    row = page.locator(f"#absent-visit-{visit_id}")
    expect(row).to_contain_text("Vera Visit")
    expect(row.get_by_role("link", name=re.compile("^Move"))).to_be_visible()

    dialogs = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    row.get_by_role("button", name=re.compile("^Cancel")).click()
    expect(row).to_contain_text("Cancelled. Vera Visit is told by mail, with a link to book again.")
    expect(row.locator(".badge")).to_have_text("Cancelled")
    expect(row.get_by_role("button")).to_have_count(0)
    assert dialogs and dialogs[0].startswith("Cancel the appointment of Vera Visit on")
    with app.app_context():
        assert db.session.get(Appointment, visit_id).status == "cancelled"
        assert db.session.get(Slot, free_id).absence_id is not None

    # Patients see nothing free that day on the doctor's page.
    page.goto(f"/doctors/{doctor.doctor_id}?week={clinic_time.week_of(away).monday}")
    expect(page.locator("#week-grid")).to_contain_text(f"{away:%a %-d %b}")
    expect(page.locator("#week-grid")).not_to_contain_text("11:00")
    assert console_errors == []
