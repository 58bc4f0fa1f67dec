"""The job queue through its services: written with the change or not at all, run once, retried, given up loudly.

Mails go to a real SMTP server (aiosmtpd); "the mail server is down" is a closed port. Runs on
PostgreSQL and, marked `laptop`, on SQLite too.
"""
import logging
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db, runs_as_writer
from portal.models import Job
from portal.models.base import utcnow
from portal.services import mail
from portal.services.jobs import outbox
from tests.fixtures import clinic
from tests.fixtures.gunicorn_server import free_port
from tests.fixtures.mailbox import Mailbox

pytestmark = pytest.mark.laptop


def _jobs() -> list[Job]:
    db.session.expire_all()
    return list(db.session.scalars(select(Job).order_by(Job.id)))


@pytest.fixture
def mail_server_down(ctx):
    """MAIL_SERVER points at a loopback port nobody listens on."""
    saved = {key: ctx.config[key] for key in ("MAIL_SERVER", "MAIL_PORT")}
    ctx.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())
    yield
    ctx.config.update(saved)


def test_a_mail_of_a_change_that_is_rolled_back_is_never_sent(ctx):
    mail.send_later("ann@example.org", "Booked", "See you.")
    db.session.rollback()
    assert _jobs() == []


def test_a_mail_is_sent_after_its_change_commits_and_the_job_is_done(ctx, mailbox):
    mail.send_later("ann@example.org", "Booked", "See you on Monday.")
    db.session.commit()
    [message] = mailbox.wait_for(1)
    assert (message["To"], message["Subject"], Mailbox.body(message).strip()) == (
        "ann@example.org", "Booked", "See you on Monday.")
    [job] = _jobs()
    assert (job.kind, job.status, job.attempts, job.finished_at is not None) == ("mail", "done", 1, True)


def test_a_key_makes_one_job_however_often_it_is_enqueued(ctx):
    outbox.enqueue("mail", {"to": "a@example.org", "subject": "1", "body": "x"}, key="reminder:7:60")
    outbox.enqueue("mail", {"to": "a@example.org", "subject": "2", "body": "x"}, key="reminder:7:60")
    db.session.commit()
    outbox.enqueue("mail", {"to": "a@example.org", "subject": "3", "body": "x"}, key="reminder:7:60")
    outbox.enqueue("mail", {"to": "a@example.org", "subject": "4", "body": "x"})
    db.session.commit()
    assert [job.payload["subject"] for job in _jobs()] == ["1", "4"]


def test_the_jobs_of_a_transaction_are_one_insert(ctx):
    with clinic.counted_queries() as statements:
        for n in range(3):
            outbox.enqueue("mail", {"to": "a@example.org", "subject": str(n), "body": "x"}, key=f"k{n}")
        db.session.commit()
    assert [sql for sql in statements if "INSERT" in sql.upper()] == [
        next(sql for sql in statements if "INSERT INTO jobs" in sql)]
    assert len(_jobs()) == 3


def test_the_runner_hears_after_the_commit_only_of_the_jobs_already_due(ctx):
    """A job due later could not be claimed yet: the runner's tick dispatches it once it is due."""
    outbox.enqueue("mail", {"to": "a@example.org", "subject": "now", "body": "x"})
    outbox.enqueue("mail", {"to": "a@example.org", "subject": "later", "body": "x"},
                   due_at=utcnow() + timedelta(hours=1))
    outbox.write_pending(db.session())  # the commit's first step, here on its own to see what it leaves
    [now] = [job.id for job in _jobs() if job.payload["subject"] == "now"]
    assert db.session.info[outbox.ENQUEUED] == [now]
    db.session.commit()
    assert sorted(job.payload["subject"] for job in _jobs()) == ["later", "now"]


def test_an_unknown_kind_is_refused_when_written_not_at_night_in_a_worker(ctx):
    with pytest.raises(ValueError, match="no handler"):
        outbox.enqueue("carrier_pigeon", {})


def test_a_job_not_yet_due_waits(ctx, clock):
    mail.send_later("ann@example.org", "Now", "x")
    outbox.enqueue("mail", {"to": "ann@example.org", "subject": "Later", "body": "x"},
                   due_at=outbox.utcnow() + timedelta(minutes=10))
    db.session.commit()
    assert outbox.run_due() == 1
    assert [job.status for job in _jobs()] == ["done", "pending"]
    clock.advance(601)
    assert outbox.run_due() == 1
    assert [job.status for job in _jobs()] == ["done", "done"]


def test_a_mail_server_that_is_down_is_retried_with_back_off_and_the_mail_arrives_when_it_is_back(
        ctx, clock, mail_server_down):
    mail.send_later("ann@example.org", "Booked", "See you.")
    db.session.commit()
    assert outbox.run_due() == 0
    [job] = _jobs()
    assert (job.status, job.attempts) == ("pending", 1) and "ConnectionRefused" in job.last_error
    assert job.due_at - outbox.utcnow() > timedelta(seconds=25)  # put off: the first retry after 30 s
    assert outbox.run_due() == 0 and _jobs()[0].attempts == 1  # not due yet: nothing hammers the server

    box = Mailbox()
    box.start()
    try:
        ctx.config.update(MAIL_SERVER=box.host, MAIL_PORT=box.port)
        clock.advance(31)
        assert outbox.run_due() == 1
        assert [m["Subject"] for m in box.wait_for(1)] == ["Booked"]
    finally:
        box.stop()
    [job] = _jobs()
    assert (job.status, job.attempts, job.last_error) == ("done", 2, None)


def test_a_job_is_given_up_loudly_after_its_last_attempt_and_admins_see_it(ctx, clock, mail_server_down, caplog):
    ctx.config["JOBS_MAX_ATTEMPTS"] = 3
    ctx.logger.addHandler(caplog.handler)  # the app's log does not propagate to the root logger
    try:
        mail.send_later("ann@example.org", "Booked", "See you.")
        db.session.commit()
        for wait in (0, 31, 61):  # 30 s, then 60 s after the second failure
            clock.advance(wait)
            outbox.run_due()
    finally:
        ctx.config["JOBS_MAX_ATTEMPTS"] = 8
        ctx.logger.removeHandler(caplog.handler)
    [job] = _jobs()
    assert (job.status, job.attempts) == ("failed", 3)
    assert any(record.levelno == logging.ERROR and "gave up" in record.getMessage() for record in caplog.records)
    state = outbox.snapshot()
    assert state["counts"]["failed"] == 1 and [failed.id for failed in state["failed"]] == [job.id]
    clock.advance(3600)
    assert outbox.run_due() == 0  # a failed job stays failed


def test_of_two_runners_racing_each_job_runs_once(ctx, mailbox):
    for n in range(20):
        mail.send_later("ann@example.org", f"Mail {n}", "x")
    db.session.commit()
    app, barrier, done = ctx, threading.Barrier(2), []

    def runner() -> None:
        runs_as_writer()
        with app.app_context():
            barrier.wait()
            done.append(outbox.run_due())
            db.session.remove()

    threads = [threading.Thread(target=runner) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(done) == 20
    subjects = sorted(message["Subject"] for message in mailbox.wait_for(20))
    assert subjects == sorted(f"Mail {n}" for n in range(20))
    assert {job.status for job in _jobs()} == {"done"} and {job.attempts for job in _jobs()} == {1}


def test_a_job_whose_runner_died_runs_again_when_its_lease_runs_out(ctx, clock, mailbox):
    mail.send_later("ann@example.org", "Booked", "See you.")
    db.session.commit()
    [job] = _jobs()
    assert outbox._claim(job.id, outbox.utcnow()) is not None  # a runner took it, then died
    assert outbox.run_due() == 0  # leased: nobody else runs it meanwhile
    clock.advance(ctx.config["JOBS_LEASE_SECONDS"] + 1)
    assert outbox.run_due() == 1
    assert [m["Subject"] for m in mailbox.wait_for(1)] == ["Booked"]


def test_a_booking_writes_its_mail_and_reminders_in_one_statement(ctx):
    """Booking's hot path does one outbox insert, whatever the number of reminder leads."""
    from portal.services.scheduling import appointments

    slot = clinic.slot(clinic.doctor().id, clinic.soon(72))
    patient = clinic.actor(clinic.patient_account().id)
    with clinic.counted_queries() as statements:
        appointments.book(patient, slot_id=slot.id)
    assert len([sql for sql in statements if "INSERT INTO jobs" in sql]) == 1
    assert sorted(job.kind for job in _jobs()) == ["mail", "reminder", "reminder"]
