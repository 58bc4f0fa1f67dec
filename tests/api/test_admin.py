"""/admin: the user list and changes, and the audit log; admins only."""
from datetime import UTC, datetime

import pytest

from portal.extensions import db
from portal.models import AuditEvent
from portal.services import audit
from portal.services.actor import Actor
from tests.fixtures.api_client import envelope, error_of

pytestmark = pytest.mark.laptop  # the rules and error paths hold on SQLite too


@pytest.fixture
def admin_token(api, factories):
    return api.token_for(factories.user(role="admin", username="root"))


@pytest.mark.parametrize("role", ["patient", "doctor"])
def test_non_admins_get_403_everywhere_here(api, factories, role):
    token = api.token_for(factories.user(role=role))
    error_of(api.get("/admin/users", token=token), 403, "forbidden")
    error_of(api.patch("/admin/users/1", json={"is_active": False}, token=token), 403, "forbidden")
    error_of(api.get("/admin/audit", token=token), 403, "forbidden")


def test_strangers_get_401(api):
    error_of(api.get("/admin/users"), 401, "unauthenticated")


def test_users_are_paged_with_meta(api, factories, admin_token):
    for _ in range(4):
        factories.user()
    body = envelope(api.get("/admin/users?per_page=2&page=2", token=admin_token))
    assert body["meta"] == {"page": 2, "per_page": 2, "total": 5}
    assert len(body["data"]) == 2
    first_page = envelope(api.get("/admin/users?per_page=2", token=admin_token))["data"]
    assert not {u["id"] for u in first_page} & {u["id"] for u in body["data"]}
    past_the_end = envelope(api.get("/admin/users?page=9", token=admin_token))
    assert past_the_end["data"] == [] and past_the_end["meta"]["total"] == 5


def test_the_default_page_is_20(api, factories, admin_token):
    body = envelope(api.get("/admin/users", token=admin_token))
    assert body["meta"] == {"page": 1, "per_page": 20, "total": 1}
    assert body["data"][0]["username"] == "root" and "created_at" in body["data"][0]


def test_users_filter_by_role_and_pending(api, factories, admin_token):
    factories.user(role="patient")
    pending = factories.user(role="doctor", approved=False)
    factories.user(role="doctor")
    doctors = envelope(api.get("/admin/users?role=doctor", token=admin_token))["data"]
    assert {u["role"] for u in doctors} == {"doctor"} and len(doctors) == 2
    waiting = envelope(api.get("/admin/users?pending=true", token=admin_token))["data"]
    assert [u["id"] for u in waiting] == [pending.id]
    body = error_of(api.get("/admin/users?role=wizard", token=admin_token), 422, "validation_error")
    assert "role" in body["error"]["fields"]


def test_approving_a_doctor_links_a_doctor_profile_and_lets_them_in(api, factories, admin_token):
    doctor = factories.user(role="doctor", approved=False)
    body = envelope(api.patch(f"/admin/users/{doctor.id}", json={"approved": True}, token=admin_token))
    assert body["status"] == "updated"
    assert body["data"]["approved"] is True and body["data"]["doctor_id"] is not None
    assert api.post("/auth/login", json={"username": doctor.username, "password": doctor.password}).status_code == 200


def test_role_changes_are_validated(api, factories, admin_token):
    user = factories.user()
    error_of(api.patch(f"/admin/users/{user.id}", json={"role": "wizard"}, token=admin_token), 422,
             "validation_error")
    error_of(api.patch(f"/admin/users/{user.id}", json={"is_active": "maybe"}, token=admin_token), 422,
             "validation_error")
    body = error_of(api.patch(f"/admin/users/{user.id}", json={}, token=admin_token), 422, "validation_error")
    assert "body" in body["error"]["fields"]


@pytest.mark.parametrize("field", ["approved", "is_active"])
@pytest.mark.parametrize("value", ["yes", "on", "y", "true", 1, "1", 0, None])
def test_yes_no_fields_take_json_true_or_false_only(api, app, factories, admin_token, field, value):
    doctor = factories.user(role="doctor", approved=False)
    answer = error_of(api.patch(f"/admin/users/{doctor.id}", json={field: value}, token=admin_token), 422,
                      "validation_error")
    assert list(answer["error"]["fields"]) == [field]
    listed = envelope(api.get("/admin/users?pending=true", token=admin_token))["data"]
    assert [(user["id"], user["approved"], user["is_active"]) for user in listed] == [(doctor.id, False, True)]


def test_an_admin_cannot_lock_themselves_out(api, factories):
    admin = factories.user(role="admin")
    token = api.token_for(admin)
    error_of(api.patch(f"/admin/users/{admin.id}", json={"is_active": False}, token=token), 409, "self_lockout")
    error_of(api.patch(f"/admin/users/{admin.id}", json={"role": "patient"}, token=token), 409, "self_lockout")
    error_of(api.patch(f"/admin/users/{admin.id}", json={"approved": False}, token=token), 409, "self_lockout")
    assert api.get("/admin/users", token=token).status_code == 200


def _event(app, actor_id, patient_id, at: datetime, action: str = "read"):
    with app.app_context():
        audit.record(Actor(user=None, ip="10.0.0.7", request_id="req-1"), action, "patient", patient_id, patient_id)
        event = db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        event.actor_id, event.at = actor_id, at
        db.session.commit()


def test_the_audit_log_filters_by_patient_actor_and_clinic_days(api, app, factories, admin_token):
    doctor, alice, bob = factories.user(role="doctor"), factories.user(), factories.user()
    # 23:30 UTC on 28 March 2027 is already 29 March in Berlin (summer time, UTC+2, began that morning).
    _event(app, doctor.id, alice.patient_id, datetime(2027, 3, 28, 23, 30, tzinfo=UTC))
    _event(app, doctor.id, bob.patient_id, datetime(2027, 3, 27, 12, 0, tzinfo=UTC), "update")
    _event(app, alice.id, alice.patient_id, datetime(2027, 3, 30, 8, 0, tzinfo=UTC))

    everything = envelope(api.get("/admin/audit", token=admin_token))
    assert everything["meta"]["total"] == 3
    assert everything["data"][0]["at"].startswith("2027-03-30")  # newest first
    assert set(everything["data"][0]) >= {"actor_id", "action", "object_type", "patient_id", "ip", "at"}

    about_alice = envelope(api.get(f"/admin/audit?patient_id={alice.patient_id}", token=admin_token))["data"]
    assert {e["patient_id"] for e in about_alice} == {alice.patient_id} and len(about_alice) == 2
    by_doctor = envelope(api.get(f"/admin/audit?actor_id={doctor.id}", token=admin_token))["data"]
    assert {e["actor_id"] for e in by_doctor} == {doctor.id} and len(by_doctor) == 2
    one_day = envelope(api.get("/admin/audit?from=2027-03-29&to=2027-03-29", token=admin_token))["data"]
    assert [e["at"][:16] for e in one_day] == ["2027-03-28T23:30"]
    by_instant = envelope(api.get("/admin/audit?from=2027-03-27T00:00:00%2B00:00&to=2027-03-28T00:00:00Z",
                                  token=admin_token))["data"]
    assert [e["action"] for e in by_instant] == ["update"]


def test_bad_audit_windows_are_422(api, admin_token):
    for query in ("from=2027-13-01", "from=2027-03-01T10:00:00", "from=2027-03-02&to=2027-03-01",
                  "patient_id=abc"):
        body = error_of(api.get(f"/admin/audit?{query}", token=admin_token), 422, "validation_error")
        assert set(body["error"]["fields"]) <= {"from", "to", "patient_id"}, (query, body)
