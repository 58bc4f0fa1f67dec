"""/departments: anyone reads them with their doctor counts; admins add, change and archive them."""
import pytest

from portal.extensions import db
from tests.api.clinic_api import caller
from tests.fixtures import clinic
from tests.fixtures.api_client import envelope, error_of

pytestmark = pytest.mark.laptop  # the rules and error paths hold on SQLite too


@pytest.fixture
def cardiology(ctx):
    department = clinic.department("Cardiology", "Hearts")
    clinic.doctor(department, "Cardiology", full_name="Dr Beta")
    clinic.doctor(department, "Cardiology", full_name="Dr Alpha")
    archived = clinic.doctor(department, "Cardiology", full_name="Dr Gone")
    archived.archived_at = clinic.soon(-1)
    db.session.commit()
    return department.id


def test_anyone_lists_departments_by_name_with_active_doctor_counts(api, ctx, cardiology):
    clinic.department("Allergology")
    body = envelope(api.get("/departments"))
    assert body["status"] == "success"
    assert [(d["name"], d["doctor_count"]) for d in body["data"]] == [("Allergology", 0), ("Cardiology", 2)]
    assert set(body["data"][1]) == {"id", "name", "description", "doctor_count"}


def test_one_department_and_its_doctors(api, cardiology):
    body = envelope(api.get(f"/departments/{cardiology}"))
    assert body["data"] == {"id": cardiology, "name": "Cardiology", "description": "Hearts", "doctor_count": 2}
    doctors = envelope(api.get(f"/departments/{cardiology}/doctors"))["data"]
    assert [d["full_name"] for d in doctors] == ["Dr Alpha", "Dr Beta"]
    assert doctors[0]["department"] == {"id": cardiology, "name": "Cardiology"}
    assert {"id", "speciality", "gender", "fees"} <= set(doctors[0])


@pytest.mark.parametrize("path", ["/departments/999", "/departments/999/doctors", "/departments/99999999999"])
def test_unknown_departments_are_404(api, path):
    error_of(api.get(path), 404, "not_found")


def test_an_admin_creates_a_department_and_the_name_is_unique_in_any_case(api, admin, cardiology):
    body = envelope(api.post("/departments", json={"name": "Neurology", "description": "Nerves"}, token=admin.token))
    assert body["status"] == "created"
    assert body["data"]["name"] == "Neurology" and body["data"]["doctor_count"] == 0
    assert envelope(api.get(f"/departments/{body['data']['id']}"))["data"]["description"] == "Nerves"
    error_of(api.post("/departments", json={"name": "cardiology"}, token=admin.token), 409, "department_name_taken")


def test_creating_needs_a_name_of_sensible_length(api, admin):
    body = error_of(api.post("/departments", json={"description": "x"}, token=admin.token), 400, "missing_field")
    assert "name" in body["error"]["fields"]
    body = error_of(api.post("/departments", json={"name": "x" * 121}, token=admin.token), 422, "validation_error")
    assert "name" in body["error"]["fields"]
    body = error_of(api.post("/departments", json={"name": "   "}, token=admin.token), 422, "validation_error")
    assert "name" in body["error"]["fields"]
    error_of(api.post("/departments", json={"name": "A", "floor": 3}, token=admin.token), 422, "validation_error")


@pytest.mark.parametrize("method", ["patch", "put"])
def test_an_admin_renames_a_department(api, admin, cardiology, method):
    body = envelope(getattr(api, method)(f"/departments/{cardiology}", json={"name": "Heart centre"},
                                         token=admin.token))
    assert body["status"] == "updated"
    assert (body["data"]["name"], body["data"]["description"]) == ("Heart centre", "Hearts")


def test_renaming_to_a_taken_name_is_409_and_an_empty_change_422(api, ctx, admin, cardiology):
    clinic.department("Neurology")
    error_of(api.patch(f"/departments/{cardiology}", json={"name": "NEUROLOGY"}, token=admin.token), 409,
             "department_name_taken")
    error_of(api.patch(f"/departments/{cardiology}", json={}, token=admin.token), 422, "validation_error")
    error_of(api.patch("/departments/999", json={"name": "X"}, token=admin.token), 404, "not_found")


def test_a_department_with_doctors_cannot_be_deleted_an_empty_one_is_archived(api, ctx, admin, cardiology):
    error_of(api.delete(f"/departments/{cardiology}", token=admin.token), 409, "department_in_use")
    empty = clinic.department("Empty").id
    body = envelope(api.delete(f"/departments/{empty}", token=admin.token))
    assert body["status"] == "deleted" and body["data"] is None
    error_of(api.get(f"/departments/{empty}"), 404, "not_found")
    assert [d["name"] for d in envelope(api.get("/departments"))["data"]] == ["Cardiology"]
    error_of(api.delete(f"/departments/{empty}", token=admin.token), 404, "not_found")


@pytest.mark.parametrize("role", ["patient", "doctor"])
def test_only_admins_change_departments(app, api, factories, cardiology, role):
    token = caller(app, factories.user(role=role)).token
    error_of(api.post("/departments", json={"name": "X"}, token=token), 403, "forbidden")
    error_of(api.patch(f"/departments/{cardiology}", json={"name": "X"}, token=token), 403, "forbidden")
    error_of(api.put(f"/departments/{cardiology}", json={"name": "X"}, token=token), 403, "forbidden")
    error_of(api.delete(f"/departments/{cardiology}", token=token), 403, "forbidden")


def test_strangers_get_401_for_changes(api, cardiology):
    error_of(api.post("/departments", json={"name": "X"}), 401, "unauthenticated")
    error_of(api.patch(f"/departments/{cardiology}", json={"name": "X"}), 401, "unauthenticated")
    error_of(api.delete(f"/departments/{cardiology}"), 401, "unauthenticated")
