"""/appointments: booking from a hold or a slot, and reading them (each their own, admins all, .ics too)."""

import pytest
from icalendar import Calendar
from redis import Redis
from sqlalchemy import select

from portal.api.schemas.booking import AppointmentSchema
from portal.extensions import db
from portal.models import AuditEvent, Doctor, utcnow
from portal.services.persistence import on_postgresql
from portal.services.scheduling import appointment_reads
from portal.services.scheduling.hold_store import RedisHoldStore
from tests.api.clinic_api import active_appointments, caller, iso, patients, steady_query_count
from tests.api.records_api import audit_rows
from tests.fixtures import clinic
from tests.fixtures.api_client import envelope, error_of

pytestmark = pytest.mark.laptop  # runs on SQLite with the in-process stores too


@pytest.fixture
def doctor(app, factories):
    return caller(app, factories.user(role="doctor", full_name="Dr Ada Heart"))


def _hold(api, patient, slot) -> str:
    return envelope(api.post("/holds", json={"slot_id": slot.id}, token=patient.token))["data"]["hold_id"]


def test_a_patient_books_from_their_hold(api, doctor, slots, alice):
    hold_id = _hold(api, alice, slots[0])
    body = envelope(api.post("/appointments", json={"hold_id": hold_id, "reason": " Chest pain "}, token=alice.token))
    assert body["status"] == "created"
    data = body["data"]
    assert {key: data[key] for key in ("status", "starts_at", "ends_at", "duration", "reason", "slot_id",
                                       "rescheduled_from_slot_id", "cancelled_at")} == {
        "status": "scheduled", "starts_at": iso(slots[0].starts_at), "ends_at": iso(slots[0].ends_at),
        "duration": 30, "reason": "Chest pain", "slot_id": slots[0].id, "rescheduled_from_slot_id": None,
        "cancelled_at": None}
    assert data["patient"]["id"] == alice.patient_id and data["patient"]["full_name"]
    assert data["doctor"] == {"id": doctor.doctor_id, "full_name": "Dr Ada Heart", "speciality": "General practice"}
    assert data["created_at"].endswith("+00:00")
    error_of(api.delete(f"/holds/{hold_id}", token=alice.token), 404, "not_found")  # the hold is used up
    listed = envelope(api.get(f"/doctors/{doctor.doctor_id}/slots?status=booked"))["data"]
    assert [s["id"] for s in listed] == [slots[0].id]


def test_a_patient_books_a_free_slot_in_one_step(app, api, slots, alice):
    body = envelope(api.post("/appointments", json={"slot_id": slots[1].id}, token=alice.token))
    assert (body["data"]["status"], body["data"]["reason"]) == ("scheduled", None)
    assert [a.patient_id for a in active_appointments(app, slots[1].id)] == [alice.patient_id]


def test_the_booking_answer_is_the_appointment_as_read_back(api, doctor, slots, alice):
    """The answer is made of the rows the booking wrote and locked (no read after the commit): it must be
    exactly what a read of the appointment answers, from a hold and from a slot alike."""
    booked = [envelope(api.post("/appointments", json={"hold_id": _hold(api, alice, slots[0]), "reason": "Cough"},
                                token=alice.token))["data"],
              envelope(api.post("/appointments", json={"slot_id": slots[1].id}, token=alice.token))["data"]]
    for data in booked:
        assert envelope(api.get(f"/appointments/{data['id']}", token=alice.token))["data"] == data


def test_booking_from_a_hold_costs_two_statements_on_postgresql_and_five_on_sqlite(app, api, doctor, slots, alice):
    """One statement locks the slot, then the patient (and draws the appointment's id on PostgreSQL); one asks what
    must be asked after both locks (booked? overlap? offered from the waitlist?) and writes the appointment with its
    audit row and its jobs (mail, reminders) when the answers allow it. On SQLite, which has no data-modifying CTE,
    those are three, and one more writes the jobs. The caller is kept from the hold request
    (services/accounts/callers.py)."""
    hold_id = _hold(api, alice, slots[0])
    with app.app_context(), clinic.counted_queries() as statements:
        answer = api.post("/appointments", json={"hold_id": hold_id}, token=alice.token)
        postgresql = on_postgresql()
    assert answer.status_code == 201, answer.get_json()
    sent = [sql for sql in statements if sql.split()[0].upper() in {"SELECT", "INSERT", "UPDATE", "WITH"}]
    kinds = [sql.split()[0].upper() for sql in sent]
    if postgresql:
        assert kinds == ["SELECT", "WITH"], kinds
        assert sent[0].rstrip().endswith("FOR UPDATE OF slots FOR NO KEY UPDATE OF patients"), sent[0]
        assert "INSERT INTO appointments" in sent[1] and "INSERT INTO audit_events" in sent[1]
        assert "INSERT INTO jobs" in sent[1], "the booking's mail and reminders are written by its statement"
        assert "waitlist_offers" in sent[1], "the checks after the locks are part of the booking's statement"
    else:
        assert kinds == ["SELECT"] * 2 + ["INSERT"] * 3, kinds
    assert audit_rows(app, action="create", object_type="appointment") == [
        (alice.user_id, "create", "appointment", answer.get_json()["data"]["id"], alice.patient_id)]


@pytest.mark.parametrize("body, status, code, field", [
    ({}, 400, "missing_field", "hold_id"),
    ({"reason": "x"}, 400, "missing_field", "hold_id"),
    ({"hold_id": "h", "slot_id": 1}, 422, "validation_error", "hold_id"),
    ({"slot_id": 1, "reason": "x" * 2001}, 422, "validation_error", "reason"),
    ({"slot_id": "one"}, 422, "validation_error", "slot_id"),
    ({"slot_id": 1, "when": "now"}, 422, "validation_error", "when"),
])
def test_bad_booking_bodies(api, alice, body, status, code, field):
    answer = error_of(api.post("/appointments", json=body, token=alice.token), status, code)
    assert field in answer["error"]["fields"]


@pytest.mark.production_only("reads the holds in Redis")
def test_an_unknown_or_expired_hold_is_409_hold_expired(app, api, slots, alice, clock):
    error_of(api.post("/appointments", json={"hold_id": "no-such-hold"}, token=alice.token), 409, "hold_expired")
    hold_id = _hold(api, alice, slots[0])
    clock.advance(app.config["HOLD_TTL_SECONDS"] + 1)
    error_of(api.post("/appointments", json={"hold_id": hold_id}, token=alice.token), 409, "hold_expired")
    assert active_appointments(app, slots[0].id) == []


def test_someone_elses_hold_is_403(app, api, slots, alice):
    bob = patients(app, 1)[0]
    hold_id = _hold(api, alice, slots[0])
    error_of(api.post("/appointments", json={"hold_id": hold_id}, token=bob.token), 403, "forbidden")


def test_booked_held_past_and_unknown_slots(app, api, ctx, doctor, slots, alice):
    bob = patients(app, 1)[0]
    assert api.post("/appointments", json={"slot_id": slots[0].id}, token=bob.token).status_code == 201
    body = error_of(api.post("/appointments", json={"slot_id": slots[0].id}, token=alice.token), 409, "slot_booked")
    assert body["message"] == "Slot is already booked."
    _hold(api, bob, slots[2])
    error_of(api.post("/appointments", json={"slot_id": slots[2].id}, token=alice.token), 409, "slot_held")
    past = clinic.slot(doctor.doctor_id, clinic.soon(-2))
    error_of(api.post("/appointments", json={"slot_id": past.id}, token=alice.token), 422, "validation_error")
    error_of(api.post("/appointments", json={"slot_id": 999}, token=alice.token), 404, "not_found")


def test_a_patient_cannot_be_in_two_places_at_once(api, ctx, slots, alice):
    elsewhere = clinic.slot(clinic.doctor().id, slots[0].starts_at)
    assert api.post("/appointments", json={"slot_id": slots[0].id}, token=alice.token).status_code == 201
    error_of(api.post("/appointments", json={"slot_id": elsewhere.id}, token=alice.token), 409,
             "appointment_overlap")


def test_only_patients_book(app, api, factories, doctor, slots):
    admin = caller(app, factories.user(role="admin"))
    for token in (doctor.token, admin.token):
        error_of(api.post("/appointments", json={"slot_id": slots[0].id}, token=token), 403, "forbidden")
    error_of(api.post("/appointments", json={"slot_id": slots[0].id}), 401, "unauthenticated")


def test_without_redis_booking_by_slot_still_works_and_by_hold_is_503(app, api, slots, alice):
    hold_id = _hold(api, alice, slots[0])
    saved = app.extensions["hold_store"]
    app.extensions["hold_store"] = RedisHoldStore(Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1))
    try:
        error_of(api.post("/appointments", json={"hold_id": hold_id}, token=alice.token), 503, "holds_unavailable")
        body = envelope(api.post("/appointments", json={"slot_id": slots[1].id}, token=alice.token))
        assert body["data"]["status"] == "scheduled"
    finally:
        app.extensions["hold_store"] = saved


@pytest.fixture
def booked(app, api, ctx, doctor, slots, alice):
    """Three appointments: two of alice's (one cancelled) with the doctor, one of bob's elsewhere."""
    bob = patients(app, 1)[0]
    first = envelope(api.post("/appointments", json={"slot_id": slots[0].id}, token=alice.token))["data"]
    second = envelope(api.post("/appointments", json={"slot_id": slots[2].id}, token=alice.token))["data"]
    assert api.delete(f"/appointments/{second['id']}", token=alice.token).status_code == 200
    other = clinic.slot(clinic.doctor().id, clinic.soon(24 * 20))
    third = envelope(api.post("/appointments", json={"slot_id": other.id}, token=bob.token))["data"]
    return first["id"], second["id"], third["id"], bob


def test_each_sees_their_own_appointments_and_admins_all(app, api, factories, doctor, alice, booked):
    first, second, third, bob = booked
    admin = caller(app, factories.user(role="admin"))

    def ids(token, query=""):
        return [a["id"] for a in envelope(api.get(f"/appointments?{query}", token=token))["data"]]

    assert ids(alice.token) == [first, second]
    assert ids(bob.token) == [third]
    assert ids(doctor.token) == [first, second]
    assert ids(admin.token) == [first, second, third]
    assert ids(alice.token, "status=cancelled") == [second]
    assert ids(admin.token, "from=" + clinic.soon(24 * 10).date().isoformat()) == [third]
    assert ids(admin.token, "to=" + clinic.soon(24 * 10).date().isoformat()) == [first, second]
    body = envelope(api.get("/appointments?per_page=1&page=2", token=admin.token))
    assert body["meta"] == {"page": 2, "per_page": 1, "total": 3} and [a["id"] for a in body["data"]] == [second]
    error_of(api.get("/appointments"), 401, "unauthenticated")


def test_a_doctor_whose_profile_is_archived_lists_none(app, api, doctor, alice, booked):
    """A doctor's list is that of their live profile, found inside the statement built once for doctors."""
    first, second, _, _ = booked
    assert [a["id"] for a in envelope(api.get("/appointments", token=doctor.token))["data"]] == [first, second]
    with app.app_context():
        db.session.get(Doctor, doctor.doctor_id).archived_at = utcnow()
        db.session.commit()
        db.session.remove()
    body = envelope(api.get("/appointments", token=doctor.token))
    assert body["data"] == [] and body["meta"]["total"] == 0
    assert [a["id"] for a in envelope(api.get("/appointments", token=alice.token))["data"]] == [first, second]


def test_the_list_answers_as_marshmallow_dumps_the_loaded_appointments(app, api, factories, doctor, slots, alice,
                                                                      booked):
    """The list reads plain rows, not ORM objects: its answer is still field for field the schema's dump of
    the appointments (a field added to AppointmentSchema but not to the row fails here)."""
    first, _, _, bob = booked
    admin = caller(app, factories.user(role="admin"))
    envelope(api.patch(f"/appointments/{first}", json={"slot_id": slots[3].id}, token=alice.token))
    envelope(api.post(f"/appointments/{first}/confirm", token=alice.token))
    envelope(api.post("/appointments", json={"slot_id": slots[1].id, "reason": "Knee"}, token=alice.token))
    for who in (alice, bob, doctor, admin):
        for query in ("", "status=cancelled", "per_page=1&page=2", "per_page=2&page=3", "page=9"):
            body = envelope(api.get(f"/appointments?{query}", token=who.token))
            args = dict(pair.split("=") for pair in query.split("&") if pair)
            with app.app_context():
                page = appointment_reads.list_appointments(clinic.actor(who.user_id), status=args.get("status"),
                                                           page=int(args.get("page", 1)),
                                                           per_page=int(args.get("per_page", 20)))
                expected = AppointmentSchema(many=True).dump(page.items)
                db.session.remove()
            assert body["data"] == expected and body["meta"] == {
                "page": page.page, "per_page": page.per_page, "total": page.total}, (who, query)
    listed = envelope(api.get("/appointments", token=admin.token))["data"]  # every field has a value somewhere
    assert all(any(a[key] is not None for a in listed) for key in ("rescheduled_from_slot_id", "reason",
                                                                 "cancelled_at", "confirmed_at"))


@pytest.mark.production_only("query counts: the laptop harness commits the shared test session per request")
def test_a_patients_list_is_one_statement(app, api, alice, booked):
    """The page with its total, which writes its own audit rows (audit.ReadPages); the caller (with the
    patient's own id) is kept from the patient's previous request (services/accounts/callers.py), else read
    by one more statement."""
    assert steady_query_count(app, lambda: api.get("/appointments", token=alice.token)) == 1
    before = len(audit_rows(app))
    listed = envelope(api.get("/appointments?per_page=2", token=alice.token))["data"]
    assert len(listed) == 2  # one row each, in the list's order
    assert audit_rows(app)[before:] == [(alice.user_id, "read", "appointment", row["id"], row["patient"]["id"])
                                        for row in listed]


@pytest.mark.parametrize("query, field", [
    ("status=lost", "status"), ("per_page=101", "per_page"), ("from=someday", "from"),
    ("from=2030-01-05&to=2030-01-01", "to"), ("to=9999-12-31", "to"),
])
def test_bad_list_queries_are_422(api, alice, query, field):
    body = error_of(api.get(f"/appointments?{query}", token=alice.token), 422, "validation_error")
    assert field in body["error"]["fields"]


@pytest.mark.production_only("query counts: the laptop harness commits the shared test session per request")
def test_listing_runs_the_same_queries_for_2_or_20_appointments(app, api, factories, ctx):
    admin = caller(app, factories.user(role="admin"))
    few_doctor, many_doctor = clinic.doctor(), clinic.doctor()
    for doctor, count in ((few_doctor, 2), (many_doctor, 20)):
        for slot in clinic.future_slots(doctor.id, count, clinic.soon(24 * (3 if count == 2 else 30))):
            clinic.appointment(clinic.patient_account().patient.id, slot)
    few = steady_query_count(app, lambda: api.get("/appointments?to=" + clinic.soon(24 * 10).date().isoformat(),
                                                  token=admin.token))
    many = steady_query_count(app, lambda: api.get(
        "/appointments?per_page=50&from=" + clinic.soon(24 * 10).date().isoformat(), token=admin.token))
    assert len(envelope(api.get("/appointments?per_page=50", token=admin.token))["data"]) == 22
    assert few == many


def test_one_appointment_for_those_who_may_see_it_and_its_read_is_audited(app, api, factories, doctor, alice, booked):
    first, _, third, bob = booked
    body = envelope(api.get(f"/appointments/{first}", token=doctor.token))
    assert body["data"]["id"] == first and body["data"]["patient"]["id"] == alice.patient_id
    assert envelope(api.get(f"/appointments/{first}", token=alice.token))["data"]["status"] == "scheduled"
    for token, appointment_id in ((bob.token, first), (doctor.token, third), (alice.token, 999)):
        error_of(api.get(f"/appointments/{appointment_id}", token=token), 404, "not_found")
    error_of(api.get(f"/appointments/{first}"), 401, "unauthenticated")
    with app.app_context():
        reads = db.session.scalars(select(AuditEvent).where(AuditEvent.object_id == first,
                                                            AuditEvent.action == "read")).all()
        assert {event.actor_id for event in reads} >= {doctor.user_id, alice.user_id}


def test_an_appointment_as_a_calendar_file(api, doctor, alice, booked):
    first, _, third, bob = booked
    response = api.get(f"/appointments/{first}.ics", token=alice.token)
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    assert response.headers["Content-Disposition"] == f'attachment; filename="appointment-{first}.ics"'
    (event,) = Calendar.from_ical(response.data).walk("VEVENT")
    assert str(event["SUMMARY"]) == "Appointment with Dr Ada Heart" and str(event["STATUS"]) == "CONFIRMED"
    assert api.get(f"/appointments/{first}.ics", token=doctor.token).status_code == 200
    error_of(api.get(f"/appointments/{first}.ics", token=bob.token), 404, "not_found")
    error_of(api.get(f"/appointments/{first}.ics"), 401, "unauthenticated")
    error_of(api.get("/appointments/999.ics", token=alice.token), 404, "not_found")


def test_the_document_states_the_booking_choices(client):
    document = client.get("/api/v1/openapi.json").get_json()
    paths, schemas = document["paths"], document["components"]["schemas"]
    assert "text/calendar" in paths["/api/v1/appointments/{appointment_id}.ics"]["get"]["responses"]["200"]["content"]
    for path in ("/api/v1/holds", "/api/v1/appointments"):
        assert "holds_unavailable" in paths[path]["post"]["responses"]["503"]["description"]
    state = schemas["Slot"]["properties"]["status"]["$ref"].rsplit("/", 1)[1]  # a shared enum component
    assert schemas[state]["enum"] == ["free", "held", "booked", "past"]
    assert {"starts_at", "from_date", "to_date", "weekdays", "start_time", "end_time"} <= set(
        schemas["SlotCreation"]["properties"])
    assert "`deleted`" in next(tag["description"] for tag in document["tags"] if tag["name"] == "appointments")
    assert {"page", "per_page", "speciality", "department_id", "q", "available_from", "available_to"} == {
        p["name"] for p in paths["/api/v1/doctors"]["get"]["parameters"]}
