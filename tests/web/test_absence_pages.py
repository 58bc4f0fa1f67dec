"""The doctor's absences pages: mark one, see the visits inside, cancel one (with its mail), delete the absence."""
import re
from datetime import time, timedelta

from portal.extensions import db
from portal.models import Absence, Appointment, Slot
from portal.services import clinic_time
from tests.fixtures import clinic


def local(app, days_ahead, hour):
    with app.app_context():
        return clinic_time.local_instant(clinic_time.today() + timedelta(days=days_ahead), time(hour))


def day(app, days_ahead):
    with app.app_context():
        return (clinic_time.today() + timedelta(days=days_ahead)).isoformat()


def booked(app, doctor_id, starts_at, name="Paula Patient", email=None):
    with app.app_context():
        patient = clinic.patient(full_name=name, email=email)
        return clinic.appointment(patient.id, clinic.slot(doctor_id, starts_at)).id


def free_slot(app, doctor_id, starts_at):
    with app.app_context():
        return clinic.slot(doctor_id, starts_at).id


def test_the_dashboard_links_to_absences(web_as):
    client, _ = web_as("doctor")
    assert 'href="/doctor/absences"' in client.get("/dashboard").get_data(as_text=True)


def test_a_doctor_marks_an_absence_and_sees_the_visits_inside(app, web_as):
    client, me = web_as("doctor")
    visit = booked(app, me.doctor_id, local(app, 3, 10), "Bea Booked")
    slot_id = free_slot(app, me.doctor_id, local(app, 3, 11))
    page = client.get("/doctor/absences").get_data(as_text=True)
    assert "Mark an absence" in page and "No absences marked." in page
    response = client.post("/doctor/absences", {"from_date": day(app, 3), "to_date": day(app, 4),
                                                "reason": "Holiday"})
    assert response.status_code == 302
    with app.app_context():
        absence = db.session.scalar(db.select(Absence))
        assert db.session.get(Slot, slot_id).absence_id == absence.id
    assert response.headers["Location"] == f"/doctor/absences/{absence.id}"
    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Absence marked: 1 free slot withdrawn; 1 booked visit below to move or cancel." in shown
    assert "Holiday" in shown and "Bea Booked" in shown
    assert f'href="/appointments/{visit}/reschedule?next=/doctor/absences/{absence.id}"' in shown
    assert re.search(rf'hx-post="/doctor/absences/{absence.id}/visits/{visit}/cancel"\s+hx-confirm="Cancel the '
                     r'appointment of Bea Booked', shown)
    listed = client.get("/doctor/absences").get_data(as_text=True)
    assert "Holiday" in listed and "1 free slot withdrawn." in listed


def test_each_visit_in_an_absence_opens_its_patients_page(app, web_as):
    client, me = web_as("doctor")
    visit = booked(app, me.doctor_id, local(app, 3, 10), "Olga Opened")
    client.post("/doctor/absences", {"from_date": day(app, 3), "to_date": day(app, 3)})
    with app.app_context():
        absence_id = db.session.scalar(db.select(Absence.id))
        patient_id = db.session.get(Appointment, visit).patient_id
    shown = client.get(f"/doctor/absences/{absence_id}").get_data(as_text=True)
    assert f'href="/patients/{patient_id}">Patient page<span' in shown
    opened = client.get(f"/patients/{patient_id}")
    assert opened.status_code == 200 and "Olga Opened" in opened.get_data(as_text=True)


def test_cancelling_a_visit_from_its_row_mails_the_patient_a_link_to_book_again(app, web_as, mailbox):
    client, me = web_as("doctor")
    visit = booked(app, me.doctor_id, local(app, 3, 10), "Mia Mailed", email="mia@example.org")
    client.post("/doctor/absences", {"from_date": day(app, 3), "to_date": day(app, 3)})
    with app.app_context():
        absence_id = db.session.scalar(db.select(Absence.id))
    response = client.post(f"/doctor/absences/{absence_id}/visits/{visit}/cancel",
                           htmx_target=f"absent-visit-{visit}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith(f'<li id="absent-visit-{visit}"')
    assert "Cancelled. Mia Mailed is told by mail, with a link to book again." in html and "Move" not in html
    with app.app_context():
        assert db.session.get(Appointment, visit).status == "cancelled"
    [message] = mailbox.wait_for(1)
    body = message.get_content()
    assert message["To"] == "mia@example.org" and "cancelled" in message["Subject"]
    base = app.config["PUBLIC_BASE_URL"].rstrip("/")
    assert f"{base}/doctors/{me.doctor_id}" in body and re.search(rf"{re.escape(base)}/doctors\s", body)
    assert client.get(f"/doctors/{me.doctor_id}").status_code == 200  # the link opens the doctor's page


def test_without_javascript_cancel_and_delete_ask_first(app, web_as):
    client, me = web_as("doctor")
    visit = booked(app, me.doctor_id, local(app, 2, 9), "Nora Nojs")
    slot_id = free_slot(app, me.doctor_id, local(app, 2, 10))
    client.post("/doctor/absences", {"from_date": day(app, 2), "to_date": day(app, 2)})
    with app.app_context():
        absence_id = db.session.scalar(db.select(Absence.id))
    page = client.get(f"/doctor/absences/{absence_id}/visits/{visit}/cancel").get_data(as_text=True)
    assert "Cancel this appointment?" in page and "Nora Nojs" in page and "Yes, cancel it" in page
    done = client.post(f"/doctor/absences/{absence_id}/visits/{visit}/cancel", follow_redirects=True)
    assert "cancelled; the patient is told by mail." in done.get_data(as_text=True)
    ask = client.get(f"/doctor/absences/{absence_id}/delete").get_data(as_text=True)
    assert "Delete this absence?" in ask and "Yes, delete it" in ask
    gone = client.post(f"/doctor/absences/{absence_id}/delete", follow_redirects=True).get_data(as_text=True)
    assert "Absence deleted: 2 slots offered again." in gone and "No absences marked." in gone
    with app.app_context():
        assert db.session.get(Slot, slot_id).absence_id is None
    assert client.get(f"/doctor/absences/{absence_id}").status_code == 404


def test_form_problems_are_shown_next_to_the_fields(app, web_as):
    client, _ = web_as("doctor")
    response = client.post("/doctor/absences", {"from_date": day(app, 5), "to_date": day(app, 4),
                                                "reason": "x" * 201})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "The end must come after the start." in html and "Keep the reason under 200 characters." in html
    assert re.search(r'id="to_date-errors"', html)
    empty = client.post("/doctor/absences", {}).get_data(as_text=True)
    assert "Fill this in." in empty


def test_admins_reach_any_doctors_absences_and_others_get_404(app, web_as, factories):
    doctor = factories.user(role="doctor")
    admin, _ = web_as("admin")
    page = admin.get(f"/doctor/absences?doctor_id={doctor.doctor_id}").get_data(as_text=True)
    assert "Mark an absence" in page and f'name="doctor_id" type="hidden" value="{doctor.doctor_id}"' in page
    response = admin.post("/doctor/absences", {"doctor_id": doctor.doctor_id, "from_date": day(app, 3),
                                               "to_date": day(app, 3)})
    with app.app_context():
        absence_id = db.session.scalar(db.select(Absence.id))
    assert response.headers["Location"] == f"/doctor/absences/{absence_id}?doctor_id={doctor.doctor_id}"
    edit = admin.get(f"/admin/doctors/{doctor.doctor_id}/edit").get_data(as_text=True)
    assert f'href="/doctor/absences?doctor_id={doctor.doctor_id}"' in edit
    other, _ = web_as("doctor")
    assert other.get(f"/doctor/absences?doctor_id={doctor.doctor_id}").status_code == 404
    assert other.get(f"/doctor/absences/{absence_id}").status_code == 404
    assert other.post(f"/doctor/absences/{absence_id}/delete").status_code == 404
    patient, _ = web_as("patient")
    assert patient.get("/doctor/absences").status_code in (403, 404)


def test_whole_days_read_as_days_and_other_ranges_as_moments(app, web_as):
    client, me = web_as("doctor")
    client.post("/doctor/absences", {"from_date": day(app, 3), "to_date": day(app, 3)})
    client.post("/doctor/absences", {"from_date": day(app, 10), "to_date": day(app, 12)})
    client.post("/doctor/absences", {"from_date": day(app, 20), "from_time": "13:00", "to_date": day(app, 20),
                                     "to_time": "17:30"})
    with app.app_context():
        first, last = (clinic_time.today() + timedelta(days=n) for n in (10, 12))
        single = clinic_time.today() + timedelta(days=3)
        afternoon = clinic_time.today() + timedelta(days=20)
    html = client.get("/doctor/absences").get_data(as_text=True)
    assert f"{single:%a %-d %b %Y}, the whole day" in html
    assert f"{first:%a %-d %b %Y} to {last:%a %-d %b %Y}, whole days" in html
    assert re.search(rf"{afternoon:%a %-d %b %Y}, 13:00 CES?T \(Europe/Berlin\) until "
                     rf"{afternoon:%a %-d %b %Y}, 17:30 CES?T", html)


def test_move_opens_the_reschedule_page_and_comes_back_to_the_absence(app, web_as):
    client, me = web_as("doctor")
    visit = booked(app, me.doctor_id, local(app, 3, 10), "Max Moved")
    later = free_slot(app, me.doctor_id, local(app, 5, 9))
    client.post("/doctor/absences", {"from_date": day(app, 3), "to_date": day(app, 3)})
    with app.app_context():
        absence_id = db.session.scalar(db.select(Absence.id))
    back = f"/doctor/absences/{absence_id}"
    with app.app_context():
        week = clinic_time.week_of(clinic_time.today() + timedelta(days=5)).monday.isoformat()
    page = client.get(f"/appointments/{visit}/reschedule?next={back}&week={week}&slot_id={later}")
    page = page.get_data(as_text=True)
    assert "Move to this time?" in page and f'name="next" value="{back}"' in page
    # the doctor reads whose visit moves, never "your appointment" (which is the patient's wording)
    assert "Move the appointment of Max Moved" in page
    assert "your" not in re.sub(r"<[^>]+>", " ", page.split('<main', 1)[1]).lower()
    assert f'<a href="{back}">Keep the current time and go back</a>' in page
    moved = client.post(f"/appointments/{visit}/reschedule", {"slot_id": later, "week": week, "next": back})
    assert moved.status_code == 302 and moved.headers["Location"] == back
    shown = client.get(back).get_data(as_text=True)
    assert "The appointment of Max Moved is moved to" in shown and "Your appointment" not in shown
    assert "No upcoming visits are booked inside this absence." in shown
    outside = client.get(f"/appointments/{visit}/reschedule?next=https://evil.example/").get_data(as_text=True)
    assert '<a href="/dashboard">Keep the current time and go back</a>' in outside  # no open redirect
    assert "evil.example" not in outside


def test_an_absence_over_no_free_slot_says_so_plainly(app, web_as):
    client, _me = web_as("doctor")
    response = client.post("/doctor/absences", {"from_date": day(app, 6), "to_date": day(app, 6)})
    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "No free slot was in this range" in shown and "0 free slots withdrawn" not in shown
