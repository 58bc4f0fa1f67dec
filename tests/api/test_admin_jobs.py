"""/admin/jobs: admins see whether the job queue moves and send a failed job again; nobody else may."""
import pytest

from portal.extensions import db
from portal.services import mail
from tests.fixtures.api_client import envelope, error_of
from tests.fixtures.jobs import failed_mail

pytestmark = pytest.mark.laptop


@pytest.fixture
def admin_token(api, factories):
    return api.token_for(factories.user(role="admin", username="root"))


@pytest.mark.parametrize("role", ["patient", "doctor"])
def test_only_admins_see_the_queue(api, factories, role):
    token = api.token_for(factories.user(role=role))
    error_of(api.get("/admin/jobs", token=token), 403, "forbidden")
    error_of(api.post("/admin/jobs/1/retry", token=token), 403, "forbidden")
    error_of(api.get("/admin/jobs"), 401, "unauthenticated")


def test_the_queue_shows_counts_and_failures_and_a_failed_job_is_sent_again(app, api, admin_token, mailbox):
    failed_mail(app)
    with app.app_context():
        mail.send_later("bob@example.org", "Later", "x")
        db.session.commit()
    body = envelope(api.get("/admin/jobs", token=admin_token))["data"]
    assert body["counts"] == {"pending": 1, "running": 0, "done": 0, "failed": 1}
    assert body["runner"] == "manual" and body["oldest_due_at"] is not None
    [failed] = body["failed"]
    assert (failed["kind"], failed["status"], failed["attempts"]) == ("mail", "failed", 1)
    assert "ConnectionRefused" in failed["last_error"] and "payload" not in failed

    again = envelope(api.post(f"/admin/jobs/{failed['id']}/retry", token=admin_token))
    assert (again["status"], again["data"]["status"], again["data"]["attempts"]) == ("updated", "pending", 0)
    assert sorted(message["Subject"] for message in mailbox.wait_for(2)) == ["Booked", "Later"]
    after = envelope(api.get("/admin/jobs", token=admin_token))["data"]
    assert after["counts"] == {"pending": 0, "running": 0, "done": 2, "failed": 0}
    assert after["failed"] == [] and after["last_run_at"] is not None


def test_only_a_failed_job_can_be_sent_again(app, api, admin_token):
    with app.app_context():
        mail.send_later("bob@example.org", "Later", "x")
        db.session.commit()
    [job] = envelope(api.get("/admin/jobs", token=admin_token))["data"]["failed"] or [None]
    assert job is None
    error_of(api.post("/admin/jobs/1/retry", token=admin_token), 409, "not_failed")
    error_of(api.post("/admin/jobs/999999/retry", token=admin_token), 404, "not_found")
