"""The cross-user matrix: every route with a patient, assignment or record id, tried by each role on an object
that role may not see. Each answer is 404 (or, for a route the role may never use, the same 403 it gets for
an id that does not exist at all), and nothing in the database changes."""
import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Assignment, AuditEvent, MedicalRecord, MedicalRecordVersion, Patient
from tests.api.clinic_api import caller, patients
from tests.api.records_api import assign, new_patient, new_record
from tests.fixtures.api_client import envelope, error_of

pytestmark = pytest.mark.laptop  # the rules and error paths hold on SQLite too

MISSING = 999999


def _routes(patient_id: int, assignment_id: int, record_id: int) -> list[tuple[str, str, dict | None]]:
    change = {"version": 1, "diagnostics": "Overwritten"}
    return [
        ("GET", f"/patients/{patient_id}", None),
        ("PUT", f"/patients/{patient_id}", {"phone": "000"}),
        ("PATCH", f"/patients/{patient_id}", {"city": "Nowhere"}),
        ("DELETE", f"/patients/{patient_id}", None),
        ("GET", f"/patients/{patient_id}/doctors", None),
        ("GET", f"/patients/{patient_id}/appointments", None),
        ("GET", f"/patients/{patient_id}/records", None),
        ("DELETE", f"/assignments/{assignment_id}", None),
        ("GET", f"/records/{record_id}", None),
        ("PUT", f"/records/{record_id}", change),
        ("PATCH", f"/records/{record_id}", change),
        ("DELETE", f"/records/{record_id}", None),
        ("GET", f"/records/{record_id}/history", None),
        ("POST", "/assignments", {"patient_id": patient_id, "doctor_id": 1}),
        ("POST", "/records", {"patient_id": patient_id, "diagnostics": "Planted"}),
    ]


def _snapshot(app) -> list:
    """Every patient, assignment, record and version as plain values, and the writes in the audit log."""
    with app.app_context():
        rows: list = [db.session.scalars(select(AuditEvent.id).where(AuditEvent.action != "read")).all()]
        for model in (Patient, Assignment, MedicalRecord, MedicalRecordVersion):
            for row in db.session.scalars(select(model).order_by(model.id)):
                rows.append((model.__name__, {c.key: getattr(row, c.key) for c in model.__table__.columns}))
        db.session.remove()
    return rows


@pytest.fixture
def world(app, api, factories, admin):
    """A patient of one doctor (with an assignment and a record edited once), and an archived one."""
    owner = caller(app, factories.user(role="doctor"))
    kept = new_patient(api, owner.token, full_name="Kept Patient")
    kept_assignment = assign(api, owner.token, kept["id"], owner.doctor_id)
    kept_record = new_record(api, owner.token, kept["id"])
    envelope(api.patch(f"/records/{kept_record['id']}", json={"version": 1, "diagnostics": "Edited"},
                       token=owner.token))
    gone = new_patient(api, admin.token, full_name="Archived Patient")
    gone_assignment = assign(api, admin.token, gone["id"], owner.doctor_id)
    gone_record = new_record(api, admin.token, gone["id"])
    envelope(api.delete(f"/patients/{gone['id']}", token=admin.token))
    return {"kept": (kept["id"], kept_assignment["id"], kept_record["id"]),
            "gone": (gone["id"], gone_assignment["id"], gone_record["id"])}


@pytest.mark.parametrize("role", ["patient", "doctor", "admin"])
def test_every_route_with_an_id_is_404_for_an_object_the_role_may_not_see(app, api, factories, world, admin, role):
    if role == "patient":
        token, targets = patients(app, 1)[0].token, ("kept", "gone")
    elif role == "doctor":
        token, targets = caller(app, factories.user(role="doctor")).token, ("kept", "gone")
    else:
        token, targets = admin.token, ("gone",)
    before = _snapshot(app)
    for target in targets:
        nowhere = _routes(MISSING, MISSING, MISSING)
        for (method, path, body), (_, missing_path, missing_body) in zip(_routes(*world[target]), nowhere,
                                                                          strict=True):
            kwargs = {} if body is None else {"json": body}
            response = api.request(method, path, token=token, **kwargs)
            if response.status_code == 403:  # a role refusal must not depend on the object
                missing_kwargs = {} if missing_body is None else {"json": missing_body}
                assert api.request(method, missing_path, token=token, **missing_kwargs).status_code == 403, path
                error_of(response, 403, "forbidden")
            else:
                error_of(response, 404, "not_found")
    assert _snapshot(app) == before


@pytest.mark.parametrize("role", ["patient", "doctor"])
def test_lists_leave_out_what_the_role_may_not_see(app, api, factories, world, role):
    if role == "patient":
        token = patients(app, 1)[0].token
    else:
        token = caller(app, factories.user(role="doctor")).token
    kept_patient = world["kept"][0]
    assert envelope(api.get(f"/records?patient_id={kept_patient}", token=token))["data"] == []
    if role == "doctor":
        assert envelope(api.get("/patients", token=token))["data"] == []
        assert envelope(api.get(f"/assignments?patient_id={kept_patient}&include_ended=true",
                                token=token))["data"] == []


def test_every_route_needs_credentials(api):
    routes = _routes(1, 1, 1) + [("GET", "/patients", None), ("POST", "/patients", {"full_name": "X"}),
                                 ("GET", "/assignments", None), ("GET", "/records", None),
                                 ("GET", "/departments/1/records", None)]
    for method, path, body in routes:
        kwargs = {} if body is None else {"json": body}
        error_of(api.request(method, path, **kwargs), 401, "unauthenticated")
