"""The doctor-or-admin pages before they have a doctor: an admin picks one, a doctor without a profile is told why."""
import pytest

from portal.extensions import db
from portal.models import Doctor

PAGES = {"/doctor/availability": "Show the calendar", "/doctor/absences": "Show the absences"}


@pytest.mark.parametrize(("path", "button"), PAGES.items())
def test_an_admin_picks_the_doctor_first(web_as, factories, path, button):
    factories.user(role="doctor", full_name="Dr Ada Park")
    admin, _me = web_as("admin")
    html = admin.get(path).get_data(as_text=True)
    assert button in html and "Dr Ada Park" in html and '<select id="doctor_id" name="doctor_id">' in html


def test_the_desk_booking_pick_keeps_the_patient(web_as, factories, app):
    factories.user(role="doctor", full_name="Dr Ada Park")
    admin, _me = web_as("admin")
    patient = factories.user(role="patient")
    html = admin.get(f"/desk-booking?patient_id={patient.patient_id}").get_data(as_text=True)
    assert "Show the doctor&#39;s week" in html and "Dr Ada Park" in html
    assert f'<input type="hidden" name="patient_id" value="{patient.patient_id}">' in html


@pytest.mark.parametrize("path", PAGES)
def test_a_doctor_without_a_profile_is_told_an_administrator_links_it(web_as, app, path):
    client, me = web_as("doctor")
    with app.app_context():
        db.session.get(Doctor, me.doctor_id).user_id = None
        db.session.commit()
    html = client.get(path).get_data(as_text=True)
    assert "Your account is not linked to a doctor profile yet" in html and "<select" not in html


@pytest.mark.parametrize("path", PAGES)
def test_another_doctors_calendar_is_404(web_as, factories, path):
    other = factories.user(role="doctor")
    client, _me = web_as("doctor")
    assert client.get(f"{path}?doctor_id={other.doctor_id}").status_code == 404
