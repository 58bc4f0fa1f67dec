"""One rule for "is this doctor listed" (policy.listed_doctor), in every face: a doctor whose account is
deactivated leaves the doctor page, the slot lists, booking by slot id and the department's count at once."""
import pytest

from portal.extensions import db
from portal.models import Doctor
from portal.services.accounts import administration
from tests.api.clinic_api import active_appointments
from tests.fixtures import clinic
from tests.fixtures.api_client import envelope, error_of


@pytest.fixture
def quiet(ctx, doctor, admin):
    """The `doctor` of tests/api/conftest.py in a department, with a free slot, then deactivated."""
    department = clinic.department("Quiet wing")
    db.session.get(Doctor, doctor.doctor_id).department_id = department.id
    db.session.commit()
    slot = clinic.slot(doctor.doctor_id, clinic.soon(30))
    administration.admin_update(clinic.actor(admin.user_id), doctor.user_id, is_active=False)
    return {"department_id": department.id, "slot_id": slot.id, "doctor_id": doctor.doctor_id}


def test_an_unlisted_doctor_is_404_in_the_api_detail_and_slot_list(api, quiet):
    error_of(api.get(f"/doctors/{quiet['doctor_id']}"), 404, "not_found")
    error_of(api.get(f"/doctors/{quiet['doctor_id']}/slots"), 404, "not_found")


def test_an_unlisted_doctors_slot_cannot_be_held_or_booked_by_slot_id(api, quiet, alice, app):
    error_of(api.post("/holds", json={"slot_id": quiet["slot_id"]}, token=alice.token), 404, "not_found")
    error_of(api.post("/appointments", json={"slot_id": quiet["slot_id"]}, token=alice.token), 404, "not_found")
    assert active_appointments(app, quiet["slot_id"]) == []


def test_an_unlisted_doctor_is_not_counted_in_their_department(api, quiet):
    department = envelope(api.get(f"/departments/{quiet['department_id']}"))["data"]
    assert department["doctor_count"] == 0
    assert envelope(api.get(f"/departments/{quiet['department_id']}/doctors"))["data"] == []


def test_the_portal_doctor_page_of_an_unlisted_doctor_is_404(client, quiet):
    assert client.get(f"/doctors/{quiet['doctor_id']}").status_code == 404


def test_reactivating_the_account_lists_the_doctor_again_everywhere(api, quiet, doctor, admin, alice, client):
    administration.admin_update(clinic.actor(admin.user_id), doctor.user_id, is_active=True)
    assert envelope(api.get(f"/doctors/{quiet['doctor_id']}/slots"))["data"][0]["id"] == quiet["slot_id"]
    assert envelope(api.get(f"/departments/{quiet['department_id']}"))["data"]["doctor_count"] == 1
    assert client.get(f"/doctors/{quiet['doctor_id']}").status_code == 200
    assert api.post("/appointments", json={"slot_id": quiet["slot_id"]}, token=alice.token).status_code == 201

