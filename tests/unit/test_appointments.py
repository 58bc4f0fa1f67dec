"""Booking and managing appointments through the services, on real PostgreSQL, Redis and SMTP."""
import threading
from datetime import timedelta

import pytest
from redis import Redis
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from portal.extensions import db
from portal.models import Appointment, AuditEvent, Patient, Slot
from portal.services.clinic_time import MissingField
from portal.services.errors import Conflict, Forbidden, Invalid, NotFound
from portal.services.persistence import commit_or_conflict
from portal.services.scheduling import appointment_reads, appointments, holds, slot_lists, slot_rules
from portal.services.scheduling.hold_store import RedisHoldStore
from tests.fixtures import clinic


@pytest.fixture
def doc(ctx, factories):
    """A doctor account (Actor) and its doctor id."""
    made = factories.user(role="doctor", full_name="Dr Greta Lind")
    return clinic.actor(made.id), made.doctor_id


def patient():
    return clinic.actor(clinic.patient_account().id)


def audits(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == action,
                                                               AuditEvent.object_type == "appointment")))


def test_booking_from_a_hold_makes_a_scheduled_appointment_and_ends_the_hold(doc):
    slot = clinic.slot(doc[1])
    alice = patient()
    hold = holds.place_hold(alice, slot.id)
    booked = appointments.book(alice, hold_id=hold.hold_id, reason="  cough  ")
    assert (booked.status, booked.slot_id, booked.starts_at, booked.ends_at, booked.reason) == (
        "scheduled", slot.id, slot.starts_at, slot.ends_at, "cough")
    assert booked.patient.user_id == alice.user.id and booked.doctor.full_name == "Dr Greta Lind"
    assert holds.get_hold(hold.hold_id) is None
    [event] = audits("create")
    assert (event.object_id, event.patient_id, event.actor_id, event.ip) == (
        booked.id, booked.patient_id, alice.user.id, "192.0.2.10")


def test_booking_by_slot_holds_and_books_in_one_step(doc):
    slot = clinic.slot(doc[1])
    booked = appointments.book(patient(), slot_id=slot.id)
    assert booked.slot_id == slot.id and holds.held_slot_ids([slot.id]) == set()


def test_an_expired_or_unknown_hold_cannot_be_booked(doc, ctx, clock):
    slot = clinic.slot(doc[1])
    alice = patient()
    hold = holds.place_hold(alice, slot.id)
    clock.advance(ctx.config["HOLD_TTL_SECONDS"] + 1)
    for hold_id in (hold.hold_id, "never-was"):
        with pytest.raises(Conflict) as caught:
            appointments.book(alice, hold_id=hold_id)
        assert caught.value.code == "hold_expired"
    assert db.session.scalar(db.select(db.func.count(Appointment.id))) == 0


def test_someone_elses_hold_is_forbidden(doc):
    slot = clinic.slot(doc[1])
    hold = holds.place_hold(patient(), slot.id)
    with pytest.raises(Forbidden):
        appointments.book(patient(), hold_id=hold.hold_id)


def test_booking_needs_exactly_one_of_hold_and_slot_and_a_patient(doc):
    slot = clinic.slot(doc[1])
    with pytest.raises(MissingField):
        appointments.book(patient())
    with pytest.raises(Invalid):
        appointments.book(patient(), hold_id="x", slot_id=slot.id)
    with pytest.raises(Invalid) as caught:
        appointments.book(patient(), slot_id=slot.id, reason="x" * 2001)
    assert "reason" in caught.value.fields
    with pytest.raises(Forbidden):
        appointments.book(doc[0], slot_id=slot.id)


def test_booked_past_held_and_unknown_slots_are_refused(doc):
    booked, held = clinic.future_slots(doc[1], 2)
    appointments.book(patient(), slot_id=booked.id)
    with pytest.raises(Conflict) as caught:
        appointments.book(patient(), slot_id=booked.id)
    assert caught.value.code == "slot_booked"
    holds.place_hold(patient(), held.id)
    with pytest.raises(Conflict) as caught:
        appointments.book(patient(), slot_id=held.id)
    assert caught.value.code == "slot_held"
    with pytest.raises(Invalid):
        appointments.book(patient(), slot_id=clinic.slot(doc[1], clinic.soon(-5)).id)
    with pytest.raises(NotFound):
        appointments.book(patient(), slot_id=999_999)


def test_a_patient_cannot_be_in_two_places_at_once(doc):
    other_doctor = clinic.doctor()
    first, second = clinic.slot(doc[1]), clinic.slot(other_doctor.id)
    alice = patient()
    appointments.book(alice, slot_id=first.id)
    with pytest.raises(Conflict) as caught:
        appointments.book(alice, slot_id=second.id)
    assert caught.value.code == "appointment_overlap"
    assert holds.held_slot_ids([second.id]) == set()


def test_constraint_violations_that_slip_past_the_checks_become_conflicts(doc):
    slot, parallel = clinic.slot(doc[1]), clinic.slot(clinic.doctor().id)
    first = clinic.appointment(clinic.patient().id, slot)
    db.session.add(Appointment(slot_id=slot.id, patient_id=clinic.patient().id, doctor_id=doc[1],
                               starts_at=slot.starts_at, ends_at=slot.ends_at))
    with pytest.raises(Conflict) as caught:
        commit_or_conflict(appointments.BOOKING_CONFLICTS)
    assert caught.value.code == "slot_booked"
    db.session.add(Appointment(slot_id=parallel.id, patient_id=first.patient_id, doctor_id=parallel.doctor_id,
                               starts_at=parallel.starts_at, ends_at=parallel.ends_at))
    with pytest.raises(Conflict) as caught:
        commit_or_conflict(appointments.BOOKING_CONFLICTS)
    assert caught.value.code == "appointment_overlap"


def _race_for_one_slot(app, slot_id):
    user_ids = [clinic.patient_account().id for _ in range(30)]
    results = clinic.race(app, [lambda uid=uid: appointments.book(clinic.actor(uid), slot_id=slot_id)
                                for uid in user_ids])
    made = db.session.scalar(db.select(db.func.count(Appointment.id)).where(Appointment.slot_id == slot_id))
    return results, made


def test_thirty_patients_booking_one_slot_get_one_appointment(app, doc):
    results, made = _race_for_one_slot(app, clinic.slot(doc[1]).id)
    assert made == 1 and sum(isinstance(r, Appointment) for r in results) == 1
    assert all(isinstance(r, Conflict) and r.code in ("slot_held", "slot_booked")
               for r in results if not isinstance(r, Appointment))


def test_without_redis_the_database_alone_allows_one_booking(app, doc, monkeypatch):
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    monkeypatch.setitem(app.extensions, "hold_store", RedisHoldStore(dead))
    results, made = _race_for_one_slot(app, clinic.slot(doc[1]).id)
    assert made == 1 and sum(isinstance(r, Appointment) for r in results) == 1
    assert all(isinstance(r, Conflict) and r.code == "slot_booked" for r in results if not isinstance(r, Appointment))


def test_each_role_lists_what_it_may_see_in_a_fixed_number_of_queries(doc, factories):
    alice, bob = patient(), patient()
    other = clinic.doctor()
    mine = [appointments.book(alice, slot_id=s.id).id for s in clinic.future_slots(doc[1], 3)]
    theirs = appointments.book(bob, slot_id=clinic.slot(other.id, clinic.soon(200)).id).id
    admin = clinic.actor(factories.user(role="admin").id)
    assert [a.id for a in appointment_reads.list_appointments(alice).items] == mine
    assert [a.id for a in appointment_reads.list_appointments(bob).items] == [theirs]
    assert [a.id for a in appointment_reads.list_appointments(doc[0]).items] == mine
    page = appointment_reads.list_appointments(admin, per_page=2, page=2)
    assert [a.id for a in page.items] == [mine[2], theirs] and page.total == 4
    with clinic.counted_queries() as few:
        assert len(appointment_reads.list_appointments(admin, per_page=1).items) == 1
    with clinic.counted_queries() as many:
        listed = appointment_reads.list_appointments(admin, per_page=100).items
        assert {a.doctor.full_name for a in listed} and {a.patient.full_name for a in listed}
        assert {a.slot.duration for a in listed} == {30}
    assert len(many) == len(few)
    assert len(audits("read")) == 3 + 1 + 3 + 2 + 1 + 4


def test_lists_filter_by_status_and_window(doc):
    alice = patient()
    early, late = clinic.slot(doc[1], clinic.soon(30)), clinic.slot(doc[1], clinic.soon(300))
    first = appointments.book(alice, slot_id=early.id)
    second = appointments.book(alice, slot_id=late.id)
    appointments.cancel(alice, second.id)
    assert [a.id for a in appointment_reads.list_appointments(alice, status="cancelled").items] == [second.id]
    window = appointment_reads.list_appointments(alice, end=(early.starts_at + timedelta(hours=1)).isoformat())
    assert [a.id for a in window.items] == [first.id]
    assert [a.id for a in appointment_reads.list_appointments(alice, newest_first=True).items] == [second.id, first.id]
    with pytest.raises(Invalid):
        appointment_reads.list_appointments(alice, status="pending")


def test_one_appointment_is_read_by_those_who_may_see_it(doc, factories):
    alice = patient()
    booked = appointments.book(alice, slot_id=clinic.slot(doc[1]).id)
    assert appointment_reads.get_appointment(alice, booked.id).slot.id == booked.slot_id
    assert appointment_reads.get_appointment(doc[0], booked.id).id == booked.id
    stranger_doctor = clinic.actor(factories.user(role="doctor").id)
    for stranger in (patient(), stranger_doctor):
        with pytest.raises(NotFound):
            appointment_reads.get_appointment(stranger, booked.id)
    assert len(audits("read")) == 2


def test_reschedule_moves_the_slot_and_frees_the_old_one(doc, factories):
    old, new = clinic.future_slots(doc[1], 2)
    alice = patient()
    booked = appointments.book(alice, slot_id=old.id)
    hold = holds.place_hold(alice, new.id)
    moved = appointments.reschedule(alice, booked.id, new.id)
    assert (moved.status, moved.slot_id, moved.rescheduled_from_slot_id) == ("rescheduled", new.id, old.id)
    assert (moved.starts_at, moved.ends_at) == (new.starts_at, new.ends_at)
    assert holds.get_hold(hold.hold_id) is None
    states = {v.slot.id: v.state for v in slot_lists.doctor_slots(doc[1])}
    assert states == {old.id: "free", new.id: "booked"}
    assert appointments.book(patient(), slot_id=old.id).slot_id == old.id
    admin = clinic.actor(factories.user(role="admin").id)
    back = clinic.slot(doc[1], clinic.soon(100))
    assert appointments.reschedule(admin, booked.id, back.id).rescheduled_from_slot_id == new.id
    assert appointments.reschedule(doc[0], booked.id, new.id).slot_id == new.id


def test_reschedule_refuses_what_cannot_be_booked(doc):
    current, booked, held, spare = clinic.future_slots(doc[1], 4)
    alice = patient()
    mine = appointments.book(alice, slot_id=current.id)
    appointments.book(patient(), slot_id=booked.id)
    holds.place_hold(patient(), held.id)
    elsewhere = clinic.slot(clinic.doctor().id, clinic.soon(500))
    for slot_id, expected in ((booked.id, "slot_booked"), (held.id, "slot_held")):
        with pytest.raises(Conflict) as caught:
            appointments.reschedule(alice, mine.id, slot_id)
        assert caught.value.code == expected
    for slot_id in (elsewhere.id, current.id, clinic.slot(doc[1], clinic.soon(-3)).id):
        with pytest.raises(Invalid):
            appointments.reschedule(alice, mine.id, slot_id)
    with pytest.raises(NotFound):
        appointments.reschedule(patient(), mine.id, spare.id)
    assert db.session.get(Appointment, mine.id).slot_id == current.id


def test_cancel_keeps_the_row_and_frees_the_slot_for_someone_else(doc):
    slot = clinic.slot(doc[1])
    alice = patient()
    booked = appointments.book(alice, slot_id=slot.id)
    cancelled = appointments.cancel(alice, booked.id)
    assert cancelled.status == "cancelled" and cancelled.cancelled_at is not None
    assert appointments.book(patient(), slot_id=slot.id).slot_id == slot.id
    assert db.session.get(Appointment, booked.id).status == "cancelled"
    with pytest.raises(Conflict) as caught:
        appointments.cancel(alice, booked.id)
    assert caught.value.code == "already_cancelled"


def test_a_started_appointment_cannot_be_cancelled_or_moved(doc):
    alice = patient()
    started = clinic.appointment(alice.user.patient.id, clinic.slot(doc[1], clinic.soon(-0.2)))
    for act in (lambda: appointments.cancel(alice, started.id),
                lambda: appointments.reschedule(alice, started.id, clinic.slot(doc[1], clinic.soon(50)).id)):
        with pytest.raises(Conflict) as caught:
            act()
        assert caught.value.code == "already_started"


def test_marking_is_for_the_doctor_after_the_start(doc, factories):
    alice = patient()
    upcoming = appointments.book(alice, slot_id=clinic.slot(doc[1]).id)
    with pytest.raises(Conflict) as caught:
        appointments.mark(doc[0], upcoming.id, "completed")
    assert caught.value.code == "not_started"
    past = clinic.appointment(alice.user.patient.id, clinic.slot(doc[1], clinic.soon(-2)))
    with pytest.raises(Forbidden):
        appointments.mark(alice, past.id, "completed")
    with pytest.raises(Invalid):
        appointments.mark(doc[0], past.id, "cancelled")
    with pytest.raises(NotFound):
        appointments.mark(clinic.actor(factories.user(role="doctor").id), past.id, "no_show")
    assert appointments.mark(doc[0], past.id, "no_show").status == "no_show"
    assert appointments.mark(doc[0], past.id, "completed").status == "completed"
    assert [e.object_id for e in audits("update")] == [past.id, past.id]


def test_confirmations_arrive_with_clinic_time(doc, ctx, mailbox):
    old, new = clinic.future_slots(doc[1], 2, start=clinic.soon(72))
    alice = patient()
    booked = appointments.book(alice, slot_id=old.id)
    appointments.reschedule(alice, booked.id, new.id)
    appointments.cancel(alice, booked.id)
    messages = mailbox.wait_for(3)
    assert [m["To"] for m in messages] == [alice.user.email] * 3
    assert ["booked" in messages[0]["Subject"], "moved" in messages[1]["Subject"],
            "cancelled" in messages[2]["Subject"]] == [True] * 3
    body = mailbox.body(messages[0])
    assert "Dr Greta Lind" in body and "(Europe/Berlin)" in body and "30 minutes" in body
    assert f"See or change your appointments at {ctx.config['PUBLIC_BASE_URL']}/dashboard" in body
    assert "it was" in mailbox.body(messages[1])


def test_a_mail_failure_does_not_undo_the_booking(doc, ctx, monkeypatch):
    monkeypatch.setitem(ctx.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(ctx.config, "MAIL_PORT", 1)
    booked = appointments.book(patient(), slot_id=clinic.slot(doc[1]).id)
    assert db.session.get(Appointment, booked.id).status == "scheduled"


def test_a_desk_booking_and_a_patients_own_booking_of_one_slot_race_and_one_wins(app, ctx, factories):
    """Desk booking goes through the same slot lock and constraint as a patient's booking."""
    from tests.fixtures.clinic import race

    doctor = factories.user("doctor")
    slot_id = clinic.slot(doctor.doctor_id, clinic.soon(30)).id
    from portal.models import Assignment

    online, on_the_phone = clinic.patient_account(), clinic.patient()
    online_id, phone_id = online.id, on_the_phone.id
    db.session.add(Assignment(patient_id=phone_id, doctor_id=doctor.doctor_id))  # a patient the doctor sees
    db.session.commit()
    results = race(app, [
        lambda: appointments.book(clinic.actor(online_id), slot_id=slot_id).id,
        lambda: appointments.book_for(clinic.actor(doctor.id), patient_id=phone_id, slot_id=slot_id).id,
    ] * 2)
    won = [result for result in results if isinstance(result, int)]
    lost = [result for result in results if not isinstance(result, int)]
    assert len(won) == 1 and len(lost) == 3
    assert all(getattr(error, "code", None) in ("slot_held", "slot_booked", "appointment_overlap")
               for error in lost), lost
    assert db.session.scalar(db.select(db.func.count(Appointment.id)).where(Appointment.slot_id == slot_id)) == 1


def test_a_bookings_locking_statement_takes_the_slot_before_the_patient(ctx, factories):
    """A booking locks its slot and its patient in one statement (slot_rules.locked_for_booking). The slot's lock
    must come first, as every writer takes the two (a reschedule: the slot, then the patient), or two writers could
    each hold what the other waits for. While another transaction holds the patient, the statement waits with the
    slot already locked, and goes on once the patient is let go."""
    doctor = factories.user(role="doctor")
    ann = clinic.patient(full_name="Ann").id
    slot_id = clinic.slot(doctor.doctor_id).id
    locked = []

    def book() -> None:
        with ctx.app_context():
            locked.append(slot_rules.locked_for_booking(slot_id, ann)[0].id)
            db.session.rollback()

    with db.engine.begin() as holder:
        holder.execute(select(Patient.id).where(Patient.id == ann).with_for_update(key_share=True))
        booking = threading.Thread(target=book)
        booking.start()
        booking.join(0.5)
        assert booking.is_alive(), "the booking should wait for the patient's row"
        with db.engine.connect() as other, pytest.raises(OperationalError, match="could not obtain lock"):
            other.execute(select(Slot.id).where(Slot.id == slot_id).with_for_update(nowait=True))
    booking.join(10)
    assert locked == [slot_id]
