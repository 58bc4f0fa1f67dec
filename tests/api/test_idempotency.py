"""Idempotency-Key on POST /holds and POST /appointments: a retry gets the first answer and nothing runs twice."""
import json
import threading
import time

import pytest
import requests
from redis import Redis
from sqlalchemy import func, select, text

from portal.extensions import db
from portal.models import AuditEvent
from portal.services.idempotency_store import RedisIdempotencyStore
from portal.services.scheduling import appointments as appointment_service
from tests.api.clinic_api import active_appointments, patients
from tests.fixtures.api_client import PREFIX, envelope, error_of
from tests.fixtures.gunicorn_server import together

KEY = "booking-7f3a9c"


@pytest.fixture
def server(app, gunicorn_servers):
    return gunicorn_servers(app) + PREFIX


def _book(api, caller, body, key=KEY, **kwargs):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return api.post("/appointments", json=body, token=caller.token, headers=headers, **kwargs)


def _created_rows(app) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "create", AuditEvent.object_type == "appointment"))
        db.session.remove()
    return count


def test_a_repeat_with_the_same_key_returns_the_first_answer_and_books_once(app, api, slots, alice):
    first = _book(api, alice, {"slot_id": slots[0].id, "reason": "Back pain"})
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    spaced = json.dumps({"reason": "Back pain", "slot_id": slots[0].id}, indent=2)  # same JSON, other spelling
    for again in (_book(api, alice, {"slot_id": slots[0].id, "reason": "Back pain"}),
                  api.post("/appointments", data=spaced, content_type="application/json", token=alice.token,
                           headers={"Idempotency-Key": KEY})):
        assert again.status_code == 201 and again.get_json() == first.get_json()
        assert again.headers["Idempotent-Replayed"] == "true" and again.mimetype == "application/json"
    assert [a.id for a in active_appointments(app, slots[0].id)] == [first.get_json()["data"]["id"]]
    assert _created_rows(app) == 1
    error_of(_book(api, alice, {"slot_id": slots[0].id, "reason": "Back pain"}, key=None), 409, "slot_booked")


def test_a_repeated_hold_with_the_same_key_is_the_same_hold(api, slots, alice):
    headers = {"Idempotency-Key": "hold-1"}
    first = api.post("/holds", json={"slot_id": slots[0].id}, token=alice.token, headers=headers)
    again = api.post("/holds", json={"slot_id": slots[0].id}, token=alice.token, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201) and again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"


def test_the_same_key_for_another_request_is_a_mismatch(app, api, slots, alice):
    assert _book(api, alice, {"slot_id": slots[0].id}).status_code == 201
    for answer in (_book(api, alice, {"slot_id": slots[1].id}),
                   _book(api, alice, {"slot_id": slots[0].id, "reason": "another"}),
                   api.post("/holds", json={"slot_id": slots[0].id}, token=alice.token,
                            headers={"Idempotency-Key": KEY})):
        body = error_of(answer, 422, "idempotency_mismatch")
        assert body["status"] == "invalid" and list(body["error"]["fields"]) == ["Idempotency-Key"]
    assert active_appointments(app, slots[1].id) == []


def test_callers_with_the_same_key_are_independent(app, api, slots, alice):
    bob = patients(app, 1)[0]
    mine = envelope(_book(api, alice, {"slot_id": slots[0].id}))["data"]
    theirs = _book(api, bob, {"slot_id": slots[1].id})
    assert theirs.status_code == 201 and "Idempotent-Replayed" not in theirs.headers
    assert theirs.get_json()["data"]["patient"]["id"] == bob.patient_id != mine["patient"]["id"]
    error_of(_book(api, bob, {"slot_id": slots[0].id}, key="other"), 409, "slot_booked")  # runs, not replayed


def test_a_domain_refusal_is_kept_for_its_key(app, api, slots, alice):
    bob = patients(app, 1)[0]
    booked = envelope(_book(api, bob, {"slot_id": slots[0].id}, key=None))["data"]
    refused = error_of(_book(api, alice, {"slot_id": slots[0].id}), 409, "slot_booked")
    envelope(api.delete(f"/appointments/{booked['id']}", token=bob.token))
    again = _book(api, alice, {"slot_id": slots[0].id})
    assert again.status_code == 409 and again.get_json() == refused and again.headers["Idempotent-Replayed"] == "true"
    assert active_appointments(app, slots[0].id) == []
    assert _book(api, alice, {"slot_id": slots[0].id}, key="a-new-key").status_code == 201


def test_a_body_that_does_not_parse_is_not_kept(api, slots, alice):
    error_of(_book(api, alice, {"slot_id": "first"}), 422, "validation_error")
    assert _book(api, alice, {"slot_id": slots[0].id}).status_code == 201


def test_a_body_that_is_not_json_is_answered_by_the_parser_and_not_kept(api, slots, alice):
    for raw in ("{not json", "[" * 100_000):
        answer = api.post("/appointments", data=raw, content_type="application/json", token=alice.token,
                          headers={"Idempotency-Key": KEY})
        error_of(answer, 400, "malformed_json")
    assert _book(api, alice, {"slot_id": slots[0].id}).status_code == 201


def test_a_server_failure_is_not_kept_and_the_retry_runs(app, api, slots, alice, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the database fell over")

    monkeypatch.setattr(appointment_service, "book", broken)
    error_of(_book(api, alice, {"slot_id": slots[0].id}), 500, "internal")
    monkeypatch.undo()
    retried = _book(api, alice, {"slot_id": slots[0].id})
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers
    assert len(active_appointments(app, slots[0].id)) == 1


@pytest.mark.parametrize("key", ["", "k" * 256, "schlüssel", "tab\there"])
def test_a_malformed_key_is_422_naming_the_header(app, api, slots, alice, key):
    body = error_of(_book(api, alice, {"slot_id": slots[0].id}, key=key), 422, "validation_error")
    assert list(body["error"]["fields"]) == ["Idempotency-Key"]
    assert active_appointments(app, slots[0].id) == []


def test_the_longest_key_is_fine(api, slots, alice):
    assert _book(api, alice, {"slot_id": slots[0].id}, key="~" * 255).status_code == 201


def test_without_its_store_a_request_with_a_key_is_503_and_one_without_runs(app, api, slots, alice, monkeypatch):
    monkeypatch.setitem(app.extensions, "idempotency_store",
                        RedisIdempotencyStore(Redis(port=1, socket_connect_timeout=1)))
    answer = _book(api, alice, {"slot_id": slots[0].id})
    body = error_of(answer, 503, "service_unavailable")
    assert int(answer.headers["Retry-After"]) > 0 and "without the key" in body["message"]
    assert active_appointments(app, slots[0].id) == []
    assert _book(api, alice, {"slot_id": slots[0].id}, key=None).status_code == 201


@pytest.mark.parametrize("path", ["/holds", "/appointments"])
def test_the_openapi_document_describes_the_header_and_its_answers(api, path):
    operation = envelope_free(api.get("/openapi.json"))["paths"][f"/api/v1{path}"]["post"]
    (parameter,) = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
    assert parameter["in"] == "header" and parameter["schema"]["maxLength"] == 255
    for words in ("idempotency_mismatch", "request_in_progress", "Idempotent-Replayed", "24 hours"):
        assert words in parameter["description"]
    assert {"409", "422", "503"} <= set(operation["responses"])


def envelope_free(response) -> dict:
    assert response.status_code == 200
    return response.get_json()


def _post_later(url: str, caller, body: dict, key: str = KEY):
    return lambda: requests.post(url, json=body, timeout=60,
                                 headers={"Authorization": f"Bearer {caller.token}", "Idempotency-Key": key})


def _wait_for_claim(app, caller) -> None:
    """Until the first request has claimed its key (it then waits for the slot lock the test holds)."""
    redis = app.extensions["redis"]
    deadline = time.monotonic() + 30
    while not redis.keys(f"idempotency:{caller.user_id}:*"):
        assert time.monotonic() < deadline, "the first request never claimed its key"
        time.sleep(0.02)


def test_a_repeat_while_the_first_still_runs_is_409_request_in_progress(app, server, slots, alice):
    """The first booking is held inside the database (the test locks its slot row), so the repeat surely
    arrives while it runs; once the lock goes the first books, and a third request gets its answer."""
    url, body = f"{server}/appointments", {"slot_id": slots[0].id}
    first: list = []
    with db.engine.connect() as blocker:
        blocker.execute(text("SELECT id FROM slots WHERE id = :id FOR UPDATE"), {"id": slots[0].id})
        running = threading.Thread(target=lambda: first.append(_post_later(url, alice, body)()))
        running.start()
        _wait_for_claim(app, alice)
        meanwhile = requests.post(url, json=body, timeout=60,
                                  headers={"Authorization": f"Bearer {alice.token}", "Idempotency-Key": KEY})
        blocker.rollback()
    running.join(60)
    assert meanwhile.status_code == 409 and meanwhile.json()["error"]["code"] == "request_in_progress"
    assert "retry" in meanwhile.json()["message"].lower()
    (answer,) = first
    assert answer.status_code == 201
    later = _post_later(url, alice, body)()
    assert later.status_code == 201 and later.json() == answer.json() and later.headers["Idempotent-Replayed"]


@pytest.mark.laptop
def test_eight_identical_requests_at_once_book_once(app, server, slots, alice):
    answers = together([_post_later(f"{server}/appointments", alice, {"slot_id": slots[1].id})] * 8)
    created = [a.json() for a in answers if a.status_code == 201]
    assert created and all(body == created[0] for body in created)
    assert all(a.json()["error"]["code"] == "request_in_progress" for a in answers if a.status_code != 201)
    assert [a.id for a in active_appointments(app, slots[1].id)] == [created[0]["data"]["id"]]
