"""Reminder mails: one per lead of REMINDER_LEAD_MINUTES before each active appointment, each exactly once.

Booking and moving an appointment call schedule() in their own transaction: it writes one job of the
outbox per lead, due at start - lead, with a unique key made of the appointment, the lead and the
start. The key is what makes "exactly once" hold with several workers and restarts: enqueuing it a
second time does nothing, and the outbox runs each job row once. A lead already past when the
appointment is booked (or moved) gets no job.

Nothing is ever taken back: a job whose appointment was cancelled, moved (its start is no longer the
one in the job) or has begun sends nothing when it comes due. Moving back to the old time finds the
old jobs (same keys), which send as usual if they have not run yet.

The mail carries the time in clinic time with its zone, the doctor's name, the clinic's address and
phone when configured, and the signed "I'll come" / "Cancel" links (reminder_links), and no health
information: no reason, no speciality, no department (a mailbox is read by more eyes than a chart).
"""
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from portal.extensions import db
from portal.models import ACTIVE_STATUSES, Appointment
from portal.services import clinic_time, mail
from portal.services.jobs import outbox
from portal.services.scheduling import reminder_links
from portal.services.scheduling.appointment_reads import with_parties

KIND = "reminder"


def leads() -> tuple[int, ...]:
    """The configured leads in minutes, smallest first (config.lead_minutes checked them at start)."""
    return tuple(current_app.config["REMINDER_LEAD_MINUTES"])


def job_key(appointment_id: int, lead: int, starts_at: datetime) -> str:
    return f"{KIND}:{appointment_id}:{lead}:{int(starts_at.timestamp())}"


def schedule(appointment: Appointment) -> int:
    """Enqueue the reminders of the appointment's present start in the current transaction (call it
    before the commit of the booking or move); returns how many leads are still ahead."""
    now = clinic_time.now()
    ahead = 0
    for lead in leads():
        due_at = appointment.starts_at - timedelta(minutes=lead)
        if due_at <= now:
            continue  # booked after this lead had passed: no reminder for it
        ahead += 1
        outbox.enqueue(KIND, {"appointment_id": appointment.id, "starts_at": appointment.starts_at.isoformat(),
                              "lead": lead},
                       due_at=due_at, key=job_key(appointment.id, lead, appointment.starts_at))
    return ahead


def still_due(appointment: Appointment | None, starts_at: datetime) -> bool:
    """Whether a reminder of `starts_at` still means something: the appointment is active, still at that
    time, and has not begun."""
    return (appointment is not None and appointment.status in ACTIVE_STATUSES
            and appointment.starts_at == starts_at and clinic_time.now() < appointment.starts_at)


def compose(appointment: Appointment) -> tuple[str, str]:
    """Subject and plain-text body: when, with whom, where, whom to call, and the two links; nothing of health."""
    config = current_app.config
    clinic = config["CLINIC_NAME"]
    when = clinic_time.format_local(appointment.starts_at)
    lines = [f"Hello {appointment.patient.full_name},", "",
             f"This is a reminder of your appointment with {appointment.doctor.full_name} on {when}."]
    contact = [f"Where: {clinic}, {config['CLINIC_ADDRESS']}"] if config.get("CLINIC_ADDRESS") else []
    contact += [f"Phone: {config['CLINIC_PHONE']}"] if config.get("CLINIC_PHONE") else []
    lines += ["", *contact] if contact else []
    lines += ["", "Will you come? One click tells us:",
              f"I'll come: {reminder_links.link(appointment, 'confirm')}",
              f"Cancel: {reminder_links.link(appointment, 'cancel')}",
              "", "The links work until the appointment begins."]
    if config.get("CLINIC_PHONE"):
        lines.append(f"When it is too late to cancel online, please call us on {config['CLINIC_PHONE']}.")
    lines += ["", clinic]
    return f"{clinic}: reminder of your appointment on {when}", "\n".join(lines)


@outbox.handler(KIND)
def send(payload: dict) -> None:
    """The job: mail the reminder if it still means something. SMTP errors propagate, so the outbox
    retries the job with back-off; a patient without an address gets nothing (nothing to retry)."""
    appointment = db.session.scalar(with_parties(select(Appointment))
                                    .where(Appointment.id == payload["appointment_id"]))
    if not still_due(appointment, datetime.fromisoformat(payload["starts_at"])):
        return
    to = appointment.patient.mail_address
    if not to:
        return
    subject, body = compose(appointment)
    mail.send(to, subject, body)
