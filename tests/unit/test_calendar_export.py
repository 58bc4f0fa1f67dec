"""Appointments as .ics files: parsed back with icalendar, in clinic time with the zone attached."""
from datetime import UTC, datetime

import pytest
from icalendar import Calendar

from portal.extensions import db
from portal.models import AuditEvent
from portal.services.errors import NotFound
from portal.services.scheduling import appointment_reads, calendar_export
from tests.fixtures import clinic

SUMMER_MORNING = datetime(2027, 6, 14, 7, 0, tzinfo=UTC)  # 09:00 in Berlin


@pytest.fixture
def booked(ctx):
    doctor = clinic.doctor(full_name="Dr Ada Moss", speciality="Cardiology")
    return clinic.appointment(clinic.patient().id, clinic.slot(doctor.id, SUMMER_MORNING, 45))


def parsed(data: bytes):
    calendar = Calendar.from_ical(data)
    [event] = calendar.events
    return calendar, event


def test_the_event_is_in_clinic_time_with_its_timezone(booked):
    calendar, event = parsed(calendar_export.appointment_ics(booked))
    assert event["DTSTART"].params["TZID"] == "Europe/Berlin" == event["DTEND"].params["TZID"]
    assert event.start.replace(tzinfo=None) == datetime(2027, 6, 14, 9, 0)
    assert event.start == SUMMER_MORNING and (event.end - event.start).total_seconds() == 45 * 60
    assert [tz.tz_name for tz in calendar.timezones] == ["Europe/Berlin"] and not calendar.get_missing_tzids()


def test_the_event_says_who_where_and_whether_it_stands(booked, ctx, monkeypatch):
    monkeypatch.setitem(ctx.config, "PUBLIC_BASE_URL", "")  # no public address: the UID names the product
    _, event = parsed(calendar_export.appointment_ics(booked))
    assert str(event["SUMMARY"]) == "Appointment with Dr Ada Moss"
    assert str(event["LOCATION"]) == ctx.config["CLINIC_NAME"]
    assert str(event["STATUS"]) == "CONFIRMED" and event["DTSTAMP"].dt.tzinfo is not None
    assert str(event["UID"]) == f"appointment-{booked.id}@clinic-portal"
    booked.status = "cancelled"
    db.session.commit()
    assert str(parsed(calendar_export.appointment_ics(booked))[1]["STATUS"]) == "CANCELLED"


def test_the_uid_is_stable_and_names_the_public_host(booked, ctx, monkeypatch):
    monkeypatch.setitem(ctx.config, "PUBLIC_BASE_URL", "https://portal.example.org/")
    first = parsed(calendar_export.appointment_ics(booked))[1]["UID"]
    again = parsed(calendar_export.appointment_ics(booked))[1]["UID"]
    assert first == again == f"appointment-{booked.id}@portal.example.org"


def test_the_download_is_for_those_who_may_see_it_and_audited(ctx, factories):
    made = factories.user(role="patient")
    appointment = clinic.appointment(made.patient_id, clinic.slot(clinic.doctor().id))
    data, name = calendar_export.appointment_calendar(clinic.actor(made.id), appointment.id)
    assert name == f"appointment-{appointment.id}.ics" and parsed(data)[1]["UID"]
    assert db.session.scalar(db.select(db.func.count(AuditEvent.id)).where(AuditEvent.object_id == appointment.id)) == 1
    with pytest.raises(NotFound):
        calendar_export.appointment_calendar(clinic.actor(factories.user(role="patient").id), appointment.id)
    assert appointment_reads.get_appointment(clinic.actor(made.id), appointment.id).id == appointment.id
