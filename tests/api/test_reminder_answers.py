"""POST /appointments/{id}/confirm and /cancel: the answers to a reminder, signed in or with the mail link's token."""
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from portal.extensions import db
from portal.models import Appointment, AuditEvent
from portal.services.scheduling import reminder_links
from tests.api.clinic_api import patients
from tests.fixtures import clinic
from tests.fixtures.api_client import envelope, error_of

pytestmark = pytest.mark.laptop  # runs on SQLite with the in-process stores too


@pytest.fixture
def appointment(api, slots, alice) -> int:
    return envelope(api.post("/appointments", json={"slot_id": slots[0].id}, token=alice.token))["data"]["id"]


def link_token(app, appointment_id: int, action: str) -> str:
    """The token a reminder mail sent now would carry (the last path segment of its link)."""
    with app.app_context():
        token = reminder_links.token(db.session.get(Appointment, appointment_id), action)
        db.session.remove()
    return token


def stored(app, appointment_id: int) -> Appointment:
    with app.app_context():
        row = db.session.get(Appointment, appointment_id)
        db.session.expunge(row)
        db.session.remove()
    return row


def test_the_patient_confirms_signed_in_and_again_keeps_the_first_time(app, api, alice, appointment):
    shown = envelope(api.get(f"/appointments/{appointment}", token=alice.token))["data"]
    assert shown["confirmed_at"] is None
    first = envelope(api.post(f"/appointments/{appointment}/confirm", token=alice.token))
    assert first["status"] == "updated" and first["data"]["confirmed_at"]
    again = envelope(api.post(f"/appointments/{appointment}/confirm", token=alice.token))
    assert again["data"]["confirmed_at"] == first["data"]["confirmed_at"]
    assert envelope(api.get(f"/appointments/{appointment}", token=alice.token))["data"]["confirmed_at"] == \
        first["data"]["confirmed_at"]


def test_the_link_token_confirms_without_signing_in_as_the_patient(app, api, alice, appointment):
    response = api.post(f"/appointments/{appointment}/confirm?token={link_token(app, appointment, 'confirm')}")
    body = envelope(response)
    assert response.status_code == 200 and body["data"]["confirmed_at"] and body["data"]["status"] == "scheduled"
    assert response.headers["Cache-Control"] == "no-store"
    with app.app_context():
        rows = db.session.scalars(db.select(AuditEvent).where(AuditEvent.object_id == appointment,
                                                              AuditEvent.action == "update")).all()
        assert [(row.actor_id, row.patient_id) for row in rows] == [(alice.user_id, alice.patient_id)]


def test_the_link_token_cancels_like_delete(app, api, doctor, slots, appointment):
    response = api.post(f"/appointments/{appointment}/cancel?token={link_token(app, appointment, 'cancel')}")
    body = envelope(response)
    assert (response.status_code, body["status"], body["data"]["status"]) == (200, "deleted", "cancelled")
    free = envelope(api.get(f"/doctors/{doctor.doctor_id}/slots?status=free"))["data"]
    assert slots[0].id in [s["id"] for s in free]
    again = api.post(f"/appointments/{appointment}/cancel?token={link_token(app, appointment, 'cancel')}")
    error_of(again, 409, "already_cancelled")
    error_of(api.post(f"/appointments/{appointment}/confirm?token={link_token(app, appointment, 'confirm')}"),
             409, "already_cancelled")


def test_the_patient_cancels_signed_in(api, alice, appointment):
    body = envelope(api.post(f"/appointments/{appointment}/cancel", token=alice.token))
    assert (body["status"], body["data"]["status"]) == ("deleted", "cancelled")


def test_a_patient_without_an_account_answers_by_link(app, api, ctx, doctor, slots):
    with app.app_context():
        walk_in = clinic.patient(full_name="Walk In", email="walkin@example.org")
        appointment_id = clinic.appointment(walk_in.id, slots[1]).id
    confirm_token = link_token(app, appointment_id, "confirm")
    body = envelope(api.post(f"/appointments/{appointment_id}/confirm?token={confirm_token}"))
    assert body["data"]["confirmed_at"] and body["data"]["patient"]["full_name"] == "Walk In"
    cancelled = envelope(api.post(f"/appointments/{appointment_id}/cancel?token="
                                  f"{link_token(app, appointment_id, 'cancel')}"))
    assert cancelled["data"]["status"] == "cancelled"


def test_without_sign_in_or_with_a_bad_token_it_is_401(app, api, appointment):
    for action in ("confirm", "cancel"):
        error_of(api.post(f"/appointments/{appointment}/{action}"), 401, "unauthenticated")
        for bad in ("", "nonsense", link_token(app, appointment, action)[:-2] + "xx"):
            error_of(api.post(f"/appointments/{appointment}/{action}?token={bad}"), 401, "unauthenticated")
    # each action's token is good for that action only: a cancel link cannot confirm, nor the reverse
    error_of(api.post(f"/appointments/{appointment}/confirm?token={link_token(app, appointment, 'cancel')}"),
             401, "unauthenticated")
    error_of(api.post(f"/appointments/{appointment}/cancel?token={link_token(app, appointment, 'confirm')}"),
             401, "unauthenticated")
    assert stored(app, appointment).status == "scheduled" and stored(app, appointment).confirmed_at is None


def test_a_token_decides_alone_even_beside_a_valid_sign_in(app, api, alice, appointment):
    error_of(api.post(f"/appointments/{appointment}/confirm?token=nonsense", token=alice.token), 401,
             "unauthenticated")


def test_another_appointments_token_is_404(app, api, slots, alice, appointment):
    bob = patients(app, 1)[0]
    bobs = envelope(api.post("/appointments", json={"slot_id": slots[1].id}, token=bob.token))["data"]["id"]
    for action in ("confirm", "cancel"):
        error_of(api.post(f"/appointments/{bobs}/{action}?token={link_token(app, appointment, action)}"),
                 404, "not_found")
        error_of(api.post(f"/appointments/{bobs}/{action}", token=alice.token), 404, "not_found")
    assert stored(app, bobs).status == "scheduled" and stored(app, bobs).confirmed_at is None


def test_staff_do_not_answer_for_the_patient(api, doctor, admin, appointment):
    for caller in (doctor, admin):
        for action in ("confirm", "cancel"):
            error_of(api.post(f"/appointments/{appointment}/{action}", token=caller.token), 403, "forbidden")


def test_a_token_stops_working_at_the_start(app, api, ctx, doctor, alice):
    started = clinic.appointment(alice.patient_id, clinic.slot(doctor.doctor_id, clinic.soon(-1))).id
    for action in ("confirm", "cancel"):
        error_of(api.post(f"/appointments/{started}/{action}?token={link_token(app, started, action)}"),
                 401, "token_expired")
        error_of(api.post(f"/appointments/{started}/{action}", token=alice.token), 409, "already_started")
    assert stored(app, started).status == "scheduled" and stored(app, started).confirmed_at is None


def test_a_moved_appointments_old_token_is_refused_and_the_new_one_works(app, api, slots, alice, appointment):
    old = {action: link_token(app, appointment, action) for action in ("confirm", "cancel")}
    envelope(api.patch(f"/appointments/{appointment}", json={"slot_id": slots[2].id}, token=alice.token))
    for action, token in old.items():
        body = error_of(api.post(f"/appointments/{appointment}/{action}?token={token}"), 401, "token_expired")
        assert "moved" in body["message"]
    body = envelope(api.post(f"/appointments/{appointment}/confirm?token={link_token(app, appointment, 'confirm')}"))
    assert body["data"]["confirmed_at"] and body["data"]["slot_id"] == slots[2].id


def test_the_openapi_document_offers_the_link_token_instead_of_a_sign_in(api):
    document = api.get("/openapi.json").get_json()
    assert document["components"]["securitySchemes"]["reminderLinkToken"] == {
        "type": "apiKey", "in": "query", "name": "token",
        "description": document["components"]["securitySchemes"]["reminderLinkToken"]["description"]}
    for action, operation_id in (("confirm", "confirmAppointment"), ("cancel", "cancelAppointmentFromReminder")):
        operation = document["paths"][f"/api/v1/appointments/{{appointment_id}}/{action}"]["post"]
        assert operation["operationId"] == operation_id
        assert operation["security"][0] == {"reminderLinkToken": []}
        assert {"401", "403", "404", "409"} <= set(operation["responses"])
    schema = document["components"]["schemas"]["Appointment"]
    assert "confirmed_at" in schema["properties"] and "confirmed_at" in schema["required"]


def test_the_reminder_mail_link_token_confirms_through_the_api(app, api, slots, alice, mailbox):
    """What a client does with the mail: take the last path segment of the "I'll come" link as `?token=`."""
    booked = envelope(api.post("/appointments", json={"slot_id": slots[0].id}, token=alice.token))["data"]
    mailbox.wait_for(1)  # the booking mail
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=6, minutes=1)):  # the day-ahead lead is due
        reminder = next(m for m in mailbox.wait_for(2) if "reminder" in m["Subject"])
    link = re.search(r"^I'll come: (\S+)", mailbox.body(reminder), re.M).group(1)
    assert link.startswith(app.config["PUBLIC_BASE_URL"])
    body = envelope(api.post(f"/appointments/{booked['id']}/confirm?token={link.rsplit('/', 1)[1]}"))
    assert body["data"]["confirmed_at"]


def test_a_link_answer_carries_no_health_information(app, api, slots, alice):
    """The mail leaves out reason and speciality; whoever holds its link must not read them from the answer."""
    booked = envelope(api.post("/appointments", json={"slot_id": slots[1].id, "reason": "chest pain"},
                               token=alice.token))["data"]
    assert booked["reason"] == "chest pain" and booked["doctor"]["speciality"]
    for action, status in (("confirm", "updated"), ("cancel", "deleted")):
        response = api.post(f"/appointments/{booked['id']}/{action}?token={link_token(app, booked['id'], action)}")
        body = envelope(response)
        assert (response.status_code, body["status"]) == (200, status)
        assert "reason" not in body["data"] and "speciality" not in body["data"]["doctor"]
        assert body["data"]["id"] == booked["id"] and body["data"]["doctor"]["full_name"]
        assert response.headers["Cache-Control"] == "no-store"
    assert "chest pain" not in response.get_data(as_text=True)
    signed_in = envelope(api.get(f"/appointments/{booked['id']}", token=alice.token))["data"]
    assert signed_in["reason"] == "chest pain" and signed_in["status"] == "cancelled"
    assert signed_in["confirmed_at"]
