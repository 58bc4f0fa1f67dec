"""Reminders: one outbox job per lead still ahead, written with the booking or the move; a job whose appointment
was cancelled or moved sends nothing; each lead one mail however many runners race; no health information."""
import os
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, select

import config
from portal.extensions import db
from portal.models import Appointment, Job
from portal.services.errors import Conflict
from portal.services.jobs import outbox
from portal.services.scheduling import appointments, reminder_links, reminders
from tests.fixtures import clinic

HOUR = 3600


@pytest.fixture
def booked(ctx):
    """Book through the service, as a patient with an account, in a slot `hours` ahead; returns the appointment."""
    doctor = clinic.doctor(clinic.department("Cardiology"), speciality="Cardiology", full_name="Dr Ada Heart")
    patient = clinic.patient_account(full_name="Paula Patient", email="paula@example.org")

    def book(hours: float, reason: str | None = "Chest pain since Tuesday") -> Appointment:
        slot = clinic.slot(doctor.id, clinic.soon(hours))
        return appointments.book(clinic.actor(patient.id), slot_id=slot.id, reason=reason)

    book.doctor, book.patient = doctor, patient
    return book


def reminder_jobs() -> list[Job]:
    db.session.expire_all()
    return list(db.session.scalars(select(Job).where(Job.kind == "reminder").order_by(Job.due_at)))


def reminder_mails(mailbox) -> list:
    return [message for message in mailbox.messages if "reminder" in message["Subject"]]


def test_leads_are_a_sorted_tuple_and_bad_values_refuse_to_start():
    assert config.lead_minutes("1440,120") == (120, 1440)
    assert config.lead_minutes(" 5, 60 ,5") == (5, 60)
    assert config.lead_minutes("") == ()
    for bad in ("x", "0", "-5", "1.5", "1,,2", "60,", "１"):
        with pytest.raises(RuntimeError, match="REMINDER_LEAD_MINUTES"):
            config.lead_minutes(bad)


def test_the_app_does_not_start_with_bad_leads():
    env = {**os.environ, "REMINDER_LEAD_MINUTES": "a day"}
    started = subprocess.run([sys.executable, "-c", "import wsgi"], env=env, capture_output=True, text=True,
                             cwd=Path(__file__).resolve().parents[2], timeout=60)
    assert started.returncode != 0
    assert "REMINDER_LEAD_MINUTES='a day'" in started.stderr and "whole number of minutes" in started.stderr


def test_a_booking_enqueues_one_job_per_lead_due_at_start_minus_lead(booked):
    appointment = booked(30)
    jobs = reminder_jobs()
    assert [(job.due_at, job.payload["lead"]) for job in jobs] == [
        (appointment.starts_at - timedelta(minutes=1440), 1440), (appointment.starts_at - timedelta(minutes=120), 120)]
    stamp = int(appointment.starts_at.timestamp())
    assert {job.key for job in jobs} == {f"reminder:{appointment.id}:1440:{stamp}",
                                         f"reminder:{appointment.id}:120:{stamp}"}
    assert jobs[0].payload == {"appointment_id": appointment.id, "starts_at": appointment.starts_at.isoformat(),
                               "lead": 1440}


def test_no_job_for_a_lead_already_past_at_booking(booked):
    booked(20)  # the day-ahead reminder would have been due four hours ago
    assert [job.payload["lead"] for job in reminder_jobs()] == [120]
    booked(1)
    assert [job.payload["lead"] for job in reminder_jobs()] == [120]


def test_a_booking_that_fails_leaves_no_job(booked, ctx):
    appointment = booked(30)
    other = clinic.patient_account()
    with pytest.raises(Conflict):  # slot_booked
        appointments.book(clinic.actor(other.id), slot_id=appointment.slot_id)
    assert len(reminder_jobs()) == 2


def test_each_lead_is_mailed_once_when_due(booked, clock, mailbox):
    appointment = booked(30)
    mailbox.wait_for(1)  # the booking mail
    outbox.run_due()
    assert reminder_mails(mailbox) == []  # nothing is due yet
    clock.advance(6 * HOUR + 60)
    outbox.run_due()
    assert len(reminder_mails(mailbox)) == 1
    outbox.run_due()
    clock.advance(60)
    outbox.run_due()
    assert len(reminder_mails(mailbox)) == 1
    clock.advance(22 * HOUR)
    outbox.run_due()
    mails = reminder_mails(mailbox)
    assert len(mails) == 2 and {message["To"] for message in mails} == {"paula@example.org"}
    assert {job.status for job in reminder_jobs()} == {"done"}
    assert appointment.id


def test_a_move_schedules_the_new_time_and_the_old_times_jobs_send_nothing(booked, ctx, clock, mailbox):
    appointment = booked(30)
    old_start = appointment.starts_at
    later = clinic.slot(booked.doctor.id, clinic.soon(50))
    moved = appointments.reschedule(clinic.actor(booked.patient.id), appointment.id, later.id)
    jobs = reminder_jobs()
    assert len(jobs) == 4
    assert {job.payload["starts_at"] for job in jobs} == {old_start.isoformat(), moved.starts_at.isoformat()}
    clock.advance(49 * HOUR)  # every lead of both times is due
    outbox.run_due()
    mails = reminder_mails(mailbox)
    assert len(mails) == 2
    assert all(reminders.clinic_time.format_local(moved.starts_at) in mailbox.body(m) for m in mails)
    assert {job.status for job in reminder_jobs()} == {"done"}


def test_moving_back_to_the_old_time_adds_no_second_job_for_it(booked, ctx):
    appointment = booked(30)
    first_slot = appointment.slot_id
    actor = clinic.actor(booked.patient.id)
    appointments.reschedule(actor, appointment.id, clinic.slot(booked.doctor.id, clinic.soon(50)).id)
    appointments.reschedule(actor, appointment.id, first_slot)
    assert len(reminder_jobs()) == 4  # the old time's two keys were there already


def test_a_cancelled_appointment_is_not_reminded(booked, ctx, clock, mailbox):
    appointment = booked(30)
    appointments.cancel(clinic.actor(booked.patient.id), appointment.id)
    clock.advance(29 * HOUR)
    outbox.run_due()
    assert reminder_mails(mailbox) == [] and {job.status for job in reminder_jobs()} == {"done"}


def test_a_begun_appointment_is_not_reminded(booked, ctx, clock, mailbox):
    booked(30)
    payload = reminder_jobs()[0].payload
    clock.advance(31 * HOUR)  # the worker was down until after the start
    outbox.run_due()
    reminders.send(payload)
    assert reminder_mails(mailbox) == []


def test_the_mail_says_when_with_whom_where_and_whom_to_call_and_nothing_of_health(app, booked, ctx):
    app.config.update(CLINIC_PHONE="+49 30 1234567", CLINIC_ADDRESS="Riverside 1, 10115 Berlin")
    try:
        appointment = booked(30)
        subject, body = reminders.compose(appointment)
    finally:
        app.config.update(CLINIC_PHONE="", CLINIC_ADDRESS="")
    when = reminders.clinic_time.format_local(appointment.starts_at)
    assert when in subject and when in body and "(Europe/Berlin)" in body
    assert "Dr Ada Heart" in body and "Paula Patient" in body
    assert "Riverside 1, 10115 Berlin" in body and "please call us on +49 30 1234567" in body
    for health in ("Chest pain", "Cardiology", appointment.reason):
        assert health not in subject and health not in body
    links = [line.split(": ", 1)[1] for line in body.splitlines() if line.startswith(("I'll come: ", "Cancel: "))]
    assert [link.rsplit("/", 2)[1] for link in links] == ["confirm", "cancel"]
    assert all(link.startswith(app.config["PUBLIC_BASE_URL"]) for link in links)
    for link, action in zip(links, ("confirm", "cancel"), strict=True):
        assert reminder_links.verify(link.rsplit("/", 1)[1], action, appointment.id).id == appointment.id


def test_without_address_or_phone_the_mail_leaves_them_out(booked, ctx):
    _, body = reminders.compose(booked(30))
    assert "Where:" not in body and "Phone:" not in body and "call us" not in body
    assert "\n\n\n" not in body  # no empty block where the contact lines would be


@pytest.mark.laptop  # the same race on SQLite, as the laptop mode runs it
def test_two_runners_racing_send_each_lead_once(app, booked, ctx, clock, mailbox):
    """Two runners drain the outbox at the same moment: each lead is one mail."""
    for hours in (30, 31):
        booked(hours)
    mailbox.wait_for(2)
    clock.advance(29 * HOUR + 60)  # every lead of both appointments is due, neither has begun
    results = clinic.race(app, [outbox.run_due, outbox.run_due])
    assert not any(isinstance(result, Exception) for result in results), results
    db.session.rollback()  # a new snapshot: SQLite's read transaction would still show the time before
    assert sum(results) == 4
    per_appointment = Counter(message["Subject"] for message in reminder_mails(mailbox))
    assert sorted(per_appointment.values()) == [2, 2]  # each appointment: its two leads, once each
    assert [(job.status, job.attempts) for job in reminder_jobs()] == [("done", 1)] * 4


def test_a_second_booking_compiles_none_of_its_statements_again(booked):
    """Every statement of a booking, its reminders' outbox INSERT included (on PostgreSQL part of the booking's
    statement), comes from SQLAlchemy's compiled cache once one booking has run: postgresql.Insert alone is left
    out of that cache (sqlalchemy#10445), and compiling the outbox's INSERT was a twentieth of a booking's CPU."""
    booked(72)
    compiled: list[tuple[str, bool]] = []

    def seen(_conn, _cursor, statement, _parameters, context, _executemany):
        compiled.append((statement, context.cache_hit is context.dialect.CACHE_HIT))

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        booked(96)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert any("INSERT INTO jobs" in statement for statement, _hit in compiled)
    assert [statement for statement, hit in compiled if not hit] == []
