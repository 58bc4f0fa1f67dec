"""The portal's appointment lists and questions: upcoming (active statuses), history (past or cancelled),
whether an appointment can still change, and the appointment behind a booked slot."""
from datetime import timedelta

import pytest

from portal.models import ACTIVE_STATUSES
from portal.services.errors import Invalid, NotFound
from portal.services.scheduling import appointment_reads, appointments
from tests.fixtures import clinic


@pytest.fixture
def doctor(ctx):
    return clinic.doctor(full_name="Dr Greta Lind")


def patient():
    return clinic.actor(clinic.patient_account().id)


def ids(page):
    return [appointment.id for appointment in page.items]


def test_statuses_keep_any_of_several_and_status_alone_works_as_before(doctor):
    alice = patient()
    pid = alice.user.patient.id
    booked = clinic.appointment(pid, clinic.slot(doctor.id, clinic.soon(30)))
    moved = clinic.appointment(pid, clinic.slot(doctor.id, clinic.soon(40)), status="rescheduled")
    cancelled = clinic.appointment(pid, clinic.slot(doctor.id, clinic.soon(50)), status="cancelled")
    assert ids(appointment_reads.list_appointments(alice, statuses=ACTIVE_STATUSES)) == [booked.id, moved.id]
    assert ids(appointment_reads.list_appointments(alice, statuses=("cancelled",))) == [cancelled.id]
    assert ids(appointment_reads.list_appointments(alice, status="rescheduled")) == [moved.id]
    assert ids(appointment_reads.list_appointments(alice, status="")) == [booked.id, moved.id, cancelled.id]
    with pytest.raises(Invalid) as caught:
        appointment_reads.list_appointments(alice, statuses=("scheduled", "pending"))
    assert "status" in caught.value.fields


def test_history_holds_what_has_begun_and_every_cancelled_one_latest_first(doctor):
    alice = patient()
    pid = alice.user.patient.id
    ahead = clinic.appointment(pid, clinic.slot(doctor.id, clinic.soon(30)))
    called_off = clinic.appointment(pid, clinic.slot(doctor.id, clinic.soon(60)), status="cancelled")
    done = clinic.appointment(pid, clinic.slot(doctor.id, clinic.soon(-48)), status="completed")
    unclosed = clinic.appointment(pid, clinic.slot(doctor.id, clinic.soon(-24)))
    theirs = clinic.appointment(clinic.patient().id, clinic.slot(doctor.id, clinic.soon(-72)), status="completed")
    assert ids(appointment_reads.history(alice)) == [called_off.id, unclosed.id, done.id]
    seen = ids(appointment_reads.history(alice))
    assert ahead.id not in seen and theirs.id not in seen
    page = appointment_reads.history(alice, per_page=2, page=2)
    assert ids(page) == [done.id] and page.total == 3


def test_only_an_active_appointment_ahead_may_still_change(doctor):
    pid = clinic.patient().id
    ahead = clinic.appointment(pid, clinic.slot(doctor.id, clinic.soon(30)))
    assert appointments.change_refusal(ahead) is None
    cases = {"cancelled": (clinic.soon(40), "already_cancelled"), "completed": (clinic.soon(-5), "appointment_closed"),
             "scheduled": (clinic.soon(-0.2), "already_started")}
    for status, (starts_at, code) in cases.items():
        appointment = clinic.appointment(pid, clinic.slot(doctor.id, starts_at), status=status)
        assert appointments.change_refusal(appointment).code == code


def test_the_live_appointment_of_a_booked_slot_is_found_for_those_who_may_see_it(doctor, factories):
    made = factories.user(role="doctor")
    me = clinic.actor(made.id)
    slot = clinic.slot(made.doctor_id, clinic.soon(30))
    clinic.appointment(clinic.patient().id, slot, status="cancelled")
    with pytest.raises(NotFound):
        appointment_reads.booked_in_slot(me, slot.id)  # only a cancelled one: the slot is free
    live = clinic.appointment(clinic.patient().id, slot)
    assert appointment_reads.booked_in_slot(me, slot.id).id == live.id
    with pytest.raises(NotFound):
        appointment_reads.booked_in_slot(clinic.actor(factories.user(role="doctor").id), slot.id)
    other = clinic.appointment(clinic.patient().id, clinic.slot(doctor.id, clinic.soon(30) + timedelta(hours=1)))
    with pytest.raises(NotFound):
        appointment_reads.booked_in_slot(me, other.slot_id)
