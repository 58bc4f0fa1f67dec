"""The pages a reminder's links open: no sign-in, one button that POSTs, a plain answer, and plain words when
the link or the time no longer allows it."""
import pytest

from portal.extensions import db
from portal.models import Appointment
from portal.services.scheduling import reminder_links
from tests.fixtures import clinic
from tests.fixtures.web_client import WebClient


@pytest.fixture
def doctor(factories):
    return factories.user("doctor", full_name="Dr Ada Heart")


@pytest.fixture
def visit(app, doctor):
    """An appointment a day and a half ahead, with a reason; the patient has no account (booked at the desk)."""
    with app.app_context():
        patient = clinic.patient(full_name="Paula Patient", email="paula@example.org")
        return clinic.appointment(patient.id, clinic.slot(doctor.doctor_id, clinic.soon(36)),
                                  reason="Chest pain since Tuesday").id


def link(app, appointment_id: int, action: str) -> str:
    with app.app_context():
        url = reminder_links.link(db.session.get(Appointment, appointment_id), action)
        db.session.remove()
    return url.removeprefix(app.config["PUBLIC_BASE_URL"].rstrip("/"))


def stored(app, appointment_id: int) -> Appointment:
    with app.app_context():
        row = db.session.get(Appointment, appointment_id)
        db.session.expunge(row)
        db.session.remove()
    return row


def test_the_confirm_link_opens_a_page_without_sign_in_and_its_button_confirms(app, web, visit):
    url = link(app, visit, "confirm")
    page = web.get(url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Will you come?" in html
    assert "with Dr Ada Heart" in html and ("CET" in html or "CEST" in html)
    assert "Chest pain" not in html and "General practice" not in html
    assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"
    assert stored(app, visit).confirmed_at is None  # opening the link changes nothing
    answer = web.post(url)
    assert answer.status_code == 200 and "Thanks, we expect you on" in answer.get_data(as_text=True)
    confirmed_at = stored(app, visit).confirmed_at
    assert confirmed_at is not None
    again = web.get(url).get_data(as_text=True)
    assert "already told us that you will come" in again and "Yes, I&#39;ll come" not in again
    web.post(url)
    assert stored(app, visit).confirmed_at == confirmed_at


def test_the_cancel_link_cancels_and_offers_to_book_again(app, web, visit):
    url = link(app, visit, "cancel")
    html = web.get(url).get_data(as_text=True)
    assert "Cancel your appointment?" in html and "Yes, cancel it" in html
    answer = web.post(url)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "Cancelled. The time is free for others again." in html
    assert "Book again here" in html
    assert stored(app, visit).status == "cancelled"
    html = web.get(url).get_data(as_text=True)
    assert "This appointment has been cancelled." in html and "Yes, cancel it" not in html
    # the heading says what is so, not that it "can no longer be cancelled online" (it was, online)
    assert "<h1>This appointment is cancelled</h1>" in html and "can no longer" not in html
    assert "<h1>This appointment is cancelled</h1>" in web.get(link(app, visit, "confirm")).get_data(as_text=True)


def test_the_button_needs_the_pages_csrf_token(app, web, visit):
    url = link(app, visit, "confirm")
    response = web.client.post(url, data={})
    assert response.status_code == 400 and "This form has expired" in response.get_data(as_text=True)
    assert stored(app, visit).confirmed_at is None


def test_a_damaged_link_is_a_plain_404_page(app, web, visit):
    url = link(app, visit, "cancel")
    confirm_token_as_cancel = link(app, visit, "confirm").replace("/confirm/", "/cancel/")
    for broken in (url[:-3] + "abc", "/r/cancel/nonsense", confirm_token_as_cancel):
        for response in (web.get(broken), web.post(broken)):
            html = response.get_data(as_text=True)
            assert response.status_code == 404 and "This link does not work" in html
            assert "Traceback" not in html
    assert stored(app, visit).status == "scheduled"


def test_after_the_start_the_cancel_page_says_it_is_too_late_and_whom_to_call(app, web, factories):
    app.config["CLINIC_PHONE"] = "+49 30 1234567"
    try:
        doctor = factories.user("doctor")
        with app.app_context():
            patient = clinic.patient(email="late@example.org")
            started = clinic.appointment(patient.id, clinic.slot(doctor.doctor_id, clinic.soon(-0.5))).id
        url = link(app, started, "cancel")
        for response in (web.get(url), web.post(url)):
            html = response.get_data(as_text=True)
            assert response.status_code == 410 and "This link has expired" in html
            assert "too late to cancel online" in html and "please call the clinic on +49 30 1234567" in html
    finally:
        app.config["CLINIC_PHONE"] = ""
    assert stored(app, started).status == "scheduled"


def test_a_moved_appointments_old_link_says_so(app, web, factories, visit):
    old = link(app, visit, "confirm")
    with app.app_context():
        row = db.session.get(Appointment, visit)
        moved_to = clinic.slot(row.doctor_id, clinic.soon(60))
        row.slot_id, row.starts_at, row.ends_at = moved_to.id, moved_to.starts_at, moved_to.ends_at
        db.session.commit()
    for response in (web.get(old), web.post(old)):
        assert response.status_code == 410 and "has moved" in response.get_data(as_text=True)
    assert stored(app, visit).confirmed_at is None
    assert web.post(link(app, visit, "confirm")).status_code == 200


def test_the_doctor_sees_who_confirmed(app, web, doctor, visit):
    client = WebClient(app.test_client())
    assert client.login(doctor.username, doctor.password).status_code == 302
    day = f"/dashboard?from={stored(app, visit).starts_at.date().isoformat()}"
    assert "Patient confirmed" not in client.get(day).get_data(as_text=True)
    web.post(link(app, visit, "confirm"))
    html = client.get(day).get_data(as_text=True)
    assert "Paula Patient" in html and "Patient confirmed" in html


def test_the_patient_sees_on_the_dashboard_that_they_confirmed(app, web, web_as, doctor):
    client, me = web_as("patient")
    with app.app_context():
        visit = clinic.appointment(me.patient_id, clinic.slot(doctor.doctor_id, clinic.soon(36))).id
    assert "You said you will come" not in client.get("/dashboard").get_data(as_text=True)
    web.post(link(app, visit, "confirm"))
    assert "You said you will come" in client.get("/dashboard").get_data(as_text=True)
