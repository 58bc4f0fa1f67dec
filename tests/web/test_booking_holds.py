"""Holding a slot from the doctor page, confirming or releasing it, and what a patient is told when a time slipped
away: as htmx fragments (the panel or the message, with the grid out of band) and as plain forms."""
import re
from datetime import timedelta

from redis import Redis

from portal.extensions import db
from portal.models import Appointment, Slot
from portal.services import clinic_time
from portal.services.scheduling import holds
from portal.services.scheduling.hold_store import RedisHoldStore
from tests.fixtures import clinic
from tests.web.booking_pages import hold, hold_id_in, setup_week

TAKEN_NOW = "Someone else is booking this time right now."
JUST_BOOKED = "This time was just booked."




def on_page(client, doctor_id, week):
    return client.get(f"/doctors/{doctor_id}?week={week.monday}")






def appointments_of(app, patient_id):
    with app.app_context():
        return [(a.slot_id, a.status, a.reason) for a in db.session.scalars(
            db.select(Appointment).where(Appointment.patient_id == patient_id))]


def test_holding_a_free_time_opens_the_confirm_panel_with_its_countdown(app, web_as):
    client, me = web_as("patient")
    doctor_id, week, (slot_id, _) = setup_week(app)
    on_page(client, doctor_id, week)
    response = hold(client, doctor_id, week, slot_id)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert "Confirm your appointment" in html and "09:00 CET" in html
    assert re.search(r'data-expires-at="[^"]+" data-server-now="[^"]+"', html)
    assert 'id="week-grid" class="week-region" hx-swap-oob="true"' in html
    assert '<span class="slot-note">your hold</span>' in html  # the refreshed grid marks it as the patient's
    assert response.headers["HX-Replace-Url"] == f"/doctors/{doctor_id}?week={week.monday}&hold={hold_id_in(html)}"
    with app.app_context():
        assert holds.get_hold(hold_id_in(html)).patient_id == me.patient_id


def test_someone_elses_hold_is_said_next_to_the_grid_on_the_same_week(app, web_as, factories):
    client, _ = web_as("patient")
    rival = factories.user("patient")
    doctor_id, week, (slot_id, other_id) = setup_week(app)
    on_page(client, doctor_id, week)
    with app.app_context():
        holds.place_hold(clinic.actor(rival.id), slot_id)
    response = hold(client, doctor_id, week, slot_id)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert response.headers["HX-Retarget"] == "#booking-message"
    assert html.lstrip().startswith(f'<p class="message message-error" tabindex="-1" autofocus>{TAKEN_NOW}')
    assert '<div id="booking-panel" hx-swap-oob="innerHTML"></div>' in html
    assert f"Free times: {week.monday.day}" in html and f'name="slot_id" value="{other_id}"' in html
    assert f'name="slot_id" value="{slot_id}"' not in html  # the grid now shows it as taken


def test_a_time_booked_meanwhile_is_said_plainly_and_a_plain_form_gets_the_page(app, web_as, factories):
    client, _ = web_as("patient")
    booker = factories.user("patient")
    doctor_id, week, (slot_id, _) = setup_week(app)
    on_page(client, doctor_id, week)
    with app.app_context():
        clinic.appointment(booker.patient_id, db.session.get(Slot, slot_id))
    assert JUST_BOOKED in hold(client, doctor_id, week, slot_id).get_data(as_text=True)

    response = hold(client, doctor_id, week, slot_id, htmx=False)
    html = response.get_data(as_text=True)
    assert response.status_code == 409 and html.lstrip().startswith("<!doctype html>")
    assert JUST_BOOKED in html and "Dr Adam Baker" in html


def test_a_time_that_has_begun_cannot_be_held(app, web_as):
    client, _ = web_as("patient")
    doctor_id, week, _ = setup_week(app)
    with app.app_context():
        started = clinic.slot(doctor_id, clinic_time.now() - timedelta(minutes=5)).id
    on_page(client, doctor_id, week)
    html = hold(client, doctor_id, week, started).get_data(as_text=True)
    assert "That time has already begun." in html


def test_confirming_books_the_time_and_the_grid_shows_it_taken(app, web_as):
    client, me = web_as("patient")
    doctor_id, week, (slot_id, _) = setup_week(app)
    on_page(client, doctor_id, week)
    hold_id = hold_id_in(hold(client, doctor_id, week, slot_id).get_data(as_text=True))
    response = client.post(f"/doctors/{doctor_id}/holds/{hold_id}/confirm",
                           {"reason": "Chest pain when climbing stairs", "week": week.monday.isoformat()},
                           htmx_target="booking-panel")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert "Booked" in html and "Your appointment with Dr Adam Baker is on" in html and "09:00 CET" in html
    assert re.search(r'href="/appointments/\d+\.ics"\s+download>Add to my calendar', html)
    assert f'name="slot_id" value="{slot_id}"' not in html and "taken" in html
    assert appointments_of(app, me.patient_id) == [(slot_id, "scheduled", "Chest pain when climbing stairs")]


def test_without_javascript_the_hold_is_in_the_url_and_confirming_leads_to_the_dashboard(app, web_as):
    client, me = web_as("patient")
    doctor_id, week, (slot_id, _) = setup_week(app)
    on_page(client, doctor_id, week)
    response = hold(client, doctor_id, week, slot_id, htmx=False)
    assert response.status_code == 302 and "&hold=" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Confirm your appointment" in page and "Held for you until" in page
    again = client.get(response.headers["Location"]).get_data(as_text=True)  # a refresh keeps the panel
    assert hold_id_in(again) == hold_id_in(page)

    booked = client.post(f"/doctors/{doctor_id}/holds/{hold_id_in(page)}/confirm", {"week": str(week.monday)},
                         follow_redirects=True)
    html = booked.get_data(as_text=True)
    assert "Booked: " in html and "Your dashboard" in html and "with Dr Adam Baker" in html
    assert [status for _, status, _ in appointments_of(app, me.patient_id)] == ["scheduled"]


def test_releasing_frees_the_time_at_once(app, web_as):
    client, me = web_as("patient")
    doctor_id, week, (slot_id, _) = setup_week(app)
    on_page(client, doctor_id, week)
    hold_id = hold_id_in(hold(client, doctor_id, week, slot_id).get_data(as_text=True))
    response = client.post(f"/doctors/{doctor_id}/holds/{hold_id}/release", {"week": str(week.monday)},
                           htmx_target="booking-panel")
    html = response.get_data(as_text=True)
    assert "The time is released for others to book." in html and "<html" not in html
    assert f'name="slot_id" value="{slot_id}"' in html and "your hold" not in html
    with app.app_context():
        assert holds.get_hold(hold_id) is None


def test_an_expired_hold_cannot_be_confirmed(app, web_as):
    client, me = web_as("patient")
    doctor_id, week, (slot_id, _) = setup_week(app)
    on_page(client, doctor_id, week)
    hold_id = hold_id_in(hold(client, doctor_id, week, slot_id).get_data(as_text=True))
    with app.app_context():
        holds.release_hold(clinic.actor(me.id), hold_id)  # as if its time had run out
    html = client.post(f"/doctors/{doctor_id}/holds/{hold_id}/confirm", {"week": str(week.monday)},
                       htmx_target="booking-panel").get_data(as_text=True)
    assert "Your hold has expired and the time was released." in html
    assert appointments_of(app, me.patient_id) == []
    page = client.get(f"/doctors/{doctor_id}?week={week.monday}&hold={hold_id}").get_data(as_text=True)
    assert "Your hold has expired" in page and "Confirm your appointment" not in page


def test_someone_elses_hold_cannot_be_confirmed_or_shown(app, web_as):
    owner, _ = web_as("patient")
    thief, thief_user = web_as("patient")
    doctor_id, week, (slot_id, _) = setup_week(app)
    on_page(owner, doctor_id, week)
    hold_id = hold_id_in(hold(owner, doctor_id, week, slot_id).get_data(as_text=True))
    on_page(thief, doctor_id, week)
    stolen = thief.post(f"/doctors/{doctor_id}/holds/{hold_id}/confirm", {"week": str(week.monday)})
    assert stolen.status_code == 404
    peek = thief.get(f"/doctors/{doctor_id}?week={week.monday}&hold={hold_id}").get_data(as_text=True)
    assert "Confirm your appointment" not in peek
    assert appointments_of(app, thief_user.patient_id) == []


def test_a_reason_that_is_too_long_is_shown_in_the_panel_and_the_hold_stays(app, web_as):
    client, me = web_as("patient")
    doctor_id, week, (slot_id, _) = setup_week(app)
    on_page(client, doctor_id, week)
    hold_id = hold_id_in(hold(client, doctor_id, week, slot_id).get_data(as_text=True))
    response = client.post(f"/doctors/{doctor_id}/holds/{hold_id}/confirm",
                           {"reason": "x" * 2001, "week": str(week.monday)}, htmx_target="booking-panel")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "Keep the reason under 2000 characters." in html
    assert "Confirm your appointment" in html and appointments_of(app, me.patient_id) == []


def test_holding_needs_the_csrf_token_and_a_patient(app, web_as, web):
    client, me = web_as("patient")
    doctor_id, week, (slot_id, _) = setup_week(app)
    forged = client.client.post(f"/doctors/{doctor_id}/holds", data={"slot_id": slot_id})
    assert forged.status_code == 400
    with app.app_context():
        assert holds.slot_holders([slot_id]) == {}
    visitor = web.post(f"/doctors/{doctor_id}/holds", {"slot_id": slot_id})
    assert visitor.status_code == 302 and "/login" in visitor.headers["Location"]
    doctor, _ = web_as("doctor")
    assert doctor.post(f"/doctors/{doctor_id}/holds", {"slot_id": slot_id}).status_code == 403


def test_with_the_hold_store_down_the_patient_is_told_and_nothing_breaks(app, web_as, monkeypatch):
    client, _ = web_as("patient")
    doctor_id, week, (slot_id, _) = setup_week(app)
    # setitem puts back exactly what was there, including nothing (a store not made yet must not become None)
    monkeypatch.setitem(app.extensions, "hold_store",
                        RedisHoldStore(Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1)))
    answer = hold(client, doctor_id, week, slot_id)
    plain = hold(client, doctor_id, week, slot_id, htmx=False)
    assert answer.status_code == 200 and "Holds are unavailable for a moment" in answer.get_data(as_text=True)
    assert plain.status_code == 503 and "Holds are unavailable for a moment" in plain.get_data(as_text=True)
