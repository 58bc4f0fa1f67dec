"""A doctor cancels a booked visit that has not begun: from its dashboard row (hx-confirm, the row swaps), on a
confirmation page without JavaScript, and from the booked slot of the availability calendar."""
import re
from datetime import time, timedelta

from portal.extensions import db
from portal.models import Appointment, Slot
from portal.services import clinic_time
from tests.fixtures import clinic


def local(app, days_ahead, hour):
    with app.app_context():
        return clinic_time.local_instant(clinic_time.today() + timedelta(days=days_ahead), time(hour))


def visit(app, doctor_id, starts_at, patient_name="Paula Patient", status="scheduled"):
    with app.app_context():
        patient = clinic.patient(full_name=patient_name)
        return clinic.appointment(patient.id, clinic.slot(doctor_id, starts_at), status=status).id


def status_of(app, appointment_id):
    with app.app_context():
        return db.session.get(Appointment, appointment_id).status


def row_of(html, appointment_id):
    start = html.index(f'<li id="visit-{appointment_id}"')
    return html[start:html.index("</li>", start)]


def test_a_visit_ahead_is_cancelled_from_its_row_after_a_confirmation(app, web_as):
    client, me = web_as("doctor")
    ahead = visit(app, me.doctor_id, local(app, 1, 9), "Carla Cancel")
    with app.app_context():
        started = visit(app, me.doctor_id, clinic_time.now() - timedelta(minutes=10), "Sam Started")
    dashboard = client.get("/dashboard").get_data(as_text=True)
    row = row_of(dashboard, ahead)
    assert "Cancel appointment" in row
    assert re.search(rf'hx-post="/doctor/appointments/{ahead}/cancel"\s+hx-confirm="Cancel the appointment of '
                     r'Carla Cancel on [^"]+, 09:00 CET\?"', row)
    assert f'action="/doctor/appointments/{ahead}/cancel"' in row  # the no-JS way: the confirmation page
    assert "Cancel appointment" not in row_of(dashboard, started)  # a visit that has begun is marked instead
    response = client.post(f"/doctor/appointments/{ahead}/cancel", htmx_target=f"visit-{ahead}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith(f'<li id="visit-{ahead}"')
    assert '<span class="badge badge-off">Cancelled</span>' in html and "Cancelled. The time is free again." in html
    assert "Cancel appointment" not in html
    assert status_of(app, ahead) == "cancelled"


def test_without_javascript_cancel_is_a_confirmation_page_back_to_the_dashboard(app, web_as):
    client, me = web_as("doctor")
    ahead = visit(app, me.doctor_id, local(app, 2, 10), "Nora Nojs")
    page = client.get(f"/doctor/appointments/{ahead}/cancel").get_data(as_text=True)
    assert "Cancel this appointment?" in page and "Nora Nojs" in page and "10:00 CET" in page
    assert "Yes, cancel it" in page and 'href="/dashboard">No, keep it' in page
    assert status_of(app, ahead) == "scheduled"  # looking at the page changes nothing
    done = client.post(f"/doctor/appointments/{ahead}/cancel", {"next": "/dashboard"}, follow_redirects=True)
    html = done.get_data(as_text=True)
    assert "<h1>Doctor's dashboard</h1>" in html and "Nora Nojs" in html
    assert "Cancelled. The time is free again." in html
    assert status_of(app, ahead) == "cancelled"
    again = client.get(f"/doctor/appointments/{ahead}/cancel").get_data(as_text=True)
    assert "This appointment can no longer be cancelled" in again and "already cancelled" in again
    assert "Yes, cancel it" not in again


def test_a_visit_that_has_begun_is_not_cancelled_and_the_row_says_why(app, web_as):
    client, me = web_as("doctor")
    with app.app_context():
        started = visit(app, me.doctor_id, clinic_time.now() - timedelta(minutes=10))
    client.get("/dashboard")
    response = client.post(f"/doctor/appointments/{started}/cancel", htmx_target=f"visit-{started}")
    assert response.status_code == 422 and "This appointment has started" in response.get_data(as_text=True)
    assert status_of(app, started) == "scheduled"


def test_others_visits_are_not_found_patients_are_refused_and_csrf_is_needed(app, web_as, factories):
    client, _ = web_as("doctor")
    colleague = factories.user("doctor")
    theirs = visit(app, colleague.doctor_id, local(app, 1, 9))
    client.get("/dashboard")
    assert client.get(f"/doctor/appointments/{theirs}/cancel").status_code == 404
    assert client.post(f"/doctor/appointments/{theirs}/cancel").status_code == 404
    patient, _ = web_as("patient")
    assert patient.post(f"/doctor/appointments/{theirs}/cancel").status_code == 403
    forged = client.client.post(f"/doctor/appointments/{theirs}/cancel")
    assert forged.status_code == 400 and status_of(app, theirs) == "scheduled"


def test_a_booked_slot_of_the_calendar_leads_to_cancelling_its_visit_and_then_to_removing_the_slot(app, web_as):
    client, me = web_as("doctor")
    with app.app_context():
        week = clinic_time.week_of(clinic_time.today()).next
        slot = clinic.slot(me.doctor_id, clinic_time.local_instant(week.monday + timedelta(days=3), time(11)))
        slot_id = slot.id
        appointment_id = clinic.appointment(clinic.patient(full_name="Boris Booked").id, slot).id
    calendar = f"/doctor/availability?week={week.monday}"
    page = client.get(calendar).get_data(as_text=True)
    link = re.search(rf'href="(/doctor/slots/{slot_id}/appointment/cancel\?next=[^"]+)"', page).group(1)
    confirm = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert "Cancel this appointment?" in confirm and "Boris Booked" in confirm and "11:00 CET" in confirm
    assert f'name="next" value="{calendar}"' in confirm and f'href="{calendar}">No, keep it' in confirm
    back = client.post(f"/doctor/appointments/{appointment_id}/cancel", {"next": calendar})
    assert back.status_code == 302 and back.headers["Location"] == calendar
    html = client.get(calendar).get_data(as_text=True)
    assert "Boris Booked" in html and "Cancelled. The time is free again." in html  # the flash
    assert f'action="/doctor/availability/slots/{slot_id}/remove"' in html  # free now, so it can be removed
    assert status_of(app, appointment_id) == "cancelled"
    assert client.get(f"/doctor/slots/{slot_id}/appointment/cancel").status_code == 404  # nothing booked there now
    with app.app_context():
        assert db.session.get(Slot, slot_id).removed_at is None
