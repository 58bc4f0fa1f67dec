"""A moved appointment's .ics carries a higher SEQUENCE each time, so a calendar app that imported it before
updates the event instead of ignoring the file as old news; the UID stays the same."""
import re

from icalendar import Calendar

from tests.web.test_booking_appointments import booked, status_of


def event_of(client, appointment_id):
    response = client.get(f"/appointments/{appointment_id}.ics")
    assert response.status_code == 200
    return Calendar.from_ical(response.data).walk("VEVENT")[0]


def move(client, appointment_id, week, slot_id):
    client.get(f"/appointments/{appointment_id}/reschedule")
    response = client.post(f"/appointments/{appointment_id}/reschedule", {"slot_id": slot_id, "week": str(week.monday)})
    assert response.status_code == 302


def test_every_move_raises_the_sequence_and_keeps_the_uid(app, web_as):
    client, me = web_as("patient")
    _, week, (appointment_id,), (eight_pm, nine_pm) = booked(app, me.patient_id, 9)
    client.get("/dashboard")
    first = event_of(client, appointment_id)
    assert int(first["SEQUENCE"]) == 0
    move(client, appointment_id, week, eight_pm)
    moved = event_of(client, appointment_id)
    assert int(moved["SEQUENCE"]) == 1 and moved["UID"] == first["UID"]
    assert re.search(r"T200000$", moved["DTSTART"].to_ical().decode())
    move(client, appointment_id, week, nine_pm)
    assert int(event_of(client, appointment_id)["SEQUENCE"]) == 2
    assert status_of(app, appointment_id) == ("rescheduled", nine_pm)
    client.post(f"/appointments/{appointment_id}/cancel")
    cancelled = event_of(client, appointment_id)
    assert int(cancelled["SEQUENCE"]) == 3 and str(cancelled["STATUS"]) == "CANCELLED"


def test_reading_the_file_does_not_count_as_a_change(app, web_as):
    client, me = web_as("patient")
    _, _, (appointment_id,), _ = booked(app, me.patient_id, 9)
    client.get("/dashboard")
    for _ in range(3):
        assert int(event_of(client, appointment_id)["SEQUENCE"]) == 0
