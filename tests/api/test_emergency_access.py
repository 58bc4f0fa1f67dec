"""Break the glass: a doctor opens a patient they cannot see, for a while; mailed, flagged, reviewed, expired."""
from datetime import timedelta

import pytest

from portal.extensions import db
from portal.models import EmergencyAccess
from portal.services import policy
from tests.api.clinic_api import caller, steady_query_count
from tests.api.images import png_bytes
from tests.api.records_api import new_record
from tests.api.records_helpers import audit_rows, upload
from tests.fixtures.api_client import envelope, error_of

pytestmark = pytest.mark.laptop  # the rules and error paths hold on SQLite too

REASON = "Unconscious in the emergency room, allergies unknown"


@pytest.fixture
def dana(app, factories):
    """A patient no doctor sees yet."""
    return caller(app, factories.user(full_name="Dana Patient", email="dana@example.org"))


def _break(api, doctor, patient_id, reason=REASON):
    return api.post(f"/patients/{patient_id}/emergency-access", token=doctor.token, json={"reason": reason})


def _age(app, grant_id: int, minutes: int) -> None:
    """Controlled time: the grant was opened `minutes` earlier than it was (nothing sleeps)."""
    with app.app_context():
        grant = db.session.get(EmergencyAccess, grant_id)
        grant.started_at -= timedelta(minutes=minutes)
        grant.expires_at -= timedelta(minutes=minutes)
        db.session.commit()
        db.session.remove()


def test_start_to_expiry(api, app, dana, doctor, admin, uploads):
    image = envelope(upload(api, dana.token, dana.patient_id, png_bytes()))["data"][0]
    error_of(api.get(f"/patients/{dana.patient_id}/images", token=doctor.token), 404, "not_found")

    response = _break(api, doctor, dana.patient_id)
    grant = envelope(response)["data"]
    assert response.status_code == 201 and set(grant) >= {"id", "expires_at"}
    listed = envelope(api.get(f"/patients/{dana.patient_id}/images", token=doctor.token))["data"]
    assert [i["id"] for i in listed] == [image["id"]]
    assert api.get(f"/images/{image['id']}/file", token=doctor.token).status_code == 200
    flagged = audit_rows(app, actor_id=doctor.user_id)
    assert [(r[1], r[2], r[5]) for r in flagged] == [
        ("create", "emergency_access", True), ("read", "patient_image", True), ("read", "patient_image", True)]
    # The patient's own reads are not emergencies.
    api.get(f"/images/{image['id']}", token=dana.token)
    assert audit_rows(app, actor_id=dana.user_id, action="read")[-1][5] is False

    _age(app, grant["id"], 59)
    assert api.get(f"/patients/{dana.patient_id}/images", token=doctor.token).status_code == 200
    _age(app, grant["id"], 2)
    error_of(api.get(f"/patients/{dana.patient_id}/images", token=doctor.token), 404, "not_found")
    error_of(api.get(f"/images/{image['id']}", token=doctor.token), 404, "not_found")
    assert envelope(api.get("/images", token=doctor.token))["data"] == []


def test_the_grant_lasts_the_configured_minutes(api, app, dana, doctor, monkeypatch):
    monkeypatch.setitem(app.config, "EMERGENCY_ACCESS_MINUTES", 5)
    grant = envelope(_break(api, doctor, dana.patient_id))["data"]
    with app.app_context():
        row = db.session.get(EmergencyAccess, grant["id"])
        assert row.expires_at - row.started_at == timedelta(minutes=5)
        assert row.reason == REASON and row.doctor_user_id == doctor.user_id


def test_the_patient_and_the_admins_get_a_mail(api, app, dana, doctor, factories, mailbox):
    admins = [factories.user(role="admin", email=f"admin-{n}@example.org") for n in range(2)]
    envelope(_break(api, doctor, dana.patient_id))
    messages = mailbox.wait_for(3)
    assert sorted(str(m["To"]) for m in messages) == sorted(
        ["dana@example.org", *(a.email for a in admins)])
    to_patient = next(m for m in messages if str(m["To"]) == "dana@example.org")
    body = mailbox.body(to_patient)
    assert "emergency" in body and "allergies" not in body  # the reason may be health information


def test_only_doctors_break_the_glass(api, app, dana, admin, factories):
    error_of(api.post(f"/patients/{dana.patient_id}/emergency-access", token=admin.token, json={"reason": REASON}),
             403, "forbidden")
    error_of(api.post(f"/patients/{dana.patient_id}/emergency-access", token=dana.token, json={"reason": REASON}),
             403, "forbidden")
    error_of(api.post(f"/patients/{dana.patient_id}/emergency-access", json={"reason": REASON}), 401,
             "unauthenticated")


def test_the_reason_is_required_and_long_enough(api, dana, doctor):
    error_of(api.post(f"/patients/{dana.patient_id}/emergency-access", token=doctor.token, json={}), 400,
             "missing_field")
    body = error_of(_break(api, doctor, dana.patient_id, "too short"), 422, "validation_error")
    assert "reason" in body["error"]["fields"]
    error_of(_break(api, doctor, dana.patient_id, "          x         "), 422, "validation_error")
    error_of(_break(api, doctor, dana.patient_id, "x" * 2001), 422, "validation_error")


def test_unknown_or_archived_patients_are_404(api, app, dana, doctor):
    error_of(_break(api, doctor, 999999), 404, "not_found")
    with app.app_context():
        from portal.models import Patient, utcnow
        db.session.get(Patient, dana.patient_id).archived_at = utcnow()
        db.session.commit()
        db.session.remove()
    error_of(_break(api, doctor, dana.patient_id), 404, "not_found")


def test_the_grant_is_for_that_doctor_only(app, ctx, api, dana, doctor, factories):
    other = caller(app, factories.user(role="doctor"))
    envelope(_break(api, doctor, dana.patient_id))
    error_of(api.get(f"/patients/{dana.patient_id}/images", token=other.token), 404, "not_found")
    from portal.models import User
    assert policy.get_visible_patient(db.session.get(User, doctor.user_id), dana.patient_id).id == dana.patient_id


def test_admins_review_the_queue(api, app, dana, doctor, admin, factories):
    first = envelope(_break(api, doctor, dana.patient_id))["data"]
    second = envelope(_break(api, doctor, dana.patient_id, "Second look during the night shift"))["data"]
    queue = envelope(api.get("/admin/emergency-access?reviewed=false", token=admin.token))
    assert [g["id"] for g in queue["data"]] == [second["id"], first["id"]] and queue["meta"]["total"] == 2
    item = queue["data"][1]
    assert (item["doctor"]["id"], item["patient"]["id"], item["reason"], item["active"], item["reviewed_at"]) == (
        doctor.user_id, dana.patient_id, REASON, True, None)

    reviewed = envelope(api.patch(f"/admin/emergency-access/{first['id']}", token=admin.token,
                                  json={"reviewed": True, "note": "Confirmed with the ER."}))
    assert reviewed["status"] == "updated"
    assert (reviewed["data"]["review_note"], reviewed["data"]["reviewed_by"]["id"]) == (
        "Confirmed with the ER.", admin.user_id)
    assert [g["id"] for g in envelope(api.get("/admin/emergency-access?reviewed=false",
                                              token=admin.token))["data"]] == [second["id"]]
    assert [g["id"] for g in envelope(api.get("/admin/emergency-access?reviewed=true",
                                              token=admin.token))["data"]] == [first["id"]]
    assert envelope(api.get("/admin/emergency-access", token=admin.token))["meta"]["total"] == 2
    error_of(api.patch(f"/admin/emergency-access/{first['id']}", token=admin.token, json={"reviewed": True}),
             409, "already_reviewed")
    error_of(api.patch(f"/admin/emergency-access/{second['id']}", token=admin.token, json={"reviewed": False}),
             422, "validation_error")
    error_of(api.patch(f"/admin/emergency-access/{second['id']}", token=admin.token, json={"note": "x"}),
             400, "missing_field")
    error_of(api.patch("/admin/emergency-access/999999", token=admin.token, json={"reviewed": True}),
             404, "not_found")


def test_the_review_queue_is_for_admins(api, dana, doctor):
    grant = envelope(_break(api, doctor, dana.patient_id))["data"]
    for token in (doctor.token, dana.token):
        error_of(api.get("/admin/emergency-access", token=token), 403, "forbidden")
        error_of(api.patch(f"/admin/emergency-access/{grant['id']}", token=token, json={"reviewed": True}),
                 403, "forbidden")


def test_the_queue_costs_the_same_whatever_its_length(api, app, dana, doctor, admin, factories):
    envelope(_break(api, doctor, dana.patient_id))
    small = steady_query_count(app, lambda: api.get("/admin/emergency-access", token=admin.token))
    for _ in range(5):
        other = caller(app, factories.user(role="doctor"))
        envelope(_break(api, other, dana.patient_id))
    assert steady_query_count(app, lambda: api.get("/admin/emergency-access", token=admin.token)) == small


def test_the_patient_record_and_appointments_open_under_the_grant_and_close_after(api, app, dana, doctor, admin):
    record = new_record(api, admin.token, dana.patient_id)
    paths = (f"/patients/{dana.patient_id}", f"/patients/{dana.patient_id}/records", f"/records/{record['id']}",
             f"/patients/{dana.patient_id}/appointments", f"/patients/{dana.patient_id}/doctors")
    for path in paths:
        error_of(api.get(path, token=doctor.token), 404, "not_found")
    grant = envelope(_break(api, doctor, dana.patient_id))["data"]
    for path in paths:
        assert api.get(path, token=doctor.token).status_code == 200, path
    reads = audit_rows(app, actor_id=doctor.user_id, action="read")
    assert reads and all(row[4] == dana.patient_id and row[5] is True for row in reads)
    log = envelope(api.get(f"/patients/{dana.patient_id}/access-log", token=dana.token))["data"]
    assert {e["object_type"] for e in log if e["emergency"]} >= {"patient", "medical_record"}
    _age(app, grant["id"], 61)
    for path in paths:
        error_of(api.get(path, token=doctor.token), 404, "not_found")


def test_a_list_audits_its_rows_in_its_order_each_flagged_by_its_own_patient(api, app, dana, doctor):
    """One audit insert for a page of records of two patients: a row per record, in the page's order, flagged
    only where the doctor reads under a grant (their own patient's rows are not emergencies)."""
    own = envelope(api.post("/patients", json={"full_name": "Own Patient"}, token=doctor.token))["data"]["id"]
    envelope(_break(api, doctor, dana.patient_id))
    made = [new_record(api, doctor.token, patient, recorded_at=f"2026-01-0{day}T09:00:00Z")["id"]
            for day, patient in ((1, own), (2, dana.patient_id), (3, own), (4, dana.patient_id))]
    before = len(audit_rows(app))
    page = envelope(api.get("/records?per_page=10", token=doctor.token))["data"]
    assert [r["id"] for r in page] == made[::-1]
    rows = audit_rows(app)[before:]
    assert [(row[2], row[3], row[4], row[5]) for row in rows] == [
        ("medical_record", r["id"], r["patient_id"], r["patient_id"] == dana.patient_id) for r in page]


def test_emergency_access_never_turns_into_a_lasting_assignment(app, api, dana, doctor, factories):
    colleague = caller(app, factories.user(role="doctor"))
    envelope(_break(api, doctor, dana.patient_id))
    for doctor_id in (doctor.doctor_id, colleague.doctor_id):
        error_of(api.post("/assignments", json={"patient_id": dana.patient_id, "doctor_id": doctor_id},
                          token=doctor.token), 403, "forbidden")
    assert envelope(api.get(f"/patients/{dana.patient_id}/doctors", token=doctor.token))["data"] == []
    error_of(api.post("/assignments", json={"patient_id": dana.patient_id, "doctor_id": doctor.doctor_id},
                      token=colleague.token), 404, "not_found")  # without a grant the patient stays unseen
