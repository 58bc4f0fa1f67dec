"""/assignments: staff assign doctors (themselves or colleagues) to visible patients, list and end them."""
import pytest

from portal.extensions import db
from portal.models import Assignment, User
from tests.api.clinic_api import caller, steady_query_count
from tests.api.records_api import assign, audit_rows, new_patient
from tests.fixtures import clinic
from tests.fixtures.api_client import envelope, error_of

pytestmark = pytest.mark.laptop  # the rules and error paths hold on SQLite too


@pytest.fixture
def colleague(app, factories):
    return caller(app, factories.user(role="doctor"))


def test_a_doctor_assigns_a_colleague_and_the_colleague_then_sees_the_patient(app, api, doctor, colleague):
    patient = new_patient(api, doctor.token)
    error_of(api.get(f"/patients/{patient['id']}", token=colleague.token), 404, "not_found")
    data = assign(api, doctor.token, patient["id"], colleague.doctor_id)
    assert (data["patient"]["id"], data["doctor"]["id"], data["ended_at"], data["created_by_id"]) == (
        patient["id"], colleague.doctor_id, None, doctor.user_id)
    assert envelope(api.get(f"/patients/{patient['id']}", token=colleague.token))["data"]["id"] == patient["id"]
    assert (doctor.user_id, "create", "assignment", data["id"], patient["id"]) in audit_rows(app)


def test_an_active_pair_is_unique_and_may_be_assigned_again_after_it_ended(app, api, doctor, admin):
    patient = new_patient(api, doctor.token)
    first = assign(api, doctor.token, patient["id"], doctor.doctor_id)
    body = {"patient_id": patient["id"], "doctor_id": doctor.doctor_id}
    error_of(api.post("/assignments", json=body, token=admin.token), 409, "assignment_exists")
    ended = envelope(api.delete(f"/assignments/{first['id']}", token=admin.token))
    assert ended["status"] == "deleted" and ended["data"]["ended_at"] is not None
    error_of(api.delete(f"/assignments/{first['id']}", token=admin.token), 409, "assignment_ended")
    second = assign(api, admin.token, patient["id"], doctor.doctor_id)
    assert second["id"] != first["id"]
    with app.app_context():
        rows = db.session.scalars(db.select(Assignment).order_by(Assignment.id)).all()
        assert [(r.id, r.ended_at is None) for r in rows] == [(first["id"], False), (second["id"], True)]
        db.session.remove()


def test_assigning_needs_staff_a_visible_patient_and_a_listed_doctor(app, api, doctor, colleague, admin, alice):
    hidden = new_patient(api, admin.token)
    mine = new_patient(api, doctor.token)
    error_of(api.post("/assignments", json={"patient_id": mine["id"], "doctor_id": doctor.doctor_id},
                      token=alice.token), 403, "forbidden")
    error_of(api.post("/assignments", json={"patient_id": hidden["id"], "doctor_id": doctor.doctor_id},
                      token=doctor.token), 404, "not_found")
    error_of(api.post("/assignments", json={"patient_id": mine["id"], "doctor_id": 999999},
                      token=doctor.token), 404, "not_found")
    with app.app_context():
        db.session.get(User, colleague.user_id).is_active_flag = False  # off the directory: not assignable
        db.session.commit()
        db.session.remove()
    error_of(api.post("/assignments", json={"patient_id": mine["id"], "doctor_id": colleague.doctor_id},
                      token=doctor.token), 404, "not_found")
    error_of(api.post("/assignments", json={"patient_id": mine["id"]}, token=doctor.token), 400, "missing_field")
    error_of(api.post("/assignments", json={"patient_id": "1", "doctor_id": 1}, token=doctor.token),
             422, "validation_error")


def test_the_list_filters_hides_ended_ones_and_shows_only_visible_patients(app, api, doctor, colleague, admin,
                                                                          alice):
    mine = new_patient(api, doctor.token, full_name="Mine")
    hidden = new_patient(api, admin.token, full_name="Hidden")
    a = assign(api, doctor.token, mine["id"], doctor.doctor_id)
    b = assign(api, doctor.token, mine["id"], colleague.doctor_id)
    c = assign(api, admin.token, hidden["id"], colleague.doctor_id)
    envelope(api.delete(f"/assignments/{a['id']}", token=doctor.token))

    def ids(token, query=""):
        return [x["id"] for x in envelope(api.get(f"/assignments{query}", token=token))["data"]]

    assert ids(doctor.token) == [b["id"]]  # the patient stays visible: the doctor created it
    assert ids(doctor.token, "?include_ended=true") == [b["id"], a["id"]]
    assert ids(admin.token) == [c["id"], b["id"]]
    assert ids(admin.token, f"?patient_id={mine['id']}&include_ended=true") == [b["id"], a["id"]]
    assert ids(admin.token, f"?doctor_id={colleague.doctor_id}") == [c["id"], b["id"]]
    assert ids(colleague.token) == [c["id"], b["id"]]
    error_of(api.get("/assignments?patient_id=x", token=admin.token), 422, "validation_error")
    error_of(api.get("/assignments", token=alice.token), 403, "forbidden")


@pytest.mark.production_only("query counts: the laptop harness commits the shared test session per request")
def test_the_list_costs_the_same_for_any_length_and_audits_each_row(app, api, admin):
    def add(count):
        with app.app_context():
            for _ in range(count):
                doctor = clinic.doctor()
                patient = clinic.patient()
                db.session.add(Assignment(patient_id=patient.id, doctor_id=doctor.id))
            db.session.commit()
            db.session.remove()

    add(2)
    small = steady_query_count(app, lambda: api.get("/assignments?per_page=100", token=admin.token))
    add(25)
    large = steady_query_count(app, lambda: api.get("/assignments?per_page=100", token=admin.token))
    assert small == large
    # each list was read twice (steady_query_count), each read audits every row it showed
    assert len(audit_rows(app, action="read", object_type="assignment")) == 2 * (2 + 27)


def test_ending_needs_staff_and_a_visible_assignment(api, doctor, colleague, admin, alice):
    hidden = new_patient(api, admin.token)
    theirs = assign(api, admin.token, hidden["id"], colleague.doctor_id)
    error_of(api.delete(f"/assignments/{theirs['id']}", token=doctor.token), 404, "not_found")
    error_of(api.delete(f"/assignments/{theirs['id']}", token=alice.token), 403, "forbidden")
    error_of(api.delete("/assignments/999999", token=admin.token), 404, "not_found")
    assert envelope(api.get("/assignments", token=admin.token))["data"][0]["ended_at"] is None
