"""A doctor's availability page: a weekly plan that reports what it made, and the week calendar with removal."""
import re
from datetime import time, timedelta

from portal.extensions import db
from portal.models import Slot
from portal.services import clinic_time
from tests.fixtures import clinic


def next_week(app):
    with app.app_context():
        return clinic_time.week_of(clinic_time.today()).next


def plan(week, **changes):
    """Next week, Monday to Wednesday, 09:00 to 10:00 in half hours: six slots."""
    fields = {"from_date": week.monday.isoformat(), "to_date": (week.monday + timedelta(days=2)).isoformat(),
              "weekdays": ["0", "1", "2"], "start_time": "09:00", "end_time": "10:00", "duration": "30"}
    return {**fields, **changes}


def live_slots(app, doctor_id):
    with app.app_context():
        return db.session.scalars(db.select(Slot).where(Slot.doctor_id == doctor_id, Slot.removed_at.is_(None))
                                  .order_by(Slot.starts_at)).all()


def test_the_page_has_the_plan_form_with_labels_and_the_week(app, web_as):
    client, _ = web_as("doctor")
    html = client.get("/doctor/availability").get_data(as_text=True)
    for label in ("From", "Until (inclusive)", "Start time", "End time", "Slot length (minutes)"):
        assert re.search(rf'<label for="\w+">{re.escape(label)}</label>', html)
    assert "<legend>Weekdays</legend>" in html and '<label for="weekdays-6">Sunday</label>' in html
    assert 'id="week-grid"' in html and "Times are clinic time, Europe/Berlin" in html


def test_a_plain_plan_form_reports_what_it_made_and_shows_the_week(app, web_as):
    client, me = web_as("doctor")
    week = next_week(app)
    client.get("/doctor/availability")
    response = client.post("/doctor/availability", plan(week))
    assert response.status_code == 302 and f"week={week.monday}" in response.headers["Location"]
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "6 slots created, 0 skipped (overlapping or past)." in html
    assert html.count('<span class="slot-note">free</span>') == 6 and "09:30" in html
    assert len(live_slots(app, me.doctor_id)) == 6


def test_the_plan_component_answers_with_itself_and_the_calendar_out_of_band(app, web_as):
    client, me = web_as("doctor")
    week = next_week(app)
    client.get("/doctor/availability")
    client.post("/doctor/availability", plan(week, weekdays=["0"]))  # Monday exists already
    response = client.post("/doctor/availability", plan(week), htmx_target="plan-form")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith('<form id="plan-form"')
    assert "4 slots created, 2 skipped (overlapping or past)." in html
    assert '<div id="week-grid" class="week-region" hx-swap-oob="true">' in html
    assert html.count('<span class="slot-note">free</span>') == 6
    assert response.headers["HX-Replace-Url"] == f"/doctor/availability?week={week.monday}"


def test_a_plan_that_makes_no_sense_is_explained_next_to_the_field(app, web_as):
    client, me = web_as("doctor")
    week = next_week(app)
    client.get("/doctor/availability")
    response = client.post("/doctor/availability", plan(week, start_time="12:00", end_time="09:00"),
                           htmx_target="plan-form")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<ul class="field-errors" id="end_time-errors">' in html
    assert "The end time must be after the start time." in html
    assert 'value="12:00"' in html  # what was typed stays
    none_picked = client.post("/doctor/availability", plan(week, weekdays=[]), htmx_target="plan-form")
    assert "Pick at least one weekday." in none_picked.get_data(as_text=True)
    assert live_slots(app, me.doctor_id) == []


def test_removing_a_free_slot_asks_first_and_refreshes_the_calendar(app, web_as):
    client, me = web_as("doctor")
    week = next_week(app)
    client.get("/doctor/availability")
    client.post("/doctor/availability", plan(week, weekdays=["0"], end_time="09:30"))
    (slot,) = live_slots(app, me.doctor_id)
    page = client.get(f"/doctor/availability?week={week.monday}").get_data(as_text=True)
    assert re.search(rf'hx-post="/doctor/availability/slots/{slot.id}/remove".*?hx-confirm="Remove the free slot',
                     page, re.S)
    response = client.post(f"/doctor/availability/slots/{slot.id}/remove", {"week": str(week.monday)},
                           htmx_target="calendar-message")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith('<p class="message message-success"') and "Removed the slot of" in html
    assert "09:00 CET" in html and '<span class="slot-note">free</span>' not in html
    assert live_slots(app, me.doctor_id) == []


def test_without_javascript_removal_has_a_confirmation_page(app, web_as):
    client, me = web_as("doctor")
    week = next_week(app)
    client.get("/doctor/availability")
    client.post("/doctor/availability", plan(week, weekdays=["0"], end_time="09:30"))
    (slot,) = live_slots(app, me.doctor_id)
    confirm = client.get(f"/doctor/availability/slots/{slot.id}/remove?week={week.monday}").get_data(as_text=True)
    assert "Remove this slot?" in confirm and "Yes, remove it" in confirm and "09:00 CET" in confirm
    assert len(live_slots(app, me.doctor_id)) == 1
    done = client.post(f"/doctor/availability/slots/{slot.id}/remove", {"week": str(week.monday)},
                       follow_redirects=True).get_data(as_text=True)
    assert "Removed the slot of" in done and live_slots(app, me.doctor_id) == []


def test_a_booked_slot_names_the_patient_and_cannot_be_removed(app, web_as):
    client, me = web_as("doctor")
    week = next_week(app)
    with app.app_context():
        slot = clinic.slot(me.doctor_id, clinic_time.local_instant(week.monday, time(9)))
        clinic.appointment(clinic.patient("Paula Patient").id, slot)
        slot_id = slot.id
    page = client.get(f"/doctor/availability?week={week.monday}").get_data(as_text=True)
    assert '<span class="slot-note">booked: Paula Patient</span>' in page and "To remove it, " in page
    assert f'href="/doctor/slots/{slot_id}/appointment/cancel?next=' in page  # not a dead end: see test_doctor_cancel
    assert f"/slots/{slot_id}/remove" not in page
    response = client.post(f"/doctor/availability/slots/{slot_id}/remove", {"week": str(week.monday)},
                           htmx_target="calendar-message")
    assert "This slot is booked, so it cannot be removed: cancel the appointment first." in response.get_data(
        as_text=True)
    assert len(live_slots(app, me.doctor_id)) == 1


def test_the_calendar_names_patients_so_htmx_keeps_no_history_copy_of_it(app, web_as):
    client, me = web_as("doctor")
    week = next_week(app)
    with app.app_context():
        clinic.appointment(clinic.patient("Hanna Hidden").id,
                           clinic.slot(me.doctor_id, clinic_time.local_instant(week.monday, time(9))))
    page = client.get(f"/doctor/availability?week={week.monday}").get_data(as_text=True)
    assert "Hanna Hidden" in page and '<body hx-history="false">' in page


def test_another_doctors_slots_are_out_of_reach(app, web_as, factories):
    client, _ = web_as("doctor")
    colleague = factories.user("doctor")
    week = next_week(app)
    with app.app_context():
        slot_id = clinic.slot(colleague.doctor_id, clinic_time.local_instant(week.monday, time(9))).id
    client.get("/doctor/availability")
    assert client.post(f"/doctor/availability/slots/{slot_id}/remove", {"week": str(week.monday)}).status_code == 404
    assert client.get(f"/doctor/availability?doctor_id={colleague.doctor_id}").status_code == 404
    assert client.post("/doctor/availability", {**plan(week), "doctor_id": colleague.doctor_id}).status_code == 404
    assert len(live_slots(app, colleague.doctor_id)) == 1
    patient, _ = web_as("patient")
    assert patient.get("/doctor/availability").status_code == 403


def test_an_admin_picks_a_doctor_and_manages_their_calendar(app, web_as, factories):
    client, _ = web_as("admin")
    doctor = factories.user("doctor", full_name="Dr Carla Diaz")
    week = next_week(app)
    picker = client.get("/doctor/availability").get_data(as_text=True)
    assert '<label for="doctor_id">Doctor</label>' in picker and "Dr Carla Diaz" in picker
    page = client.get(f"/doctor/availability?doctor_id={doctor.doctor_id}").get_data(as_text=True)
    assert "Availability: Dr Carla Diaz" in page
    assert f'name="doctor_id" type="hidden" value="{doctor.doctor_id}"' in page
    response = client.post("/doctor/availability", {**plan(week), "doctor_id": doctor.doctor_id})
    assert f"doctor_id={doctor.doctor_id}" in response.headers["Location"]
    assert len(live_slots(app, doctor.doctor_id)) == 6


def test_one_submit_of_the_plan_shows_every_problem_at_once(app, web_as):
    client, me = web_as("doctor")
    week = next_week(app)
    client.get("/doctor/availability")
    for target in (None, "plan-form"):
        response = client.post("/doctor/availability", plan(
            week, from_date=(week.monday - timedelta(days=14)).isoformat(), to_date="", weekdays=[],
            start_time="11:00", end_time="10:00"), htmx_target=target)
        html = response.get_data(as_text=True)
        assert response.status_code == 422
        for field, message in (("from_date", "A plan cannot start in the past."), ("to_date", "Fill this in."),
                               ("weekdays", "Pick at least one weekday."),
                               ("end_time", "The end time must be after the start time.")):
            assert re.search(rf'id="{field}-errors">\s*<li>{re.escape(message)}</li>', html), (target, field)
    assert live_slots(app, me.doctor_id) == []


def test_slot_lengths_come_from_a_sensible_set(app, web_as):
    client, me = web_as("doctor")
    week = next_week(app)
    html = client.get("/doctor/availability").get_data(as_text=True)
    select = re.search(r'<select id="duration" name="duration"[^>]*>(.*?)</select>', html, re.S).group(1)
    values = [int(value) for value in re.findall(r'<option[^>]*value="(\d+)"', select)]
    assert values[0] == 10 and all(value % 5 == 0 for value in values) and '<option selected value="30">' in select
    response = client.post("/doctor/availability", plan(week, duration="7"), htmx_target="plan-form")
    assert response.status_code == 422 and 'id="duration-errors"' in response.get_data(as_text=True)
    assert live_slots(app, me.doctor_id) == []


def test_a_plan_that_creates_nothing_says_why(app, web_as):
    client, _ = web_as("doctor")
    week = next_week(app)
    client.get("/doctor/availability")
    client.post("/doctor/availability", plan(week))
    again = client.post("/doctor/availability", plan(week), htmx_target="plan-form").get_data(as_text=True)
    assert ("No slots were created: all 6 times of this plan overlap slots you already have or have already "
            "begun.") in again
    weekend = client.post("/doctor/availability", plan(week, weekdays=["5"]), htmx_target="plan-form")
    assert weekend.status_code == 422
    assert "None of the picked weekdays falls between the first and the last day." in weekend.get_data(as_text=True)
    short = client.post("/doctor/availability", plan(week, end_time="09:20"), htmx_target="plan-form")
    assert "From 09:00 to 09:20 there is no room for one slot of 30 minutes." in short.get_data(as_text=True)


def test_an_admin_sees_the_patients_names_in_any_doctors_calendar_and_a_cancelled_visit_names_none(
        app, web_as, factories):
    client, _ = web_as("admin")
    doctor = factories.user("doctor")
    week = next_week(app)
    with app.app_context():
        slots = [clinic.slot(doctor.doctor_id, clinic_time.local_instant(week.monday, time(h))) for h in (9, 10)]
        clinic.appointment(clinic.patient("Olga Booked").id, slots[0])
        clinic.appointment(clinic.patient("Carl Cancelled").id, slots[1], status="cancelled")
    page = client.get(f"/doctor/availability?doctor_id={doctor.doctor_id}&week={week.monday}").get_data(as_text=True)
    assert "booked: Olga Booked" in page and "Carl Cancelled" not in page
    grid = client.htmx_get(f"/doctor/availability?doctor_id={doctor.doctor_id}&week={week.monday}",
                           target="week-grid").get_data(as_text=True)
    assert "<html" not in grid and "booked: Olga Booked" in grid
