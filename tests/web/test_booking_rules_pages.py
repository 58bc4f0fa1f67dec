"""The booking rules in the patient's pages: the doctor page offers only bookable times and says the window,
a refused hold or booking is said next to the grid on the same week, and an appointment inside the change
cut-off says whom to call instead of offering Cancel and Reschedule."""
from datetime import UTC, datetime, timedelta

import pytest

from portal.extensions import db
from portal.models import Appointment
from portal.services import clinic_time
from tests.fixtures import clinic
from tests.web.booking_pages import hold, hold_id_in

PHONE = "+49 30 5550 1000"


@pytest.fixture
def now(clock, rules_on):
    rules_on()
    return clock.freeze((datetime.now(UTC) + timedelta(minutes=1)).replace(second=0, microsecond=0))


def _week(app, moment):
    with app.app_context():
        return clinic_time.week_of(clinic_time.to_local(moment).date())


def test_the_doctor_page_offers_only_times_a_patient_may_book_and_says_why(app, web_as, now):
    client, _ = web_as("patient")
    with app.app_context():
        doctor = clinic.doctor(full_name="Dr Rule")
        soon = clinic.slot(doctor.id, now + timedelta(minutes=60)).id
        later = clinic.slot(doctor.id, now + timedelta(hours=3)).id
        doctor_id = doctor.id
    html = client.get(f"/doctors/{doctor_id}?week={_week(app, now).monday}").get_data(as_text=True)
    assert f'value="{later}"' in html and f'value="{soon}"' not in html
    assert "at least 2 hours ahead" in html and PHONE in html


def test_the_doctor_sees_every_time_on_their_own_page(app, web_as, now):
    client, me = web_as("doctor")
    with app.app_context():
        clinic.slot(me.doctor_id, now + timedelta(minutes=60))
    html = client.get(f"/doctors/{me.doctor_id}?week={_week(app, now).monday}").get_data(as_text=True)
    assert "slot-free" in html and "at least 2 hours ahead" not in html


def test_a_time_that_became_too_soon_is_refused_next_to_the_grid(app, web_as, clock, now):
    client, me = web_as("patient")
    with app.app_context():
        doctor = clinic.doctor()
        slot_id, doctor_id = clinic.slot(doctor.id, now + timedelta(minutes=125)).id, doctor.id
    week = _week(app, now)
    client.get(f"/doctors/{doctor_id}?week={week.monday}")
    held = hold(client, doctor_id, week, slot_id)
    hold_id = hold_id_in(held.get_data(as_text=True))
    clock.freeze(now + timedelta(minutes=10))  # the patient waited: it now starts in 115 minutes
    answer = client.post(f"/doctors/{doctor_id}/holds/{hold_id}/confirm", {"week": week.monday.isoformat()},
                         htmx_target="booking-panel")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422 and answer.headers["HX-Retarget"] == "#booking-message"
    assert "too soon to book online" in html and PHONE in html
    assert 'id="week-grid"' in html  # the same week, refreshed out of band
    with app.app_context():
        assert db.session.scalars(db.select(Appointment)).all() == []
    plain = client.post(f"/doctors/{doctor_id}/holds", {"slot_id": slot_id, "week": week.monday.isoformat()})
    assert plain.status_code == 422 and "too soon to book online" in plain.get_data(as_text=True)


def test_the_no_show_limit_is_said_when_the_patient_picks_a_time(app, web_as, rules_on, now):
    client, me = web_as("patient")
    rules_on(NO_SHOW_LIMIT=1)
    with app.app_context():
        doctor = clinic.doctor()
        clinic.appointment(me.patient_id, clinic.slot(doctor.id, now - timedelta(days=7)), status="no_show")
        slot_id, doctor_id = clinic.slot(doctor.id, now + timedelta(days=2)).id, doctor.id
    week = _week(app, now + timedelta(days=2))
    client.get(f"/doctors/{doctor_id}?week={week.monday}")
    html = hold(client, doctor_id, week, slot_id).get_data(as_text=True)
    assert "cannot book online" in html and "missed" in html and PHONE in html


@pytest.fixture
def late_visit(app, web_as, now):
    """A patient's appointment starting in five hours: inside the 24-hour cut-off."""
    client, me = web_as("patient")
    with app.app_context():
        visit = clinic.appointment(me.patient_id, clinic.slot(clinic.doctor().id, now + timedelta(hours=5))).id
    return client, visit


def test_inside_the_cut_off_the_dashboard_says_whom_to_call_instead_of_cancel(late_visit):
    client, visit = late_visit
    html = client.get("/dashboard").get_data(as_text=True)
    assert "too late to cancel or move this appointment online" in html and PHONE in html
    assert f"/appointments/{visit}/reschedule" not in html and f"/appointments/{visit}/cancel" not in html
    assert f"/appointments/{visit}.ics" in html


def test_inside_the_cut_off_the_cancel_and_reschedule_pages_say_so(app, late_visit):
    client, visit = late_visit
    for page in (f"/appointments/{visit}/cancel", f"/appointments/{visit}/reschedule"):
        html = client.get(page).get_data(as_text=True)
        assert "can no longer be changed online" in html and PHONE in html
    answer = client.post(f"/appointments/{visit}/cancel", htmx_target=f"appointment-{visit}")
    assert answer.status_code == 422 and "too late to cancel" in answer.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Appointment, visit).status == "scheduled"


def test_a_reminders_cancel_link_inside_the_cut_off_says_whom_to_call(app, web, now):
    """The link acts as the patient, so the patient's cut-off applies to it as to the dashboard."""
    from tests.web.test_reminder_pages import link

    with app.app_context():
        patient = clinic.patient(email="late@example.org")
        visit = clinic.appointment(patient.id, clinic.slot(clinic.doctor().id, now + timedelta(hours=5))).id
    url = link(app, visit, "cancel")
    web.get(url)
    answer = web.post(url)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "too late to cancel or move this appointment online" in html
    assert PHONE in html
    with app.app_context():
        assert db.session.get(Appointment, visit).status == "scheduled"


def test_without_a_clinic_phone_the_sentences_still_say_what_to_do(app, web_as, rules_on, now):
    rules_on(CLINIC_PHONE="")
    client, me = web_as("patient")
    with app.app_context():
        visit = clinic.appointment(me.patient_id, clinic.slot(clinic.doctor().id, now + timedelta(hours=5))).id
    html = client.get(f"/appointments/{visit}/cancel").get_data(as_text=True)
    assert "Please call the clinic." in html
