"""The admin's job queue page: counts, failed jobs, sending one again; admins only."""
from datetime import UTC, datetime, timedelta

from portal.extensions import db
from portal.models.jobs import Job
from portal.services.jobs import outbox
from tests.fixtures.jobs import failed_mail


def test_only_admins_open_the_job_queue(web_as, web):
    for role in ("patient", "doctor"):
        client, _user = web_as(role)
        assert client.get("/admin/jobs").status_code == 403
    assert web.get("/admin/jobs").headers["Location"] == "/login?next=/admin/jobs"


def test_a_failed_mail_is_listed_and_sent_again_from_the_page(app, web_as, mailbox):
    admin, _me = web_as("admin")
    failed_mail(app)
    html = admin.get("/admin/jobs").get_data(as_text=True)
    assert '<dd id="jobs-failed">1</dd>' in html and "ConnectionRefused" in html
    job_id = html.split('<tr id="job-')[1].split('"')[0]
    assert f'Send again<span class="visually-hidden"> job #{job_id}</span>' in html
    answer = admin.post(f"/admin/jobs/{job_id}/retry")
    assert answer.status_code == 302 and answer.headers["Location"] == "/admin/jobs"
    assert [message["Subject"] for message in mailbox.wait_for(1)] == ["Booked"]
    html = admin.get("/admin/jobs").get_data(as_text=True)
    assert '<dd id="jobs-failed">0</dd>' in html and "No job has failed." in html
    assert f"Job #{job_id} will run again." in html


def test_a_retry_without_the_csrf_token_is_refused(web_as):
    admin, _me = web_as("admin")
    assert admin.client.post("/admin/jobs/1/retry").status_code == 400


def test_pending_jobs_due_later_are_not_called_none_waiting(app, web_as):
    """Reminders wait for their time: the page says none is due now, not that none waits, beside 'Pending 1'."""
    admin, _me = web_as("admin")
    html = admin.get("/admin/jobs").get_data(as_text=True)
    assert '<dt>Oldest job due now</dt><dd id="jobs-oldest-due">None</dd>' in html
    with app.app_context():
        outbox.enqueue("mail", {"to": "ann@example.org", "subject": "Later", "body": "x"},
                       due_at=datetime.now(UTC) + timedelta(hours=2))
        db.session.commit()
        db.session.remove()
    html = admin.get("/admin/jobs").get_data(as_text=True)
    assert '<dd id="jobs-pending">1</dd>' in html
    assert '<dd id="jobs-oldest-due">None: the pending jobs are due later</dd>' in html


def test_a_failed_job_that_is_no_mail_is_run_again_not_sent(app, web_as):
    admin, _me = web_as("admin")
    with app.app_context():
        job = Job(kind="waitlist_offer_expiry", payload={"offer_id": 1}, status="failed", attempts=8,
                  last_error="boom", finished_at=datetime.now(UTC))
        db.session.add(job)
        db.session.commit()
        job_id = job.id
        db.session.remove()
    html = admin.get("/admin/jobs").get_data(as_text=True)
    assert f'Run again<span class="visually-hidden"> job #{job_id}</span>' in html and "Send again" not in html
