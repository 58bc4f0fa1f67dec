"""An appointment as an iCalendar file (RFC 5545) for the patient's or doctor's own calendar app.

Times are written in the clinic's zone (DTSTART;TZID=Europe/Berlin) with the matching VTIMEZONE,
so calendar apps show the clinic's wall-clock time even for someone travelling; the UID is stable
per appointment and SEQUENCE grows with every change (each move, the cancel), so importing the file
again after a reschedule or cancellation updates the event instead of adding a second one or being
ignored as old news.
"""
from datetime import date
from urllib.parse import urlparse

from flask import current_app
from icalendar import Calendar, Event
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Appointment, AppointmentStatus, AuditEvent
from portal.services import clinic_time
from portal.services.actor import Actor
from portal.services.scheduling import appointment_reads

MEDIA_TYPE = "text/calendar; charset=utf-8"


def _host() -> str:
    return urlparse(current_app.config.get("PUBLIC_BASE_URL") or "").hostname or "clinic-portal"


def uid(appointment: Appointment) -> str:
    return f"appointment-{appointment.id}@{_host()}"


def filename(appointment: Appointment) -> str:
    return f"appointment-{appointment.id}.ics"


def sequence(appointment: Appointment) -> int:
    """How often the appointment changed after it was booked, from its audit trail (every move and the
    cancel write an "update" row), so no counter column is needed; one indexed count."""
    return db.session.scalar(
        select(func.count()).select_from(AuditEvent)
        .where(AuditEvent.patient_id == appointment.patient_id, AuditEvent.object_type == "appointment",
               AuditEvent.object_id == appointment.id, AuditEvent.action == "update")) or 0


def appointment_ics(appointment: Appointment) -> bytes:
    """One VCALENDAR with one VEVENT; STATUS is CANCELLED for a cancelled appointment, else CONFIRMED."""
    clinic = current_app.config["CLINIC_NAME"]
    zone = clinic_time.zone()
    start, end = appointment.starts_at.astimezone(zone), appointment.ends_at.astimezone(zone)
    doctor = appointment.doctor
    calendar = Calendar()
    calendar.add("prodid", f"-//{clinic}//Clinic portal//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", uid(appointment))
    event.add("sequence", sequence(appointment))
    event.add("dtstamp", clinic_time.now())
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", f"Appointment with {doctor.full_name}")
    event.add("description", f"{doctor.full_name}, {doctor.speciality}. Times are {zone.key} clinic time.")
    event.add("location", clinic)
    cancelled = appointment.status == AppointmentStatus.CANCELLED.value
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("last-modified", appointment.updated_at)
    calendar.add_component(event)
    # Only the transitions of the years the event touches, not every rule since 1970.
    calendar.add_missing_timezones(date(start.year, 1, 1), date(end.year + 1, 1, 1))
    return calendar.to_ical()


def appointment_calendar(actor: Actor, appointment_id: int) -> tuple[bytes, str]:
    """The .ics of a visible appointment (NotFound otherwise) and its file name; the read is audited."""
    appointment = appointment_reads.get_appointment(actor, appointment_id)
    return appointment_ics(appointment), filename(appointment)
