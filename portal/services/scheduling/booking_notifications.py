"""Confirmation mails for booked, moved and cancelled appointments.

They are written into the job queue inside the change's transaction and delivered after it commits,
so a mail server that hiccups never undoes or delays a booking, and a booking never loses its mail.
"""
from datetime import datetime

from flask import current_app

from portal.models import Appointment
from portal.services import clinic_time, mail

KINDS = ("booked", "rescheduled", "cancelled")


def compose(appointment: Appointment, kind: str, previous_start: datetime | None = None) -> tuple[str, str]:
    """Subject and plain-text body, with every time in clinic time and the zone named."""
    if kind not in KINDS:  # a caller's bug, not a user's input: fail loudly even under python -O
        raise ValueError(f"unknown booking mail kind {kind!r}")
    clinic = current_app.config["CLINIC_NAME"]
    doctor = appointment.doctor
    when = clinic_time.format_local(appointment.starts_at)
    with_whom = f"{doctor.full_name} ({doctor.speciality})"
    if kind == "booked":
        subject = f"{clinic}: appointment booked for {when}"
        news = f"your appointment with {with_whom} is booked for {when}."
    elif kind == "rescheduled":
        subject = f"{clinic}: appointment moved to {when}"
        earlier = f" (it was {clinic_time.format_local(previous_start)})" if previous_start else ""
        news = f"your appointment with {with_whom} has moved to {when}{earlier}."
    else:
        subject = f"{clinic}: appointment on {when} cancelled"
        news = f"your appointment with {with_whom} on {when} has been cancelled."
    lines = [f"Hello {appointment.patient.full_name},", "", news[0].upper() + news[1:],
             f"Duration: {appointment.slot.duration} minutes.", ""]
    portal = current_app.config.get("PUBLIC_BASE_URL")
    if portal:
        portal = portal.rstrip("/")
        if kind == "cancelled":
            lines += [f"To book another time, see {doctor.full_name}'s free times at {portal}/doctors/{doctor.id}",
                      f"or find another doctor at {portal}/doctors", ""]
        lines += [f"See or change your appointments at {portal}/dashboard", ""]
    lines.append(clinic)
    return subject, "\n".join(lines)


def notify(appointment: Appointment, kind: str, previous_start: datetime | None = None) -> None:
    """Queue the confirmation in the change's own transaction: it is sent when the change commits, or
    never; the job queue retries while the mail server is down. No address, no mail."""
    to = appointment.patient.mail_address
    if to:
        mail.send_later(to, *compose(appointment, kind, previous_start))
