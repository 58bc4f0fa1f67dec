"""The doctor's dashboard: today and the coming days by clinic day, and marking visits completed or no-show."""
import re
from datetime import time, timedelta

from portal.extensions import db
from portal.models import Appointment
from portal.services import clinic_time
from tests.fixtures import clinic


def visit(app, doctor_id, starts_at, patient_name="Paula Patient", status="scheduled"):
    with app.app_context():
        patient = clinic.patient(full_name=patient_name)
        return clinic.appointment(patient.id, clinic.slot(doctor_id, starts_at), status=status).id


def local(app, days_ahead, hour, minute=0):
    with app.app_context():
        return clinic_time.local_instant(clinic_time.today() + timedelta(days=days_ahead), time(hour, minute))


def status_of(app, appointment_id):
    with app.app_context():
        return db.session.get(Appointment, appointment_id).status


def test_the_coming_days_are_grouped_by_day_in_time_order(app, web_as, factories):
    client, me = web_as("doctor")
    colleague = factories.user("doctor")
    visit(app, me.doctor_id, local(app, 2, 11), "Second Day Late")
    visit(app, me.doctor_id, local(app, 2, 8, 30), "Second Day Early")
    visit(app, me.doctor_id, local(app, 1, 14), "Tomorrow Patient")
    visit(app, me.doctor_id, local(app, 9, 10), "Too Far Ahead")
    visit(app, colleague.doctor_id, local(app, 1, 9), "Other Doctors Patient")
    html = client.get("/dashboard").get_data(as_text=True)
    names = re.findall(r"<p>([\w' ]+)</p>\s*(?:<p class=\"muted\">|\s*</li>|<div class=\"row-actions\">)", html)
    assert names == ["Tomorrow Patient", "Second Day Early", "Second Day Late"]
    with app.app_context():
        tomorrow = clinic_time.today() + timedelta(days=1)
    assert f">{tomorrow:%A %-d %B}</h3>" in html and "08:30–09:00 CET" in html
    assert "Too Far Ahead" not in html and "Other Doctors Patient" not in html
    assert "Mark completed" not in html  # none of them has started


def test_marking_a_started_visit_swaps_its_row(app, web_as):
    client, me = web_as("doctor")
    with app.app_context():
        started = clinic_time.now() - timedelta(minutes=10)
    appointment_id = visit(app, me.doctor_id, started)
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Mark completed" in page and "Mark no-show" in page
    response = client.post(f"/doctor/appointments/{appointment_id}/mark", {"status": "completed"},
                           htmx_target=f"visit-{appointment_id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith(f'<li id="visit-{appointment_id}"')
    assert "Marked completed." in html and "Completed</span>" in html
    assert "Mark completed" not in html and "Mark no-show" in html  # it can still be corrected
    assert status_of(app, appointment_id) == "completed"


def test_marking_without_javascript_comes_back_to_the_dashboard(app, web_as):
    client, me = web_as("doctor")
    with app.app_context():
        started = clinic_time.now() - timedelta(minutes=10)
    appointment_id = visit(app, me.doctor_id, started, "Nina Noshow")
    client.get("/dashboard")
    html = client.post(f"/doctor/appointments/{appointment_id}/mark", {"status": "no_show"},
                       follow_redirects=True).get_data(as_text=True)
    assert "Nina Noshow" in html and "Marked as a no-show." in html and "Missed (no-show)" in html
    assert status_of(app, appointment_id) == "no_show"


def test_a_visit_that_has_not_started_is_refused_with_the_services_words(app, web_as):
    client, me = web_as("doctor")
    appointment_id = visit(app, me.doctor_id, local(app, 1, 9))
    client.get("/dashboard")
    response = client.post(f"/doctor/appointments/{appointment_id}/mark", {"status": "completed"},
                           htmx_target=f"visit-{appointment_id}")
    assert response.status_code == 422
    assert "This appointment has not started yet." in response.get_data(as_text=True)
    assert status_of(app, appointment_id) == "scheduled"


def test_another_doctors_visit_is_not_found_and_patients_may_not_mark(app, web_as, factories):
    client, _ = web_as("doctor")
    colleague = factories.user("doctor")
    with app.app_context():
        started = clinic_time.now() - timedelta(minutes=10)
    appointment_id = visit(app, colleague.doctor_id, started)
    client.get("/dashboard")
    assert client.post(f"/doctor/appointments/{appointment_id}/mark", {"status": "completed"}).status_code == 404
    patient, _ = web_as("patient")
    assert patient.post(f"/doctor/appointments/{appointment_id}/mark", {"status": "completed"}).status_code == 403
    assert status_of(app, appointment_id) == "scheduled"


def test_marking_needs_the_csrf_token(app, web_as):
    client, me = web_as("doctor")
    with app.app_context():
        started = clinic_time.now() - timedelta(minutes=10)
    appointment_id = visit(app, me.doctor_id, started)
    forged = client.client.post(f"/doctor/appointments/{appointment_id}/mark", data={"status": "completed"})
    assert forged.status_code == 400 and status_of(app, appointment_id) == "scheduled"


def day_queries(app, client) -> int:
    with app.app_context(), clinic.counted_queries() as statements:
        assert client.get("/dashboard").status_code == 200
    return len(statements)


def test_the_doctors_days_cost_the_same_queries_for_2_or_20_visits(app, web_as):
    few, few_user = web_as("doctor")
    many, many_user = web_as("doctor")
    for doctor_id, count in ((few_user.doctor_id, 2), (many_user.doctor_id, 20)):
        for n in range(count):
            visit(app, doctor_id, local(app, 1 + n % 5, 8 + n // 5), f"Patient {n}")
    assert day_queries(app, few) == day_queries(app, many)


def test_earlier_visits_nobody_closed_are_listed_to_be_marked(app, web_as, factories):
    client, me = web_as("doctor")
    forgotten = visit(app, me.doctor_id, local(app, -2, 10), "Forgotten Patient")
    visit(app, me.doctor_id, local(app, -3, 10), "Closed Patient", status="completed")
    visit(app, me.doctor_id, local(app, -40, 10), "Long Ago Patient")
    visit(app, factories.user("doctor").doctor_id, local(app, -2, 11), "Other Doctors Patient")
    html = client.get("/dashboard").get_data(as_text=True)
    earlier = html[html.index("Earlier visits not yet closed"):html.index("Today and the coming days")]
    with app.app_context():
        day = clinic_time.today() - timedelta(days=2)
    assert "Forgotten Patient" in earlier and f"{day:%a %-d %b}, 10:00" in earlier
    assert "Mark completed" in earlier
    for absent in ("Closed Patient", "Long Ago Patient", "Other Doctors Patient"):
        assert absent not in html
    client.post(f"/doctor/appointments/{forgotten}/mark", {"status": "no_show"}, htmx_target=f"visit-{forgotten}")
    assert status_of(app, forgotten) == "no_show"
    assert "Earlier visits not yet closed" not in client.get("/dashboard").get_data(as_text=True)


def test_the_dashboard_pages_beyond_the_seven_days(app, web_as):
    client, me = web_as("doctor")
    visit(app, me.doctor_id, local(app, 9, 10), "Nine Days Ahead")
    visit(app, me.doctor_id, local(app, 20, 10), "Three Weeks Ahead")
    with app.app_context():
        today = clinic_time.today()
    week_on = (today + timedelta(days=7)).isoformat()
    html = client.get("/dashboard").get_data(as_text=True)
    assert "Nine Days Ahead" not in html
    assert re.search(rf'rel="next" href="/dashboard\?from={week_on}"[^>]*hx-get="/dashboard\?from={week_on}"', html)

    fragment = client.htmx_get(f"/dashboard?from={week_on}", target="doctor-days")
    days = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and days.lstrip().startswith('<div id="doctor-days"')
    assert "Nine Days Ahead" in days and "Three Weeks Ahead" not in days
    assert f"{today + timedelta(days=7):%a %-d %b} to {today + timedelta(days=13):%a %-d %b %Y}" in days
    assert f'rel="prev" href="/dashboard?from={today.isoformat()}"' in days
    later = client.get(f"/dashboard?from={(today + timedelta(days=14)).isoformat()}").get_data(as_text=True)
    assert "Three Weeks Ahead" in later and "<h1>Doctor's dashboard</h1>" in later
    for odd in ("not-a-date", "9999-12-31"):  # today's seven days, not an error
        response = client.get(f"/dashboard?from={odd}")
        assert response.status_code == 200 and f"{today:%a %-d %b} to" in response.get_data(as_text=True)
