"""/records and /departments/{id}/records: filing, reading, filtering by clinic month, versioned edits with
their history, stale writes, archiving, and who may do which."""
from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import StatementError

from portal.extensions import db
from portal.models import Doctor, MedicalRecord, MedicalRecordVersion, Role
from portal.services import policy
from tests.api.clinic_api import caller, steady_query_count
from tests.api.records_api import audit_rows, new_patient, new_record
from tests.fixtures import clinic
from tests.fixtures.api_client import envelope, error_of

pytestmark = pytest.mark.laptop  # the rules and error paths hold on SQLite too


@pytest.fixture
def department(ctx):
    return clinic.department("Cardiology")


@pytest.fixture
def cardiologist(app, factories, department):
    made = caller(app, factories.user(role="doctor", full_name="Dr Heart"))
    with app.app_context():
        db.session.get(Doctor, made.doctor_id).department_id = department.id
        db.session.commit()
        db.session.remove()
    return made


@pytest.fixture
def own(app, api, cardiologist, alice):
    """alice as a patient of the cardiologist (an appointment makes her visible)."""
    with app.app_context():
        clinic.appointment(alice.patient_id, clinic.slot(cardiologist.doctor_id, clinic.soon(24)))
    return alice


def test_a_doctor_files_a_record_under_their_department(app, api, cardiologist, own, department):
    data = new_record(api, cardiologist.token, own.patient_id, observations="Fever", treatments=None,
                      recorded_at="2026-03-01T09:30:00+01:00")
    assert {k: data[k] for k in ("patient_id", "diagnostics", "observations", "treatments", "misc", "department_id",
                                 "recorded_at", "version", "author_id")} == {
        "patient_id": own.patient_id, "diagnostics": "Flu", "observations": "Fever", "treatments": None,
        "misc": None, "department_id": department.id, "recorded_at": "2026-03-01T08:30:00+00:00", "version": 1,
        "author_id": cardiologist.user_id}
    assert data["doctor"] == {"id": cardiologist.doctor_id, "full_name": "Dr Heart"}
    assert data["department"] == {"id": department.id, "name": "Cardiology"}
    response = api.get(f"/records/{data['id']}", token=own.token)
    assert envelope(response)["data"] == data and response.headers["ETag"] == '"1"'
    assert audit_rows(app, object_type="medical_record") == [
        (cardiologist.user_id, "create", "medical_record", data["id"], own.patient_id),
        (own.user_id, "read", "medical_record", data["id"], own.patient_id)]


def test_filing_needs_staff_a_visible_patient_and_valid_fields(api, cardiologist, own, admin):
    error_of(api.post("/records", json={"patient_id": own.patient_id, "diagnostics": "x"}, token=own.token),
             403, "forbidden")
    hidden = new_patient(api, admin.token)
    error_of(api.post("/records", json={"patient_id": hidden["id"], "diagnostics": "x"}, token=cardiologist.token),
             404, "not_found")
    error_of(api.post("/records", json={"patient_id": own.patient_id}, token=cardiologist.token), 400,
             "missing_field")
    for bad in ({"diagnostics": ""}, {"diagnostics": "x", "department_id": 999999},
                {"diagnostics": "x", "recorded_at": "2999-01-01T00:00:00+00:00"},
                {"diagnostics": "x", "recorded_at": "2026-01-01T00:00:00"}, {"diagnostics": "x", "version": 3},
                {"diagnostics": "x", "recorded_at": "0001-01-01T00:00:00+14:00"}):
        body = {"patient_id": own.patient_id, **bad}
        error_of(api.post("/records", json=body, token=cardiologist.token), 422, "validation_error")
    data = new_record(api, admin.token, hidden["id"])
    assert (data["doctor"], data["department"], data["author_id"]) == (None, None, admin.user_id)


def test_a_422_names_every_field_the_service_refuses_at_once(api, cardiologist, own):
    body = {"patient_id": own.patient_id, "diagnostics": "   ", "department_id": 999999,
            "recorded_at": "2999-01-01T00:00:00+00:00"}
    error = error_of(api.post("/records", json=body, token=cardiologist.token), 422, "validation_error")
    assert set(error["error"]["fields"]) == {"diagnostics", "department_id", "recorded_at"}
    record = new_record(api, cardiologist.token, own.patient_id)
    changes = {"version": 1, "diagnostics": " ", "department_id": 999999, "recorded_at": "2999-01-01T00:00:00Z"}
    error = error_of(api.patch(f"/records/{record['id']}", json=changes, token=cardiologist.token), 422,
                     "validation_error")
    assert set(error["error"]["fields"]) == {"diagnostics", "department_id", "recorded_at"}


def test_an_edit_keeps_the_previous_version_and_history_lists_them_in_order(app, api, cardiologist, own, admin):
    record = new_record(api, cardiologist.token, own.patient_id, observations="Fever")
    path = f"/records/{record['id']}"
    response = api.patch(path, json={"version": 1, "diagnostics": "Pneumonia"}, token=cardiologist.token)
    first = envelope(response)
    assert (first["status"], first["data"]["version"], first["data"]["diagnostics"],
            first["data"]["observations"]) == ("updated", 2, "Pneumonia", "Fever")
    assert response.headers["ETag"] == '"2"'
    second = envelope(api.put(path, json={"treatments": "Rest"}, headers={"If-Match": '"2"'}, token=admin.token))
    assert second["data"]["version"] == 3
    history = envelope(api.get(f"{path}/history", token=own.token))["data"]
    assert [(v["version"], v["diagnostics"], v["treatments"], v["written_by"]["id"], v["current"])
            for v in history] == [(1, "Flu", None, cardiologist.user_id, False),
                                  (2, "Pneumonia", None, cardiologist.user_id, False),
                                  (3, "Pneumonia", "Rest", admin.user_id, True)]
    assert history[0]["written_by"]["role"] == "doctor" and history[2]["written_by"]["role"] == "admin"
    assert history[0]["written_at"] <= history[1]["written_at"] <= history[2]["written_at"]
    with app.app_context():
        versions = db.session.scalars(db.select(MedicalRecordVersion).order_by(MedicalRecordVersion.version)).all()
        version_ids = [v.id for v in versions]
        db.session.remove()
    reads = audit_rows(app, actor_id=own.user_id, action="read")
    assert reads == [(own.user_id, "read", "medical_record", record["id"], own.patient_id)] + [
        (own.user_id, "read", "medical_record_version", version_id, own.patient_id) for version_id in version_ids]


def test_a_write_on_an_older_version_is_stale_and_shows_the_current_record(api, cardiologist, own, admin):
    record = new_record(api, cardiologist.token, own.patient_id)
    path = f"/records/{record['id']}"
    envelope(api.patch(path, json={"version": 1, "diagnostics": "Mine"}, token=cardiologist.token))
    response = api.patch(path, json={"version": 1, "diagnostics": "Theirs"}, token=admin.token)
    body = error_of(response, 409, "stale_record")
    assert (body["data"]["version"], body["data"]["diagnostics"]) == (2, "Mine")
    assert response.headers["ETag"] == '"2"'
    error_of(api.patch(path, json={"diagnostics": "x"}, headers={"If-Match": '"1"'}, token=admin.token),
             409, "stale_record")
    assert envelope(api.get(path, token=admin.token))["data"]["diagnostics"] == "Mine"


def test_a_write_must_name_a_well_formed_version(api, cardiologist, own):
    path = f"/records/{new_record(api, cardiologist.token, own.patient_id)['id']}"
    error_of(api.patch(path, json={"diagnostics": "x"}, token=cardiologist.token), 400, "missing_field")
    error_of(api.patch(path, json={"diagnostics": "x"}, headers={"If-Match": "soon"}, token=cardiologist.token),
             422, "validation_error")
    error_of(api.patch(path, json={"version": 1, "diagnostics": "x"}, headers={"If-Match": '"2"'},
                       token=cardiologist.token), 422, "validation_error")
    error_of(api.patch(path, json={"version": 1}, token=cardiologist.token), 422, "validation_error")
    error_of(api.patch(path, json={"version": 1, "diagnostics": None}, token=cardiologist.token),
             422, "validation_error")
    error_of(api.patch(path, json={"version": 1, "recorded_at": "0001-01-01T00:00:00+14:00"},
                       token=cardiologist.token), 422, "validation_error")


def test_patients_read_their_records_but_never_write_them(app, api, cardiologist, own):
    record = new_record(api, cardiologist.token, own.patient_id)
    path = f"/records/{record['id']}"
    error_of(api.patch(path, json={"version": 1, "diagnostics": "x"}, token=own.token), 403, "forbidden")
    error_of(api.delete(path, token=own.token), 403, "forbidden")
    assert envelope(api.get(path, token=own.token))["data"]["version"] == 1


def test_archiving_keeps_the_row_and_its_versions(app, api, cardiologist, own):
    record = new_record(api, cardiologist.token, own.patient_id)
    path = f"/records/{record['id']}"
    envelope(api.patch(path, json={"version": 1, "diagnostics": "Edited"}, token=cardiologist.token))
    error_of(api.delete(path, headers={"If-Match": '"1"'}, token=cardiologist.token), 409, "stale_record")
    body = envelope(api.delete(path, headers={"If-Match": '"2"'}, token=cardiologist.token))
    assert body["status"] == "deleted" and body["data"]["id"] == record["id"]
    for token in (cardiologist.token, own.token):
        error_of(api.get(path, token=token), 404, "not_found")
        error_of(api.get(f"{path}/history", token=token), 404, "not_found")
        assert envelope(api.get("/records", token=token))["data"] == []
    error_of(api.delete(path, token=cardiologist.token), 404, "not_found")
    with app.app_context():
        row = db.session.get(MedicalRecord, record["id"])
        assert row.archived_at is not None and row.diagnostics == "Edited" and len(row.versions) == 1
        db.session.remove()


def _record_at(app, patient_id: int, doctor_id: int | None, department_id: int | None, at: datetime) -> int:
    with app.app_context():
        row = MedicalRecord(patient_id=patient_id, doctor_id=doctor_id, department_id=department_id,
                            diagnostics="d", recorded_at=at)
        db.session.add(row)
        db.session.commit()
        record_id = row.id
        db.session.remove()
    return record_id


def test_filters_by_patient_doctor_department_and_clinic_month(app, api, cardiologist, own, admin, department):
    # Europe/Berlin: 2026-02-28 23:30 UTC is already March 1st in the clinic
    march = _record_at(app, own.patient_id, cardiologist.doctor_id, department.id, datetime(2026, 2, 28, 23, 30,
                                                                                            tzinfo=UTC))
    february = _record_at(app, own.patient_id, None, None, datetime(2026, 2, 28, 22, 30, tzinfo=UTC))
    other_year = _record_at(app, own.patient_id, None, None, datetime(2025, 12, 31, 23, 30, tzinfo=UTC))

    def ids(query, token=admin.token):
        return [r["id"] for r in envelope(api.get(f"/records?{query}", token=token))["data"]]

    assert ids("year=2026&month=3") == [march]
    assert ids("year=2026&month=2") == [february]
    assert ids("year=2026") == [march, february, other_year]  # 2025-12-31 23:30 UTC is 2026 in Berlin
    assert ids("year=2025") == []
    assert ids(f"doctor_id={cardiologist.doctor_id}") == ids(f"department_id={department.id}") == [march]
    assert ids(f"patient_id={own.patient_id}", token=own.token) == [march, february, other_year]
    assert ids(f"patient_id={own.patient_id}", token=cardiologist.token) == [march, february, other_year]
    body = error_of(api.get("/records?month=3", token=admin.token), 422, "validation_error")
    assert "month" in body["error"]["fields"]
    error_of(api.get("/records?year=2026&month=13", token=admin.token), 422, "validation_error")


@pytest.mark.production_only("query counts: the laptop harness commits the shared test session per request")
def test_the_list_costs_the_same_for_any_length(app, api, admin, own, cardiologist, department):
    for _ in range(2):
        _record_at(app, own.patient_id, cardiologist.doctor_id, department.id, datetime(2026, 1, 5, tzinfo=UTC))
    small = steady_query_count(app, lambda: api.get("/records?per_page=100", token=admin.token))
    small_department = steady_query_count(app, lambda: api.get(f"/departments/{department.id}/records?per_page=100",
                                                        token=cardiologist.token))
    for _ in range(30):
        _record_at(app, own.patient_id, cardiologist.doctor_id, department.id, datetime(2026, 1, 5, tzinfo=UTC))
    assert steady_query_count(app, lambda: api.get("/records?per_page=100", token=admin.token)) == small
    assert steady_query_count(app, lambda: api.get(f"/departments/{department.id}/records?per_page=100",
                                            token=cardiologist.token)) == small_department


def test_department_records_are_for_its_doctors_and_admins(app, ctx, api, factories, cardiologist, own, admin,
                                                           department):
    record = new_record(api, cardiologist.token, own.patient_id)
    other = _record_at(app, own.patient_id, None, clinic.department().id, datetime(2026, 1, 5, tzinfo=UTC))
    path = f"/departments/{department.id}/records"
    before = len(audit_rows(app))
    assert [r["id"] for r in envelope(api.get(path, token=cardiologist.token))["data"]] == [record["id"]]
    assert [r["id"] for r in envelope(api.get(path, token=admin.token))["data"]] == [record["id"]]
    assert audit_rows(app)[before:] == [(reader.user_id, "read", "medical_record", record["id"], own.patient_id)
                                        for reader in (cardiologist, admin)]  # the page's own, for each reader
    outsider = caller(app, factories.user(role="doctor"))
    error_of(api.get(path, token=outsider.token), 403, "forbidden")
    error_of(api.get(path, token=own.token), 403, "forbidden")
    error_of(api.get("/departments/999999/records", token=admin.token), 404, "not_found")
    archived = clinic.department()
    archived.archived_at = datetime.now(UTC)
    db.session.commit()
    error_of(api.get(f"/departments/{archived.id}/records", token=admin.token), 404, "not_found")
    colleague = caller(app, factories.user(role="doctor"))
    with app.app_context():
        db.session.get(Doctor, colleague.doctor_id).department_id = department.id
        db.session.commit()
        db.session.remove()
    assert envelope(api.get(path, token=colleague.token))["data"] == []  # alice is not their patient
    assert other not in [r["id"] for r in envelope(api.get(path, token=admin.token))["data"]]


def test_doctors_reading_in_turn_each_see_only_their_own_patients(app, api, factories, cardiologist, own,
                                                                 department):
    """The record pages run statements built once per role (policy.records_template); who reads is a value of
    each request, so doctors taking turns never see each other's patients, on the department page or through
    a patient's timeline, and an emergency grant counts for its own doctor only."""
    colleague = caller(app, factories.user(role="doctor"))
    with app.app_context():
        db.session.get(Doctor, colleague.doctor_id).department_id = department.id
        db.session.commit()
        db.session.remove()
    theirs = new_patient(api, colleague.token)["id"]
    at = datetime(2026, 1, 5, tzinfo=UTC)
    mine = _record_at(app, own.patient_id, cardiologist.doctor_id, department.id, at)
    colleagues = _record_at(app, theirs, colleague.doctor_id, department.id, at)
    path = f"/departments/{department.id}/records"
    for _ in range(2):
        for doctor, record, patient, stranger in ((cardiologist, mine, own.patient_id, theirs),
                                                  (colleague, colleagues, theirs, own.patient_id)):
            assert [r["id"] for r in envelope(api.get(path, token=doctor.token))["data"]] == [record]
            assert [r["id"] for r in envelope(api.get(f"/patients/{patient}/records", token=doctor.token))["data"]
                    ] == [record]
            error_of(api.get(f"/patients/{stranger}/records", token=doctor.token), 404, "not_found")
    grant = api.post(f"/patients/{theirs}/emergency-access", json={"reason": "Unconscious in the waiting room"},
                     token=cardiologist.token)
    assert grant.status_code == 201, grant.get_json()
    assert [r["id"] for r in envelope(api.get(path, token=cardiologist.token))["data"]] == [colleagues, mine]
    error_of(api.get(f"/patients/{own.patient_id}/records", token=colleague.token), 404, "not_found")


@pytest.mark.parametrize("role", [Role.PATIENT.value, Role.DOCTOR.value])
def test_a_visibility_statement_run_without_its_reader_fails_rather_than_shows_more(app, ctx, own, cardiologist,
                                                                                    role):
    _record_at(app, own.patient_id, cardiologist.doctor_id, None, datetime(2026, 1, 5, tzinfo=UTC))
    with pytest.raises(StatementError, match="viewer_id"):
        db.session.scalars(policy.records_template(role)).all()
    db.session.rollback()
    assert db.session.scalars(policy.records_template(role), policy.viewer(None)).all() == []


def test_the_department_total_counts_only_live_records_of_patients_the_caller_sees(app, api, cardiologist, own,
                                                                                   admin, department):
    at = datetime(2026, 1, 5, tzinfo=UTC)
    shown = [_record_at(app, own.patient_id, cardiologist.doctor_id, department.id, at) for _ in range(3)]
    archived = shown.pop()
    assert envelope(api.delete(f"/records/{archived}", token=cardiologist.token))["status"] == "deleted"
    _record_at(app, own.patient_id, None, clinic.department().id, at)  # the same patient, another department
    stranger = new_patient(api, admin.token)["id"]  # not the cardiologist's patient
    hidden = _record_at(app, stranger, None, department.id, at)
    archived_patient = new_patient(api, admin.token)["id"]
    _record_at(app, archived_patient, None, department.id, at)
    assert envelope(api.delete(f"/patients/{archived_patient}", token=admin.token))["status"] == "deleted"
    path = f"/departments/{department.id}/records?per_page=1"
    for token, expected in ((cardiologist.token, shown), (admin.token, [*shown, hidden])):
        body = envelope(api.get(path, token=token))
        assert body["meta"]["total"] == len(expected) and len(body["data"]) == 1
        assert body["data"][0]["id"] in expected
