"""Booking at the desk in the portal: a doctor picks a patient they see, then one of their own free times (also
inside the online booking rules), confirms, and the patient has the appointment and a mail; an admin picks the
doctor too. A time that slipped away is said on the same week; patients never reach these pages."""
from datetime import time, timedelta

from portal.extensions import db
from portal.models import Appointment, Assignment
from portal.services import clinic_time
from portal.services.scheduling import holds
from tests.fixtures import clinic
from tests.web.booking_pages import setup_week


def _patient_of(app, doctor_id: int, name: str = "Paula Phone") -> int:
    with app.app_context():
        account = clinic.patient_account(full_name=name)
        patient_id = account.patient.id
        db.session.add(Assignment(patient_id=patient_id, doctor_id=doctor_id))
        db.session.commit()
        return patient_id


def _my_week(app, doctor_id: int, hours=(9, 10)):
    """Slots of the signed-in doctor on next week's Tuesday."""
    with app.app_context():
        week = clinic_time.week_of(clinic_time.today()).next
        ids = [clinic.slot(doctor_id, clinic_time.local_instant(week.monday + timedelta(days=1), time(h))).id
               for h in hours]
        return week, ids


def _appointments(app, patient_id: int):
    with app.app_context():
        return [(a.slot_id, a.status, a.reason, a.created_by_id) for a in db.session.scalars(
            db.select(Appointment).where(Appointment.patient_id == patient_id))]


def test_the_dashboard_and_the_patient_page_lead_to_desk_booking(app, web_as):
    client, me = web_as("doctor")
    patient_id = _patient_of(app, me.doctor_id)
    assert "/desk-booking" in client.get("/dashboard").get_data(as_text=True)
    assert f"/desk-booking?patient_id={patient_id}" in client.get(f"/patients/{patient_id}").get_data(as_text=True)


def test_a_doctor_finds_the_patient_picks_a_time_and_books_it(app, web_as, mailbox):
    client, me = web_as("doctor")
    patient_id = _patient_of(app, me.doctor_id)
    week, (nine, ten) = _my_week(app, me.doctor_id)
    search = client.htmx_get("/desk-booking?q=paula", "desk-patients")
    html = search.get_data(as_text=True)
    assert search.status_code == 200 and "<html" not in html and "Paula Phone" in html
    assert f"/desk-booking?patient_id={patient_id}" in html
    page = client.get(f"/desk-booking?patient_id={patient_id}&week={week.monday}").get_data(as_text=True)
    assert "Patient: Paula Phone" in page and f'value="{nine}"' in page
    assert "doctor_id" not in page.split("week-grid")[1]  # a doctor's links need no doctor
    picked = client.get(f"/desk-booking?patient_id={patient_id}&week={week.monday}&slot_id={ten}")
    assert "Book this time?" in picked.get_data(as_text=True)
    done = client.post("/desk-booking", {"patient_id": patient_id, "slot_id": ten, "week": week.monday.isoformat(),
                                         "reason": "Phoned: sore throat"})
    assert done.status_code == 302 and done.headers["Location"] == f"/patients/{patient_id}"
    assert _appointments(app, patient_id) == [(ten, "scheduled", "Phoned: sore throat", me.id)]
    assert "They get a confirmation by mail" in client.get(done.headers["Location"]).get_data(as_text=True)
    assert "appointment booked" in mailbox.wait_for(1)[0]["Subject"]


def test_the_doctor_sees_times_inside_the_online_rules(app, web_as, rules_on):
    rules_on()
    client, me = web_as("doctor")
    patient_id = _patient_of(app, me.doctor_id)
    with app.app_context():
        soon = clinic.slot(me.doctor_id, clinic.soon(0.5)).id
        week = clinic_time.week_of(clinic_time.to_local(clinic.soon(0.5)).date())
    page = client.get(f"/desk-booking?patient_id={patient_id}&week={week.monday}").get_data(as_text=True)
    assert f'value="{soon}"' in page
    done = client.post("/desk-booking", {"patient_id": patient_id, "slot_id": soon, "week": week.monday.isoformat()})
    assert done.status_code == 302 and _appointments(app, patient_id)[0][0] == soon


def test_a_time_someone_holds_is_said_on_the_same_week(app, web_as, factories):
    client, me = web_as("doctor")
    patient_id = _patient_of(app, me.doctor_id)
    week, (nine, _) = _my_week(app, me.doctor_id)
    rival = factories.user("patient")
    client.get(f"/desk-booking?patient_id={patient_id}&week={week.monday}&slot_id={nine}")
    with app.app_context():
        holds.place_hold(clinic.actor(rival.id), nine)
    answer = client.post("/desk-booking", {"patient_id": patient_id, "slot_id": nine, "week": week.monday.isoformat()})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 409 and "booking this time online right now" in html
    assert "Patient: Paula Phone" in html and week.monday.strftime("%-d") in html
    assert _appointments(app, patient_id) == []


def test_a_patient_the_doctor_does_not_see_is_404(app, web_as):
    client, me = web_as("doctor")
    with app.app_context():
        stranger = clinic.patient().id
    assert client.get(f"/desk-booking?patient_id={stranger}").status_code == 404
    week, (nine, _) = _my_week(app, me.doctor_id)
    assert client.post("/desk-booking", {"patient_id": stranger, "slot_id": nine,
                                         "week": week.monday.isoformat()}).status_code == 404
    assert _appointments(app, stranger) == []


def test_the_search_shows_only_patients_the_doctor_sees(app, web_as):
    client, me = web_as("doctor")
    _patient_of(app, me.doctor_id, "Paula Seen")
    with app.app_context():
        clinic.patient(full_name="Paula Hidden")
    html = client.get("/desk-booking?q=paula").get_data(as_text=True)
    assert "Paula Seen" in html and "Paula Hidden" not in html


def test_an_admin_picks_the_patient_then_the_doctor(app, web_as):
    client, _ = web_as("admin")
    doctor_id, week, (nine, _) = setup_week(app, name="Dr Desk")
    with app.app_context():
        patient_id = clinic.patient(full_name="Otto Admin-Booked").id
    page = client.get(f"/desk-booking?patient_id={patient_id}").get_data(as_text=True)
    assert "Step 2: the doctor" in page and "Dr Desk" in page
    grid = client.get(f"/desk-booking?patient_id={patient_id}&doctor_id={doctor_id}&week={week.monday}")
    assert f'value="{nine}"' in grid.get_data(as_text=True)
    done = client.post("/desk-booking", {"patient_id": patient_id, "doctor_id": doctor_id, "slot_id": nine,
                                         "week": week.monday.isoformat()})
    assert done.status_code == 302 and [row[0] for row in _appointments(app, patient_id)] == [nine]


def test_patients_never_reach_desk_booking(web_as):
    client, _ = web_as("patient")
    assert client.get("/desk-booking").status_code == 403


def test_booking_needs_the_csrf_token(app, web_as):
    client, me = web_as("doctor")
    patient_id = _patient_of(app, me.doctor_id)
    week, (nine, _) = _my_week(app, me.doctor_id)
    answer = client.client.post("/desk-booking", data={"patient_id": patient_id, "slot_id": nine,
                                                       "week": week.monday.isoformat()})
    assert answer.status_code == 400 and _appointments(app, patient_id) == []


def test_the_week_arrows_swap_only_the_grid_and_keep_the_patient(app, web_as):
    client, me = web_as("doctor")
    patient_id = _patient_of(app, me.doctor_id)
    week, (nine, _) = _my_week(app, me.doctor_id)
    answer = client.htmx_get(f"/desk-booking?patient_id={patient_id}&week={week.monday}", "week-grid")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "<html" not in html and html.lstrip().startswith('<div id="week-grid"')
    assert f'value="{nine}"' in html and f"patient_id={patient_id}" in html  # the arrows keep the patient
    assert "HX-Target" in answer.headers.get("Vary", "")
