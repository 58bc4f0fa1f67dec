"""The waitlist in the portal: the links to it, the form, the dashboard's entries and offers, leaving."""
import re
from datetime import timedelta

from portal.extensions import db
from portal.models import WaitlistEntry
from portal.services import clinic_time
from portal.services.jobs import outbox
from portal.services.scheduling import appointments, waitlist_matching
from tests.fixtures import clinic


def a_doctor(app, **fields):
    with app.app_context():
        fields.setdefault("speciality", "Dermatology")
        return clinic.doctor(**fields).id


def entries(app) -> list[WaitlistEntry]:
    with app.app_context():
        found = list(db.session.scalars(db.select(WaitlistEntry).order_by(WaitlistEntry.id)))
        db.session.expunge_all()
        return found


def days(app, n: int) -> str:
    with app.app_context():
        return (clinic_time.today() + timedelta(days=n)).isoformat()


def join_form(client, app, **fields):
    data = {"start": days(app, 0), "end": days(app, 14), **fields}
    return client.post("/waitlist/new", data)


def test_a_doctor_page_and_a_speciality_search_link_to_the_prefilled_form(app, web_as):
    client, _ = web_as("patient")
    doctor_id = a_doctor(app, full_name="Dr Ada Holm")
    page = client.get(f"/doctors/{doctor_id}").get_data(as_text=True)
    assert f'href="/waitlist/new?doctor_id={doctor_id}"' in page and "Tell me when something opens" in page
    search = client.get("/doctors?speciality=Dermatology&available_from=2027-01-04").get_data(as_text=True)
    link = re.search(r'href="(/waitlist/new\?[^"]+)"', search).group(1).replace("&amp;", "&")
    assert "speciality=Dermatology" in link and "from=2027-01-04" in link
    form = client.get(link).get_data(as_text=True)
    assert "A time with any doctor of Dermatology" in form and 'value="2027-01-04"' in form
    form = client.get(f"/waitlist/new?doctor_id={doctor_id}").get_data(as_text=True)
    assert "A time with Dr Ada Holm" in form


def test_joining_from_the_form_lands_on_the_dashboard(app, web_as):
    client, me = web_as("patient")
    doctor_id = a_doctor(app, full_name="Dr Ada Holm")
    response = join_form(client, app, doctor_id=doctor_id, weekdays=["0", "2"], earliest_time="09:00")
    assert response.status_code == 302 and response.headers["Location"].endswith("/dashboard#waitlist")
    [entry] = entries(app)
    assert (entry.doctor_id, entry.weekdays, entry.earliest_time.hour) == (doctor_id, 0b101, 9)
    dashboard = client.get("/dashboard").get_data(as_text=True)
    section = dashboard[dashboard.index('id="waitlist"'):]
    assert "Dr Ada Holm" in section and "Monday, Wednesday" in section and "from 09:00" in section
    assert "1 person is waiting" in section and f"/waitlist/{entry.id}/leave" in section


def test_the_form_names_every_problem_next_to_its_field_and_keeps_what_was_typed(app, web_as):
    client, _ = web_as("patient")
    doctor_id = a_doctor(app)
    response = join_form(client, app, doctor_id=doctor_id, start=days(app, 5), end=days(app, 2),
                         earliest_time="14:00", latest_time="10:00")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "The end must come after the start." in page and "The latest time must be after" in page
    assert f'value="{days(app, 5)}"' in page
    assert entries(app) == []


def test_staff_and_strangers_get_no_form(app, web_as, web):
    doctor_id = a_doctor(app)
    assert web.get(f"/waitlist/new?doctor_id={doctor_id}").status_code == 302  # to the login
    staff, _ = web_as("doctor")
    assert staff.get(f"/waitlist/new?doctor_id={doctor_id}").status_code == 403


def test_an_offer_shows_with_its_countdown_and_books_through_the_confirm_panel(app, web_as):
    client, me = web_as("patient")
    doctor_id = a_doctor(app, full_name="Dr Ada Holm")
    join_form(client, app, doctor_id=doctor_id)
    with app.app_context():
        slot = clinic.slot(doctor_id, clinic.soon(48))
        [offer] = waitlist_matching.offer_free_slots([slot.id])
        offer_id, slot_id = offer.id, slot.id
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "data-expires-at=" in dashboard and "data-countdown" in dashboard and "js/countdown.js" in dashboard
    assert f"/waitlist/offers/{offer_id}" in dashboard and "Book it" in dashboard
    opened = client.get(f"/waitlist/offers/{offer_id}")
    assert opened.status_code == 302 and f"/doctors/{doctor_id}?" in opened.headers["Location"]
    panel = client.get(opened.headers["Location"]).get_data(as_text=True)
    assert "Confirm your appointment" in panel
    hold_id = re.search(r"hold=([\w-]+)", opened.headers["Location"]).group(1)
    booked = client.post(f"/doctors/{doctor_id}/holds/{hold_id}/confirm", {"reason": ""})
    assert booked.status_code == 302
    [entry] = entries(app)
    assert entry.status == "booked"
    again = client.get(f"/waitlist/offers/{offer_id}")
    assert again.status_code == 302 and again.headers["Location"].endswith("/dashboard#waitlist")
    assert "You booked this time" in client.get("/dashboard").get_data(as_text=True)
    assert slot_id


def test_someone_elses_offer_is_404(app, web_as):
    client, _ = web_as("patient")
    other, _ = web_as("patient")
    doctor_id = a_doctor(app)
    join_form(client, app, doctor_id=doctor_id)
    with app.app_context():
        [offer] = waitlist_matching.offer_free_slots([clinic.slot(doctor_id, clinic.soon(48)).id])
        offer_id = offer.id
    assert other.get(f"/waitlist/offers/{offer_id}").status_code == 404


def test_leaving_asks_first_then_keeps_the_entry_cancelled(app, web_as):
    client, _ = web_as("patient")
    other, _ = web_as("patient")
    doctor_id = a_doctor(app)
    join_form(client, app, doctor_id=doctor_id)
    [entry] = entries(app)
    ask = client.get(f"/waitlist/{entry.id}/leave").get_data(as_text=True)
    assert "Yes, leave the waitlist" in ask
    assert re.search(r"The entry: <strong>Dr \w+ \w+</strong>,\s+\d+ \w+ \d{4} to", ask)  # which one is left
    assert other.get(f"/waitlist/{entry.id}/leave").status_code == 404
    assert other.post(f"/waitlist/{entry.id}/leave").status_code == 404
    done = client.post(f"/waitlist/{entry.id}/leave", follow_redirects=True).get_data(as_text=True)
    assert "You left the waitlist." in done and "You left this waitlist." in done
    assert entries(app)[0].status == "cancelled"


def test_a_cancellation_reaches_the_waiting_patients_dashboard_through_the_jobs(app, web_as):
    client, me = web_as("patient")
    doctor_id = a_doctor(app)
    join_form(client, app, doctor_id=doctor_id)
    with app.app_context():
        bob = clinic.actor(clinic.patient_account().id)
        slot = clinic.slot(doctor_id, clinic.soon(48))
        appointments.cancel(bob, appointments.book(bob, slot_id=slot.id).id)
        outbox.run_due()
        db.session.remove()
    assert "A time has opened for you" in client.get("/dashboard").get_data(as_text=True)


def test_a_form_without_doctor_or_speciality_says_so_above_the_fields(app, web_as):
    client, _ = web_as("patient")
    page = join_form(client, app).get_data(as_text=True)
    assert 'class="form-errors"' in page and "Give a doctor or a speciality" in page


def test_a_speciality_entry_reads_as_the_directory_spells_it(app, web_as):
    """The entry keeps the speciality folded to lower case; the dashboard and the leave page say "Dermatology"."""
    client, _ = web_as("patient")
    a_doctor(app)
    assert join_form(client, app, speciality="dermatology").status_code == 302
    [entry] = entries(app)
    assert entry.speciality == "dermatology"
    dashboard = client.get("/dashboard").get_data(as_text=True)
    section = dashboard[dashboard.index('id="waitlist"'):]
    assert "Any doctor of Dermatology</strong>" in section and "of dermatology" not in section
    ask = client.get(f"/waitlist/{entry.id}/leave").get_data(as_text=True)
    assert "The entry: <strong>Any doctor of Dermatology</strong>" in ask


def test_the_form_counts_the_offers_minutes_in_words(app, web_as):
    client, _ = web_as("patient")
    doctor_id = a_doctor(app)
    saved = app.config["WAITLIST_OFFER_MINUTES"]
    try:
        app.config["WAITLIST_OFFER_MINUTES"] = 1
        one = client.get(f"/waitlist/new?doctor_id={doctor_id}").get_data(as_text=True)
    finally:
        app.config["WAITLIST_OFFER_MINUTES"] = saved
    assert re.search(r"held for you for 1\s+minute and", one)
    assert re.search(rf"held for you for {saved}\s+minutes and",
                     client.get(f"/waitlist/new?doctor_id={doctor_id}").get_data(as_text=True))
