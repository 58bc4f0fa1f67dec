"""A booking's mail and reminders are written by the booking's own statement on PostgreSQL
(outbox.written_with), with the appointment or not at all, and the runner hears of the mail only.

PostgreSQL only: SQLite has no data-modifying CTE, and its bookings write their jobs as they commit
(tests/unit/test_job_queue.py runs that path on both).
"""
from datetime import datetime, timedelta

from sqlalchemy import literal, select

from portal.extensions import db
from portal.models import Job
from portal.models.base import utcnow
from portal.services.jobs import outbox
from portal.services.scheduling import reminders
from tests.fixtures import clinic
from tests.fixtures.api_client import envelope


def _jobs() -> list[Job]:
    db.session.expire_all()
    return list(db.session.scalars(select(Job).order_by(Job.id)))


def test_a_statement_writes_the_pending_jobs_only_with_its_row_and_the_runner_hears_of_those_due(ctx):
    for wrote in (False, True):
        outbox.enqueue("mail", {"to": "a@example.org", "subject": f"now {wrote}", "body": "x"})
        outbox.enqueue("mail", {"to": "a@example.org", "subject": f"later {wrote}", "body": "x"},
                       due_at=utcnow() + timedelta(hours=1), key=f"later {wrote}")
        written = select(literal(7).label("id")).where(literal(wrote)).cte("written")
        queued, written_jobs = outbox.written_with(written)
        ids, due_ats = db.session.execute(select(written_jobs.c.ids, written_jobs.c.due_ats).add_cte(queued),
                                          outbox.pending_values(db.session())).one()
        outbox.note_written(db.session(), outbox.written_pairs(ids, due_ats))
        told = list(db.session.info[outbox.ENQUEUED])
        db.session.commit()  # nothing is left pending for the commit to write
        jobs = _jobs()
        if not wrote:
            assert (jobs, ids, due_ats, told) == ([], None, None, [])
    assert [job.payload["subject"] for job in jobs] == ["now True", "later True"]
    assert (ids, due_ats) == ([job.id for job in jobs], [job.due_at for job in jobs])
    assert told == [jobs[0].id]  # the one due now


def test_a_booking_writes_its_mail_and_reminders_with_it_and_the_runner_hears_of_the_mail(app, api, alice,
                                                                                          monkeypatch):
    monkeypatch.setitem(app.config, "JOBS_RUNNER", "rq")
    with app.app_context():
        slot_id = clinic.slot(clinic.doctor().id, clinic.soon(60 * 48)).id  # every lead (1440, 120) still ahead
        db.session.remove()
    hold = envelope(api.post("/holds", json={"slot_id": slot_id}, token=alice.token))["data"]
    booked = envelope(api.post("/appointments", json={"hold_id": hold["hold_id"]}, token=alice.token))["data"]
    starts_at = datetime.fromisoformat(booked["starts_at"])
    with app.app_context():
        jobs = _jobs()
        expected = [("reminder", booked["id"], reminders.job_key(booked["id"], lead, starts_at))
                    for lead in reminders.leads()]
    assert [(job.kind, job.payload.get("appointment_id"), job.key) for job in jobs] == [("mail", None, None)] + expected
    assert "appointment booked" in jobs[0].payload["subject"]
    queued = app.extensions["redis"].lrange(f"rq:queue:{app.config['JOBS_QUEUE']}", 0, -1)
    assert queued == [f"outbox-{jobs[0].id}".encode()]
