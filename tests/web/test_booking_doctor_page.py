"""A doctor's page: one week of their slots in clinic time, moved by week, as a page and as the grid fragment."""
import re
from datetime import time, timedelta

from portal.extensions import db
from portal.models import Slot
from portal.services import clinic_time
from portal.services.scheduling import holds
from tests.fixtures import clinic


def next_week(app):
    with app.app_context():
        return clinic_time.week_of(clinic_time.today()).next


def instant(app, day, hour, minute=0):
    with app.app_context():
        return clinic_time.local_instant(day, time(hour, minute))


def make_doctor(app, **fields):
    with app.app_context():
        return clinic.doctor(**fields).id


def make_slots(app, doctor_id, starts):
    with app.app_context():
        return [clinic.slot(doctor_id, start).id for start in starts]


def test_the_week_shows_free_times_as_buttons_and_others_as_taken(app, web_as, factories):
    client, _ = web_as("patient")
    holder = factories.user("patient")
    booker = factories.user("patient")
    week = next_week(app)
    tuesday = week.monday + timedelta(days=1)
    doctor_id = make_doctor(app, full_name="Dr Adam Baker", speciality="Cardiology")
    free, held, booked = make_slots(app, doctor_id, [instant(app, tuesday, h) for h in (9, 10, 11)])
    with app.app_context():
        holds.place_hold(clinic.actor(holder.id), held)
        clinic.appointment(booker.patient_id, db.session.get(Slot, booked))

    html = client.get(f"/doctors/{doctor_id}?week={week.monday}").get_data(as_text=True)
    assert "<h1>Dr Adam Baker</h1>" in html and "Cardiology" in html
    assert "Times are clinic time, Europe/Berlin (C" in html
    day_names = re.findall(r'<h4 class="grid-day-name">(\w{3}) ', html)
    assert day_names == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    assert re.search(rf'name="slot_id" value="{free}">.*?<button type="submit" class="slot-button">09:00', html, re.S)
    assert f'value="{held}"' not in html and f'value="{booked}"' not in html
    assert html.count('<span class="slot-note">taken</span>') == 2
    assert "10:00" in html and "11:00" in html


def test_the_arrows_swap_only_the_grid_and_carry_the_week_in_the_url(app, web):
    week = next_week(app)
    doctor_id = make_doctor(app)
    make_slots(app, doctor_id, [instant(app, week.next.monday + timedelta(days=2), 14, 30)])
    page = web.get(f"/doctors/{doctor_id}?week={week.monday}").get_data(as_text=True)
    following = f"/doctors/{doctor_id}?week={week.next.monday}"
    assert f'href="{following}"' in page and f'hx-get="{following}"' in page and 'hx-push-url="true"' in page

    response = web.htmx_get(following, target="week-grid")
    fragment = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in fragment
    assert fragment.lstrip().startswith('<div id="week-grid"') and "14:30" in fragment
    assert {"HX-Request", "HX-Target"} <= set(response.vary)

    # A deep link (or a refresh after the swap) is the whole page on that week.
    full = web.get(following).get_data(as_text=True)
    assert full.lstrip().startswith("<!doctype html>") and "14:30" in full


def test_a_week_that_is_over_has_no_way_further_back(app, web):
    doctor_id = make_doctor(app)
    with app.app_context():
        this_week = clinic_time.week_of(clinic_time.today())
    html = web.get(f"/doctors/{doctor_id}").get_data(as_text=True)
    assert "Previous week" not in html and f"?week={this_week.next.monday}" in html
    mistyped = web.get(f"/doctors/{doctor_id}?week=not-a-date").get_data(as_text=True)
    assert "Previous week" not in mistyped and f"?week={this_week.next.monday}" in mistyped


def test_a_visitor_is_asked_to_log_in_and_comes_back_to_the_same_week(app, web):
    week = next_week(app)
    doctor_id = make_doctor(app)
    make_slots(app, doctor_id, [instant(app, week.monday, 9)])
    html = web.get(f"/doctors/{doctor_id}?week={week.monday}").get_data(as_text=True)
    assert f'<a class="slot-button" href="/login?next=/doctors/{doctor_id}?week%3D{week.monday}">09:00' in html
    assert 'name="slot_id"' not in html


def test_a_doctor_sees_the_free_times_but_cannot_book(app, web_as):
    client, _ = web_as("doctor")
    week = next_week(app)
    doctor_id = make_doctor(app)
    make_slots(app, doctor_id, [instant(app, week.monday, 9)])
    html = client.get(f"/doctors/{doctor_id}?week={week.monday}").get_data(as_text=True)
    assert "your account can look but not book" in html and 'name="slot_id"' not in html
    assert '<span class="slot-note">free</span>' in html


def test_an_unknown_or_archived_doctor_is_not_found(app, web):
    with app.app_context():
        gone = clinic.doctor(archived_at=clinic_time.now()).id
    assert web.get(f"/doctors/{gone}").status_code == 404
    assert web.get("/doctors/999999").status_code == 404


def grid_queries(app, client, url) -> int:
    with app.app_context(), clinic.counted_queries() as statements:
        assert client.get(url).status_code == 200
    return len(statements)


def test_the_week_grid_costs_the_same_queries_for_2_or_20_slots(app, web_as):
    client, _ = web_as("patient")
    week = next_week(app)
    few, many = make_doctor(app), make_doctor(app)
    with app.app_context():
        for doctor_id, count in ((few, 2), (many, 20)):
            slots = clinic.future_slots(doctor_id, count, start=clinic_time.local_instant(week.monday, time(8)))
            for slot in slots[: count // 2]:
                clinic.appointment(clinic.patient().id, slot)
    small = grid_queries(app, client, f"/doctors/{few}?week={week.monday}")
    large = grid_queries(app, client, f"/doctors/{many}?week={week.monday}")
    assert small == large


def test_without_a_week_the_page_opens_where_the_next_free_time_is(app, web_as):
    client, _ = web_as("patient")
    later = next_week(app).next.next
    doctor_id = make_doctor(app)
    (slot_id,) = make_slots(app, doctor_id, [instant(app, later.monday + timedelta(days=3), 10)])
    html = client.get(f"/doctors/{doctor_id}").get_data(as_text=True)
    assert f'name="slot_id" value="{slot_id}"' in html
    assert f"?week={later.next.monday}" in html  # the arrow onwards starts from that week


def test_a_doctor_with_no_free_time_opens_on_this_week(app, web):
    doctor_id = make_doctor(app)
    html = web.get(f"/doctors/{doctor_id}").get_data(as_text=True)
    assert "Today" in html


def test_a_week_at_the_calendars_edge_shows_this_week_not_an_error(app, web):
    doctor_id = make_doctor(app)
    for week in ("9999-12-27", "0001-01-01", "2026-13-40"):
        response = web.get(f"/doctors/{doctor_id}?week={week}")
        assert response.status_code == 200 and "Today" in response.get_data(as_text=True)
