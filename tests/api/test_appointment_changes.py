"""PATCH and DELETE /appointments/{id}: rescheduling, closing (completed / no_show) and cancelling."""
import pytest

from tests.api.clinic_api import active_appointments, caller, patients
from tests.fixtures import clinic
from tests.fixtures.api_client import envelope, error_of

pytestmark = pytest.mark.laptop  # runs on SQLite with the in-process stores too


@pytest.fixture
def appointment(api, slots, alice) -> int:
    return envelope(api.post("/appointments", json={"slot_id": slots[0].id}, token=alice.token))["data"]["id"]


@pytest.fixture
def started(ctx, doctor, alice) -> int:
    """An appointment of alice's with the doctor that began an hour ago."""
    return clinic.appointment(alice.patient_id, clinic.slot(doctor.doctor_id, clinic.soon(-1))).id


def _states(api, doctor_id) -> dict[int, str]:
    return {s["id"]: s["status"] for s in envelope(api.get(f"/doctors/{doctor_id}/slots"))["data"]}


@pytest.mark.parametrize("who", ["alice", "doctor", "admin"])
def test_the_patient_the_doctor_or_an_admin_reschedules_and_the_old_slot_is_free(
        request, app, api, doctor, slots, appointment, who):
    token = request.getfixturevalue(who).token
    body = envelope(api.patch(f"/appointments/{appointment}", json={"slot_id": slots[2].id}, token=token))
    assert body["status"] == "updated"
    data = body["data"]
    assert (data["status"], data["slot_id"], data["rescheduled_from_slot_id"]) == ("rescheduled", slots[2].id,
                                                                                   slots[0].id)
    assert data["starts_at"] == slots[2].starts_at.isoformat()
    assert _states(api, doctor.doctor_id)[slots[0].id] == "free"
    assert _states(api, doctor.doctor_id)[slots[2].id] == "booked"
    assert [a.id for a in active_appointments(app, slots[2].id)] == [appointment]


def test_rescheduling_needs_a_free_future_slot_of_the_same_doctor(app, api, ctx, doctor, slots, alice, appointment):
    bob = patients(app, 1)[0]
    assert api.post("/appointments", json={"slot_id": slots[1].id}, token=bob.token).status_code == 201
    assert api.post("/holds", json={"slot_id": slots[2].id}, token=bob.token).status_code == 201
    past = clinic.slot(doctor.doctor_id, clinic.soon(-3))
    elsewhere = clinic.slot(clinic.doctor().id, clinic.soon(50))

    def move(slot_id):
        return api.patch(f"/appointments/{appointment}", json={"slot_id": slot_id}, token=alice.token)

    error_of(move(slots[1].id), 409, "slot_booked")
    error_of(move(slots[2].id), 409, "slot_held")
    for slot_id in (slots[0].id, past.id, elsewhere.id):
        body = error_of(move(slot_id), 422, "validation_error")
        assert "slot_id" in body["error"]["fields"]
    error_of(move(999), 404, "not_found")
    assert envelope(api.get(f"/appointments/{appointment}", token=alice.token))["data"]["slot_id"] == slots[0].id


def test_an_appointment_someone_may_not_see_cannot_be_changed(app, api, factories, slots, appointment):
    stranger = patients(app, 1)[0]
    other_doctor = caller(app, factories.user(role="doctor"))
    for token in (stranger.token, other_doctor.token):
        error_of(api.patch(f"/appointments/{appointment}", json={"slot_id": slots[1].id}, token=token), 404,
                 "not_found")
        error_of(api.delete(f"/appointments/{appointment}", token=token), 404, "not_found")
    error_of(api.patch(f"/appointments/{appointment}", json={"slot_id": slots[1].id}), 401, "unauthenticated")
    error_of(api.delete(f"/appointments/{appointment}"), 401, "unauthenticated")


def test_an_empty_change_misses_slot_id_or_status(api, alice, appointment):
    answer = error_of(api.patch(f"/appointments/{appointment}", json={}, token=alice.token), 400, "missing_field")
    assert answer["status"] == "incomplete" and set(answer["error"]["fields"]) == {"slot_id", "status"}
    shown = envelope(api.get(f"/appointments/{appointment}", token=alice.token))["data"]
    assert shown["status"] == "scheduled"


@pytest.mark.parametrize("body, field", [
    ({"slot_id": 2, "status": "completed"}, "body"), ({"status": "cancelled"}, "status"),
    ({"status": "scheduled"}, "status"), ({"slot_id": "x"}, "slot_id"), ({"reason": "new"}, "reason"),
])
def test_bad_changes_are_422(api, alice, appointment, body, field):
    answer = error_of(api.patch(f"/appointments/{appointment}", json=body, token=alice.token), 422, "validation_error")
    assert field in answer["error"]["fields"]


@pytest.mark.parametrize("who", ["doctor", "admin"])
def test_the_doctor_or_an_admin_closes_a_started_appointment(request, api, started, who):
    token = request.getfixturevalue(who).token
    body = envelope(api.patch(f"/appointments/{started}", json={"status": "no_show"}, token=token))
    assert (body["status"], body["data"]["status"]) == ("updated", "no_show")
    body = envelope(api.patch(f"/appointments/{started}", json={"status": "completed"}, token=token))
    assert body["data"]["status"] == "completed"  # a correction
    error_of(api.delete(f"/appointments/{started}", token=token), 409, "appointment_closed")


def test_closing_waits_for_the_start_and_is_not_for_patients(api, doctor, alice, started, appointment):
    error_of(api.patch(f"/appointments/{appointment}", json={"status": "completed"}, token=doctor.token), 409,
             "not_started")
    error_of(api.patch(f"/appointments/{started}", json={"status": "completed"}, token=alice.token), 403, "forbidden")


def test_a_started_appointment_cannot_be_moved_or_cancelled(api, slots, alice, started):
    error_of(api.patch(f"/appointments/{started}", json={"slot_id": slots[1].id}, token=alice.token), 409,
             "already_started")
    error_of(api.delete(f"/appointments/{started}", token=alice.token), 409, "already_started")


@pytest.mark.parametrize("who", ["alice", "doctor", "admin"])
def test_cancelling_keeps_the_row_and_frees_the_slot(request, app, api, doctor, slots, appointment, who):
    token = request.getfixturevalue(who).token
    body = envelope(api.delete(f"/appointments/{appointment}", token=token))
    assert body["status"] == "deleted"
    assert (body["data"]["id"], body["data"]["status"]) == (appointment, "cancelled")
    assert body["data"]["cancelled_at"]
    alice = request.getfixturevalue("alice")
    assert envelope(api.get(f"/appointments/{appointment}", token=alice.token))["data"]["status"] == "cancelled"
    assert _states(api, doctor.doctor_id)[slots[0].id] == "free"
    error_of(api.delete(f"/appointments/{appointment}", token=token), 409, "already_cancelled")
    error_of(api.patch(f"/appointments/{appointment}", json={"slot_id": slots[1].id}, token=token), 409,
             "already_cancelled")
    bob = patients(app, 1)[0]
    assert api.post("/appointments", json={"slot_id": slots[0].id}, token=bob.token).status_code == 201


def test_unknown_appointments_are_404(api, admin):
    error_of(api.patch("/appointments/999", json={"status": "completed"}, token=admin.token), 404, "not_found")
    error_of(api.delete("/appointments/999", token=admin.token), 404, "not_found")
    error_of(api.get("/appointments/99999999999", token=admin.token), 404, "not_found")
