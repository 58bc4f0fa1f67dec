"""/holds: a patient keeps a slot for a few minutes; others see it as held; the holder lets it go."""
from datetime import UTC, datetime, timedelta

import pytest
from redis import Redis

from portal.extensions import db
from portal.services.scheduling.hold_store import RedisHoldStore
from tests.api.clinic_api import caller, patients
from tests.fixtures import clinic
from tests.fixtures.api_client import envelope, error_of

pytestmark = pytest.mark.laptop  # runs on SQLite with the in-process stores too


@pytest.fixture
def slot(ctx):
    return clinic.slot(clinic.doctor().id, clinic.soon(30))


@pytest.fixture
def redis_down(app, monkeypatch):
    """Holds kept in a Redis nobody listens on (a closed port), as when the real one is down. setitem puts
    back exactly what was there, including nothing: a store not made yet must not come back as None."""
    monkeypatch.setitem(app.extensions, "hold_store",
                        RedisHoldStore(Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1)))


def _status_of(api, slot) -> str:
    listed = envelope(api.get(f"/doctors/{slot.doctor_id}/slots"))["data"]
    return next(seen["status"] for seen in listed if seen["id"] == slot.id)


def test_a_patient_holds_a_slot_for_the_hold_ttl(app, api, slot, alice):
    before = datetime.now(UTC)
    body = envelope(api.post("/holds", json={"slot_id": slot.id}, token=alice.token))
    assert body["status"] == "created"
    data = body["data"]
    assert set(data) == {"hold_id", "slot_id", "expires_at"} and data["slot_id"] == slot.id
    ttl = timedelta(seconds=app.config["HOLD_TTL_SECONDS"])
    assert before + ttl - timedelta(seconds=2) <= datetime.fromisoformat(data["expires_at"]) <= before + ttl + \
        timedelta(seconds=2)
    assert _status_of(api, slot) == "held"
    again = envelope(api.post("/holds", json={"slot_id": slot.id}, token=alice.token))
    assert again["data"]["hold_id"] == data["hold_id"]  # a double click is not a conflict


def test_a_slot_someone_holds_is_409_slot_held(app, api, slot, alice):
    bob = patients(app, 1)[0]
    assert api.post("/holds", json={"slot_id": slot.id}, token=alice.token).status_code == 201
    body = error_of(api.post("/holds", json={"slot_id": slot.id}, token=bob.token), 409, "slot_held")
    assert body["message"] == "Slot is temporarily locked."


def test_a_booked_slot_is_409_slot_booked(api, ctx, slot, alice):
    clinic.appointment(clinic.patient().id, slot)
    body = error_of(api.post("/holds", json={"slot_id": slot.id}, token=alice.token), 409, "slot_booked")
    assert body["message"] == "Slot is already booked."


def test_a_past_slot_is_422_and_an_unknown_or_withdrawn_one_404(api, ctx, alice):
    doctor = clinic.doctor()
    past = clinic.slot(doctor.id, clinic.soon(-1))
    body = error_of(api.post("/holds", json={"slot_id": past.id}, token=alice.token), 422, "validation_error")
    assert "slot_id" in body["error"]["fields"]
    withdrawn = clinic.slot(doctor.id, clinic.soon(30))
    withdrawn.removed_at = clinic.soon(-1)
    db.session.commit()
    for slot_id in (withdrawn.id, 999):
        error_of(api.post("/holds", json={"slot_id": slot_id}, token=alice.token), 404, "not_found")


def test_a_patient_holds_at_most_three_slots(api, ctx, alice):
    slots = clinic.future_slots(clinic.doctor().id, 4)
    for slot in slots[:3]:
        assert api.post("/holds", json={"slot_id": slot.id}, token=alice.token).status_code == 201
    error_of(api.post("/holds", json={"slot_id": slots[3].id}, token=alice.token), 409, "too_many_holds")


@pytest.mark.parametrize("body, status, code", [
    ({}, 400, "missing_field"), ({"slot_id": "abc"}, 422, "validation_error"),
    ({"slot_id": 99999999999}, 422, "validation_error"), ({"slot_id": 1, "minutes": 9}, 422, "validation_error"),
])
def test_bad_hold_requests(api, alice, body, status, code):
    answer = error_of(api.post("/holds", json=body, token=alice.token), status, code)
    assert answer["error"]["fields"]


@pytest.mark.parametrize("loose", [lambda n: n + 0.5, float, str, lambda n: True])
def test_slot_ids_are_json_integers_only(api, slot, alice, loose):
    answer = error_of(api.post("/holds", json={"slot_id": loose(slot.id)}, token=alice.token), 422,
                      "validation_error")
    assert list(answer["error"]["fields"]) == ["slot_id"]
    assert _status_of(api, slot) == "free"


def test_only_patients_hold(app, api, factories, slot):
    for role in ("doctor", "admin"):
        token = caller(app, factories.user(role=role)).token
        error_of(api.post("/holds", json={"slot_id": slot.id}, token=token), 403, "forbidden")
        error_of(api.delete("/holds/whatever", token=token), 403, "forbidden")
    error_of(api.post("/holds", json={"slot_id": slot.id}), 401, "unauthenticated")
    error_of(api.delete("/holds/whatever"), 401, "unauthenticated")


def test_the_holder_releases_a_hold_at_once(app, api, slot, alice):
    bob = patients(app, 1)[0]
    hold_id = envelope(api.post("/holds", json={"slot_id": slot.id}, token=alice.token))["data"]["hold_id"]
    error_of(api.delete(f"/holds/{hold_id}", token=bob.token), 404, "not_found")
    body = envelope(api.delete(f"/holds/{hold_id}", token=alice.token))
    assert body["status"] == "deleted"
    assert _status_of(api, slot) == "free"
    assert api.post("/holds", json={"slot_id": slot.id}, token=bob.token).status_code == 201
    error_of(api.delete(f"/holds/{hold_id}", token=alice.token), 404, "not_found")
    error_of(api.delete(f"/holds/{'x' * 200}", token=alice.token), 404, "not_found")


@pytest.mark.production_only("Redis down is a production state")
def test_without_redis_holds_are_503_not_500(api, slot, alice, redis_down):
    body = error_of(api.post("/holds", json={"slot_id": slot.id}, token=alice.token), 503, "holds_unavailable")
    assert "book the time directly" in body["message"]
    response = api.delete("/holds/some-hold", token=alice.token)
    error_of(response, 503, "holds_unavailable")
    assert response.headers["Retry-After"]
    assert _status_of(api, slot) == "free"  # reading slot states does without holds
