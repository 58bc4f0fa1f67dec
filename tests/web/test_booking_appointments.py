"""The patient's dashboard lists and what each appointment offers: reschedule, cancel (confirmed), .ics."""
import re
from datetime import time, timedelta

from portal.extensions import db
from portal.models import Appointment
from portal.services import clinic_time
from portal.services.scheduling import holds
from tests.fixtures import clinic


def next_week(app):
    with app.app_context():
        return clinic_time.week_of(clinic_time.today()).next


def booked(app, patient_id, *hours, day_offset=1, doctor_name="Dr Adam Baker"):
    """Appointments of the patient with one doctor on next week's Tuesday (by default), plus two free slots
    that day at 20:00 and 21:00; returns (doctor id, week, appointment ids, free slot ids)."""
    week = next_week(app)
    day = week.monday + timedelta(days=day_offset)
    with app.app_context():
        doctor = clinic.doctor(full_name=doctor_name, speciality="Cardiology")
        ids = [clinic.appointment(patient_id, clinic.slot(doctor.id, clinic_time.local_instant(day, time(h)))).id
               for h in hours]
        free = [clinic.slot(doctor.id, clinic_time.local_instant(day, time(h))).id for h in (20, 21)]
        return doctor.id, week, ids, free


def status_of(app, appointment_id):
    with app.app_context():
        appointment = db.session.get(Appointment, appointment_id)
        return appointment.status, appointment.slot_id


def test_the_dashboard_lists_upcoming_and_past_appointments_in_clinic_time(app, web_as):
    client, me = web_as("patient")
    _, week, (upcoming,), _ = booked(app, me.patient_id, 9)
    with app.app_context():
        doctor = clinic.doctor(full_name="Dr Zoe Young", speciality="Dermatology")
        last_month = clinic.slot(doctor.id, clinic_time.now() - timedelta(days=30))
        clinic.appointment(me.patient_id, last_month, status="completed")
    html = client.get("/dashboard").get_data(as_text=True)
    upcoming_part = html[html.index('id="upcoming-list"'):html.index('id="past-list"')]
    past_part = html[html.index('id="past-list"'):]
    tuesday = week.monday + timedelta(days=1)
    assert f"{tuesday:%a %d %b %Y}, 09:00 CET" in upcoming_part and "Dr Adam Baker" in upcoming_part
    assert f'id="appointment-{upcoming}"' in upcoming_part and "Dr Zoe Young" not in upcoming_part
    assert "Dr Zoe Young" in past_part and "Completed" in past_part and "Cancel" not in past_part


def test_each_list_pages_on_its_own_and_answers_htmx_with_itself(app, web_as):
    client, me = web_as("patient")
    booked(app, me.patient_id, *range(8, 20))  # twelve upcoming, 08:00 to 19:00: two pages of ten
    client.get("/dashboard")
    response = client.htmx_get("/dashboard?upcoming_page=2", target="upcoming-list")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith('<div id="upcoming-list"') and "Page 2 of 2" in html
    assert html.count('class="appointment"') == 2 and "19:00 CET" in html and "09:00 CET" not in html
    assert 'href="/dashboard?upcoming_page=1"' in html


def test_cancelling_from_the_row_asks_first_and_the_visit_leaves_upcoming_at_once(app, web_as):
    client, me = web_as("patient")
    _, _, (appointment_id,), _ = booked(app, me.patient_id, 9)
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert re.search(rf'hx-post="/appointments/{appointment_id}/cancel"\s+hx-confirm="Cancel your appointment on',
                     dashboard)
    response = client.post(f"/appointments/{appointment_id}/cancel", htmx_target=f"appointment-{appointment_id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert response.headers["HX-Retarget"] == "#upcoming-list" and response.headers["HX-Reswap"] == "outerHTML"
    assert html.lstrip().startswith('<div id="upcoming-list"')
    upcoming, history = html.split('<div id="past-list"')
    assert f'id="appointment-{appointment_id}"' not in upcoming and "You have no upcoming appointments." in upcoming
    assert "Cancelled. The time is free for others again. It was Tue" in upcoming and "with Dr Adam Baker." in upcoming
    assert history.startswith(' class="list-region" hx-swap-oob="true">')
    assert '<span class="badge badge-off">Cancelled</span>' in history
    assert status_of(app, appointment_id)[0] == "cancelled"


def test_without_javascript_cancel_is_a_confirmation_page(app, web_as):
    client, me = web_as("patient")
    _, week, (appointment_id,), _ = booked(app, me.patient_id, 9)
    page = client.get(f"/appointments/{appointment_id}/cancel").get_data(as_text=True)
    assert "Cancel this appointment?" in page and "Yes, cancel it" in page and "No, keep it" in page
    assert status_of(app, appointment_id)[0] == "scheduled"  # looking at the page changes nothing
    done = client.post(f"/appointments/{appointment_id}/cancel", follow_redirects=True).get_data(as_text=True)
    assert "is cancelled." in done and "Your dashboard" in done
    assert status_of(app, appointment_id)[0] == "cancelled"


def test_an_appointment_that_has_started_cannot_be_cancelled(app, web_as):
    client, me = web_as("patient")
    with app.app_context():
        doctor = clinic.doctor()
        started = clinic.slot(doctor.id, clinic_time.now() - timedelta(minutes=10))
        appointment_id = clinic.appointment(me.patient_id, started).id
    client.get("/dashboard")
    response = client.post(f"/appointments/{appointment_id}/cancel", htmx_target=f"appointment-{appointment_id}")
    assert response.status_code == 422
    assert "This appointment has started" in response.get_data(as_text=True)
    assert status_of(app, appointment_id)[0] == "scheduled"


def test_rescheduling_moves_the_appointment_to_the_picked_time(app, web_as):
    client, me = web_as("patient")
    _, week, (appointment_id,), (eight_pm, _) = booked(app, me.patient_id, 9)
    page = client.get(f"/appointments/{appointment_id}/reschedule").get_data(as_text=True)
    assert "Move your appointment" in page and "your time now" in page
    assert f'name="slot_id" value="{eight_pm}"' in page
    asked = client.get(f"/appointments/{appointment_id}/reschedule?week={week.monday}&slot_id={eight_pm}")
    assert status_of(app, appointment_id)[0] == "scheduled"  # asking moves nothing
    question = asked.get_data(as_text=True)
    assert "Move to this time?" in question and "Yes, move it" in question and "20:00 CET" in question
    assert re.search(rf'<form class="inline-form" method="post" action="/appointments/{appointment_id}/reschedule">'
                     rf'.*?name="slot_id" value="{eight_pm}"', question, re.S)
    done = client.post(f"/appointments/{appointment_id}/reschedule", {"slot_id": eight_pm, "week": str(week.monday)},
                       follow_redirects=True).get_data(as_text=True)
    assert "Your appointment is moved to" in done and "20:00 CET" in done and "Moved" in done
    assert status_of(app, appointment_id) == ("rescheduled", eight_pm)


def test_the_reschedule_grid_moves_by_week_as_a_fragment(app, web_as):
    client, me = web_as("patient")
    _, week, (appointment_id,), _ = booked(app, me.patient_id, 9)
    url = f"/appointments/{appointment_id}/reschedule?week={week.next.monday}"
    response = client.htmx_get(url, target="week-grid")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html and html.lstrip().startswith('<div id="week-grid"')
    assert f'href="/appointments/{appointment_id}/reschedule?week={week.next.next.monday}"' in html


def test_a_time_someone_holds_is_refused_and_the_patient_keeps_the_week(app, web_as, factories):
    client, me = web_as("patient")
    rival = factories.user("patient")
    _, week, (appointment_id,), (eight_pm, nine_pm) = booked(app, me.patient_id, 9)
    client.get(f"/appointments/{appointment_id}/reschedule")
    with app.app_context():
        holds.place_hold(clinic.actor(rival.id), eight_pm)
    response = client.post(f"/appointments/{appointment_id}/reschedule",
                           {"slot_id": eight_pm, "week": str(week.monday)})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Someone else is booking that time right now." in html
    assert f'name="slot_id" value="{nine_pm}"' in html and f'name="slot_id" value="{eight_pm}"' not in html
    assert status_of(app, appointment_id)[0] == "scheduled"


def test_the_ics_file_downloads_with_its_name_and_type(app, web_as):
    client, me = web_as("patient")
    _, _, (appointment_id,), _ = booked(app, me.patient_id, 9)
    response = client.get(f"/appointments/{appointment_id}.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Content-Disposition"] == f'attachment; filename="appointment-{appointment_id}.ics"'
    body = response.get_data(as_text=True)
    assert "BEGIN:VEVENT" in body and "SUMMARY:Appointment with Dr Adam Baker" in body
    assert "DTSTART;TZID=Europe/Berlin:" in body


def test_another_patients_appointment_is_not_found_anywhere(app, web_as, factories):
    client, _ = web_as("patient")
    owner = factories.user("patient")
    _, week, (appointment_id,), (eight_pm, _) = booked(app, owner.patient_id, 9)
    client.get("/dashboard")
    assert client.get(f"/appointments/{appointment_id}.ics").status_code == 404
    assert client.get(f"/appointments/{appointment_id}/cancel").status_code == 404
    assert client.post(f"/appointments/{appointment_id}/cancel").status_code == 404
    assert client.get(f"/appointments/{appointment_id}/reschedule").status_code == 404
    assert client.post(f"/appointments/{appointment_id}/reschedule", {"slot_id": eight_pm}).status_code == 404
    assert status_of(app, appointment_id)[0] == "scheduled"


def test_cancel_needs_the_csrf_token(app, web_as):
    client, me = web_as("patient")
    _, _, (appointment_id,), _ = booked(app, me.patient_id, 9)
    assert client.client.post(f"/appointments/{appointment_id}/cancel").status_code == 400
    assert status_of(app, appointment_id)[0] == "scheduled"


def dashboard_queries(app, client) -> int:
    with app.app_context(), clinic.counted_queries() as statements:
        assert client.get("/dashboard").status_code == 200
    return len(statements)


def test_the_dashboard_costs_the_same_queries_for_2_or_20_appointments(app, web_as):
    few, few_user = web_as("patient")
    many, many_user = web_as("patient")
    with app.app_context():
        doctor = clinic.doctor()
        clinic.appointment(few_user.patient_id, clinic.slot(doctor.id, clinic.soon(48)))
        clinic.appointment(few_user.patient_id, clinic.slot(doctor.id, clinic.soon(-48)), status="completed")
        doctors = [clinic.doctor().id for _ in range(2)]
        for n in range(20):  # ten upcoming and ten past, with two different doctors
            hours = (n + 1) * 24 if n % 2 else -(n + 1) * 24
            slot = clinic.slot(doctors[n % 2], clinic.soon(hours))
            clinic.appointment(many_user.patient_id, slot, status="scheduled" if hours > 0 else "completed")
    assert dashboard_queries(app, few) == dashboard_queries(app, many)


def test_a_cancelled_appointment_leaves_upcoming_for_the_history_without_ics_or_actions(app, web_as):
    client, me = web_as("patient")
    _, week, (kept, dropped), _ = booked(app, me.patient_id, 9, 11)
    client.get("/dashboard")
    swapped = client.post(f"/appointments/{dropped}/cancel", htmx_target=f"appointment-{dropped}")
    assert f"/appointments/{dropped}.ics" not in swapped.get_data(as_text=True)  # the swapped row offers nothing
    html = client.get("/dashboard").get_data(as_text=True)
    upcoming_part = html[html.index('id="upcoming-list"'):html.index('id="past-list"')]
    history_part = html[html.index('id="past-list"'):]
    assert f'id="appointment-{kept}"' in upcoming_part and f"/appointments/{kept}.ics" in upcoming_part
    assert f'id="appointment-{dropped}"' not in upcoming_part and "11:00 CET" not in upcoming_part
    assert "Past and cancelled appointments" in html
    tuesday = week.monday + timedelta(days=1)
    assert f"{tuesday:%a %d %b %Y}, 11:00 CET" in history_part and "Cancelled</span>" in history_part
    assert f"/appointments/{dropped}" not in history_part and "Reschedule" not in history_part


def test_the_reschedule_and_cancel_pages_say_plainly_when_it_can_no_longer_change(app, web_as):
    client, me = web_as("patient")
    _, week, (cancelled, ahead), (eight_pm, _) = booked(app, me.patient_id, 9, 10)
    with app.app_context():
        db.session.get(Appointment, cancelled).status = "cancelled"
        doctor = clinic.doctor(full_name="Dr Past Visit")
        closed = clinic.appointment(me.patient_id, clinic.slot(doctor.id, clinic_time.now() - timedelta(days=2)),
                                    status="completed").id
        started = clinic.appointment(me.patient_id, clinic.slot(doctor.id, clinic_time.now() - timedelta(minutes=5))).id
        db.session.commit()
    reasons = {cancelled: "It has been cancelled.", closed: "The visit has taken place and is closed.",
               started: "Its time has already begun."}
    for appointment_id, reason in reasons.items():
        for page in (f"/appointments/{appointment_id}/reschedule", f"/appointments/{appointment_id}/cancel"):
            html = client.get(page).get_data(as_text=True)
            assert "This appointment can no longer be changed" in html and reason in html, page
            assert "<form" not in html[html.index("<main"):], page  # neither the cancel nor a slot to move to
    assert "Pick a new time" in client.get(f"/appointments/{ahead}/reschedule").get_data(as_text=True)
    assert "Yes, cancel it" in client.get(f"/appointments/{ahead}/cancel").get_data(as_text=True)
    grid = client.htmx_get(f"/appointments/{cancelled}/reschedule?week={week.next.monday}", target="week-grid")
    assert grid.headers["HX-Redirect"] == f"/appointments/{cancelled}/reschedule?week={week.next.monday}"


def test_the_reschedule_grid_asks_before_moving_and_never_moves_on_a_click(app, web_as):
    client, me = web_as("patient")
    _, week, (appointment_id,), (eight_pm, _) = booked(app, me.patient_id, 9)
    page = client.get(f"/appointments/{appointment_id}/reschedule").get_data(as_text=True)
    grid = page[page.index('id="week-grid"'):]
    assert 'method="post"' not in grid  # a time in the grid only opens the question
    assert f'name="slot_id" value="{eight_pm}"' in grid
    gone = client.get(f"/appointments/{appointment_id}/reschedule?week={week.monday}&slot_id=999999")
    assert gone.status_code == 409 and "Move to this time?" not in gone.get_data(as_text=True)
