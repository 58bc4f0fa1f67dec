"""/patients: staff create, search, read, edit and archive profiles; a patient reads their own and edits
their contact fields; visibility follows creation, active assignment and appointments."""
import pytest

from portal.extensions import db
from portal.models import Patient
from tests.api.clinic_api import caller, steady_query_count
from tests.api.records_api import assign, audit_rows, new_patient, new_record
from tests.fixtures import clinic
from tests.fixtures.api_client import envelope, error_of

pytestmark = pytest.mark.laptop  # the rules and error paths hold on SQLite too


@pytest.fixture
def colleague(app, factories):
    return caller(app, factories.user(role="doctor"))


def test_a_doctor_creates_a_patient_and_reads_it(app, api, doctor):
    data = new_patient(api, doctor.token, gender="female", dob="1980-05-17", address="1 Main St", city="Berlin",
                       phone="+49 170 1234567", email="zoe@example.org")
    assert {k: data[k] for k in ("full_name", "gender", "dob", "address", "city", "phone", "email",
                                 "created_by_id", "user_id")} == {
        "full_name": "Zoë O'Brien-Núñez", "gender": "female", "dob": "1980-05-17", "address": "1 Main St",
        "city": "Berlin", "phone": "+49 170 1234567", "email": "zoe@example.org", "created_by_id": doctor.user_id,
        "user_id": None}
    body = envelope(api.get(f"/patients/{data['id']}", token=doctor.token))
    assert body["data"] == data
    assert audit_rows(app, patient_id=data["id"]) == [
        (doctor.user_id, "create", "patient", data["id"], data["id"]),
        (doctor.user_id, "read", "patient", data["id"], data["id"])]


def test_creating_needs_staff_and_valid_fields(api, doctor, alice):
    error_of(api.post("/patients", json={"full_name": "X"}, token=alice.token), 403, "forbidden")
    error_of(api.post("/patients", json={"full_name": "X"}), 401, "unauthenticated")
    error_of(api.post("/patients", json={"gender": "female"}, token=doctor.token), 400, "missing_field")
    for bad in ({"full_name": ""}, {"full_name": "X", "gender": "robot"}, {"full_name": "X", "email": "nope"},
                {"full_name": "X", "dob": "2999-01-01"}, {"full_name": "X", "shoe_size": 44},
                {"full_name": "X\u0000"}):
        error_of(api.post("/patients", json=bad, token=doctor.token), 422, "validation_error")


def test_search_ignores_case_and_accents_and_matches_birth_date_and_phone(api, doctor, admin):
    zoe = new_patient(api, doctor.token, dob="1980-05-17", phone="+49 (170) 123-4567")
    bob = new_patient(api, doctor.token, full_name="Bob Müller", dob="1975-01-02", phone="030 998877")
    new_patient(api, admin.token, full_name="Zoe Elsewhere")  # not the doctor's

    def found(q):
        return [p["id"] for p in envelope(api.get("/patients", query_string={"q": q}, token=doctor.token))["data"]]

    assert found("ZOE obrien") == [zoe["id"]]
    assert found("nunez") == [zoe["id"]]
    assert found("muller") == found("MÜLLER") == [bob["id"]]
    assert found("17.05.1980") == found("1980-05-17") == [zoe["id"]]
    assert found("1234567") == found("170 123-4567") == [zoe["id"]]
    assert found("998877") == [bob["id"]]
    assert found("100%") == found("zoe bob") == []
    assert found("") == [bob["id"], zoe["id"]]
    assert len(envelope(api.get("/patients?q=zoe", token=admin.token))["data"]) == 2


@pytest.mark.production_only("query counts: the laptop harness commits the shared test session per request")
def test_the_list_is_paged_audited_and_costs_the_same_for_any_length(app, api, doctor):
    for n in range(3):
        new_patient(api, doctor.token, full_name=f"Few {n}")
    small = steady_query_count(app, lambda: api.get("/patients?per_page=100", token=doctor.token))
    for n in range(30):
        new_patient(api, doctor.token, full_name=f"Many {n}")
    large = steady_query_count(app, lambda: api.get("/patients?per_page=100", token=doctor.token))
    assert small == large
    body = envelope(api.get("/patients?per_page=5&page=2", token=doctor.token))
    assert body["meta"] == {"page": 2, "per_page": 5, "total": 33}
    read = [row for row in audit_rows(app, action="read") if row[0] == doctor.user_id]
    assert [row[3] for row in read[-5:]] == [p["id"] for p in body["data"]]
    error_of(api.get("/patients?per_page=101", token=doctor.token), 422, "validation_error")


def test_patients_may_not_list_patients(api, alice):
    error_of(api.get("/patients", token=alice.token), 403, "forbidden")


def test_visibility_follows_creation_active_assignment_and_appointments(app, api, doctor, colleague, admin):
    created = new_patient(api, admin.token, full_name="Assigned Person")
    path = f"/patients/{created['id']}"
    error_of(api.get(path, token=doctor.token), 404, "not_found")
    assignment = assign(api, admin.token, created["id"], doctor.doctor_id)
    assert envelope(api.get(path, token=doctor.token))["data"]["id"] == created["id"]
    envelope(api.delete(f"/assignments/{assignment['id']}", token=admin.token))
    error_of(api.get(path, token=doctor.token), 404, "not_found")  # an ended assignment no longer counts
    with app.app_context():
        clinic.appointment(created["id"], clinic.slot(colleague.doctor_id, clinic.soon(-48)), status="completed")
    assert envelope(api.get(path, token=colleague.token))["data"]["id"] == created["id"]
    error_of(api.get(path, token=doctor.token), 404, "not_found")


def test_a_patient_reads_their_own_and_changes_only_contact_fields(app, api, alice, doctor):
    path = f"/patients/{alice.patient_id}"
    assert envelope(api.get(path, token=alice.token))["data"]["id"] == alice.patient_id
    body = envelope(api.patch(path, json={"phone": "0301234", "city": "Köln", "address": None}, token=alice.token))
    assert body["status"] == "updated" and (body["data"]["phone"], body["data"]["city"]) == ("0301234", "Köln")
    before = envelope(api.get(path, token=alice.token))["data"]
    body = error_of(api.put(path, json={"city": "Bonn", "full_name": "Someone Else"}, token=alice.token),
                    403, "forbidden")
    assert "full_name" in body["message"]
    assert envelope(api.get(path, token=alice.token))["data"] == before
    assert audit_rows(app, patient_id=alice.patient_id, action="update") == [
        (alice.user_id, "update", "patient", alice.patient_id, alice.patient_id)]


def test_staff_edit_every_field_with_put_or_patch(api, doctor):
    patient = new_patient(api, doctor.token)
    body = envelope(api.put(f"/patients/{patient['id']}", json={"full_name": "Zoe Renamed", "dob": "1990-01-01"},
                            token=doctor.token))
    assert (body["data"]["full_name"], body["data"]["dob"], body["data"]["email"]) == ("Zoe Renamed", "1990-01-01",
                                                                                      patient["email"])
    assert [p["id"] for p in envelope(api.get("/patients?q=renamed", token=doctor.token))["data"]] == [patient["id"]]
    error_of(api.patch(f"/patients/{patient['id']}", json={}, token=doctor.token), 422, "validation_error")


def test_archiving_is_for_admins_and_the_creating_doctor_and_keeps_the_rows(app, api, doctor, colleague, admin):
    patient = new_patient(api, doctor.token)
    record = new_record(api, doctor.token, patient["id"])
    assign(api, doctor.token, patient["id"], colleague.doctor_id)
    error_of(api.delete(f"/patients/{patient['id']}", token=colleague.token), 403, "forbidden")
    body = envelope(api.delete(f"/patients/{patient['id']}", token=doctor.token))
    assert body["status"] == "deleted" and body["data"]["id"] == patient["id"]
    for token in (doctor.token, colleague.token, admin.token):
        error_of(api.get(f"/patients/{patient['id']}", token=token), 404, "not_found")
        error_of(api.get(f"/records/{record['id']}", token=token), 404, "not_found")
        error_of(api.delete(f"/patients/{patient['id']}", token=token), 404, "not_found")
        assert envelope(api.get("/patients", token=token))["data"] == []
    with app.app_context():
        row = db.session.get(Patient, patient["id"])
        assert row.archived_at is not None and row.full_name == patient["full_name"]
        db.session.remove()
    admin_made = new_patient(api, admin.token)
    assert envelope(api.delete(f"/patients/{admin_made['id']}", token=admin.token))["status"] == "deleted"


def test_a_patients_doctors_are_the_actively_assigned_ones(app, api, doctor, colleague, alice):
    patient = new_patient(api, doctor.token)
    mine = assign(api, doctor.token, patient["id"], doctor.doctor_id)
    theirs = assign(api, doctor.token, patient["id"], colleague.doctor_id)
    envelope(api.delete(f"/assignments/{mine['id']}", token=doctor.token))
    body = envelope(api.get(f"/patients/{patient['id']}/doctors", token=colleague.token))
    assert [(d["id"], d["assignment_id"]) for d in body["data"]] == [(colleague.doctor_id, theirs["id"])]
    assert audit_rows(app, object_type="assignment", action="read") == [
        (colleague.user_id, "read", "assignment", theirs["id"], patient["id"])]
    assert envelope(api.get(f"/patients/{alice.patient_id}/doctors", token=alice.token))["data"] == []


def test_a_patients_appointments_as_the_reader_may_see_them(app, api, doctor, colleague, alice, admin):
    with app.app_context():
        mine = clinic.appointment(alice.patient_id, clinic.slot(doctor.doctor_id, clinic.soon(24))).id
        other = clinic.appointment(alice.patient_id, clinic.slot(colleague.doctor_id, clinic.soon(48))).id
    path = f"/patients/{alice.patient_id}/appointments"
    assert [a["id"] for a in envelope(api.get(path, token=alice.token))["data"]] == [other, mine]
    assert [a["id"] for a in envelope(api.get(path, token=admin.token))["data"]] == [other, mine]
    assert [a["id"] for a in envelope(api.get(path, token=doctor.token))["data"]] == [mine]
    assert {row[3] for row in audit_rows(app, actor_id=doctor.user_id, object_type="appointment")} == {mine}


def test_a_patients_records_newest_first(api, doctor, alice, app):
    with app.app_context():
        clinic.appointment(alice.patient_id, clinic.slot(doctor.doctor_id, clinic.soon(24)))
    old = new_record(api, doctor.token, alice.patient_id, recorded_at="2025-01-01T10:00:00+00:00")
    new = new_record(api, doctor.token, alice.patient_id, recorded_at="2025-06-01T10:00:00+00:00")
    for token in (doctor.token, alice.token):
        body = envelope(api.get(f"/patients/{alice.patient_id}/records", token=token))
        assert [r["id"] for r in body["data"]] == [new["id"], old["id"]] and body["meta"]["total"] == 2
