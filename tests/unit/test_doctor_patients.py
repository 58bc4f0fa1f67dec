"""Each doctor's list of patients (doctor_patients), kept by the database's triggers: after every kind of
write it is exactly what appointments, assignments and patients say, on both databases, and two writers at
once cannot leave it stale."""
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from portal.extensions import db
from portal.models import Appointment, AppointmentStatus, Assignment, DoctorPatient, Patient
from portal.services.records import assignments, patients
from tests.fixtures import clinic


def _expected() -> dict[tuple[int, int], tuple[bool, bool]]:
    """Each (doctor, patient) pair's reasons as the source tables say them."""
    db.session.expire_all()
    assigned = set(db.session.execute(select(Assignment.doctor_id, Assignment.patient_id)
                                      .where(Assignment.ended_at.is_(None))).tuples())
    booked = set(db.session.execute(select(Appointment.doctor_id, Appointment.patient_id)).tuples())
    return {pair: (pair in assigned, pair in booked) for pair in assigned | booked}


def _agrees() -> set[tuple[int, int]]:
    """Check the lists against the source tables; the listed (doctor, patient) pairs."""
    rows = {(row.doctor_id, row.patient_id): row for row in db.session.scalars(select(DoctorPatient))}
    reasons = {pair: (row.assigned, row.booked) for pair, row in rows.items() if row.assigned or row.booked}
    assert reasons == _expected()
    for (_, patient_id), row in rows.items():
        patient = db.session.get(Patient, patient_id)
        assert (row.full_name, row.search_text, row.archived_at) == (
            patient.full_name, patient.search_text, patient.archived_at)
    return {pair for pair, row in rows.items() if row.archived_at is None and (row.assigned or row.booked)}


def _found(actor, q: str) -> list[str]:
    return [row.full_name for row in patients.list_patients(actor, q=q).items]


@pytest.mark.laptop  # SQLite keeps the lists by triggers of its own
def test_a_doctors_list_follows_every_write_it_is_read_from(ctx, factories):
    doctor, colleague, admin = (factories.user(role=role) for role in ("doctor", "doctor", "admin"))
    as_admin, as_doctor = clinic.actor(admin.id), clinic.actor(doctor.id)
    ann, bob = clinic.patient(full_name="Ann Albers").id, clinic.patient(full_name="Bob Brandt").id
    assert _agrees() == set()

    ann_assigned = assignments.create_assignment(as_admin, ann, doctor.doctor_id)
    assert _agrees() == {(doctor.doctor_id, ann)}
    clinic.appointment(bob, clinic.slot(doctor.doctor_id))
    clinic.appointment(bob, clinic.slot(colleague.doctor_id), status=AppointmentStatus.CANCELLED.value)
    assert _agrees() == {(doctor.doctor_id, ann), (doctor.doctor_id, bob), (colleague.doctor_id, bob)}
    assert _found(as_doctor, "albers") == ["Ann Albers"] and _found(as_doctor, "brandt") == ["Bob Brandt"]

    assignments.end_assignment(as_admin, ann_assigned.id)
    assert _agrees() == {(doctor.doctor_id, bob), (colleague.doctor_id, bob)}
    assert _found(as_doctor, "albers") == []

    bob_assigned = assignments.create_assignment(as_admin, bob, doctor.doctor_id)
    assignments.end_assignment(as_admin, bob_assigned.id)  # still booked with them: still theirs
    assert _agrees() == {(doctor.doctor_id, bob), (colleague.doctor_id, bob)}

    patients.update_patient(as_admin, bob, full_name="Bob Zoë Ziegler")
    assert _agrees() == {(doctor.doctor_id, bob), (colleague.doctor_id, bob)}
    assert _found(as_doctor, "zoe") == ["Bob Zoë Ziegler"] and _found(as_doctor, "brandt") == []

    patients.archive_patient(as_admin, bob)
    assert _agrees() == set()
    assert _found(as_doctor, "ziegler") == []


@pytest.mark.laptop
def test_rows_written_past_the_services_are_listed_too(ctx, factories):
    """The triggers, not the services, keep the lists: a row written straight to a table counts the same."""
    doctor = factories.user(role="doctor")
    ann = clinic.patient(full_name="Ann").id
    db.session.add(Assignment(patient_id=ann, doctor_id=doctor.doctor_id))
    db.session.commit()
    assert _agrees() == {(doctor.doctor_id, ann)}
    db.session.execute(text("UPDATE assignments SET ended_at = :now"), {"now": datetime.now(UTC)})
    db.session.commit()
    assert _agrees() == set()
    db.session.execute(text("UPDATE assignments SET ended_at = NULL"))
    db.session.execute(text("UPDATE patients SET full_name = 'Ann Again', search_text = 'ann again'"))
    db.session.commit()
    assert _agrees() == {(doctor.doctor_id, ann)}
    db.session.execute(text("DELETE FROM assignments"))
    db.session.commit()
    assert _agrees() == set()


def _in_thread(app, statement) -> threading.Thread:
    """Run the statement in a transaction of its own connection and commit, in a thread: it may wait on a lock
    the test's own transaction holds."""
    def run() -> None:
        with app.app_context(), db.engine.begin() as connection:
            connection.execute(statement)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _waits(thread: threading.Thread) -> None:
    thread.join(0.5)
    assert thread.is_alive(), "the second writer should wait on the first one's row lock"


def _booking(slot, patient_id: int):
    return Appointment.__table__.insert().values(
        slot_id=slot.id, patient_id=patient_id, doctor_id=slot.doctor_id, starts_at=slot.starts_at,
        ends_at=slot.ends_at, status=AppointmentStatus.SCHEDULED.value)


def test_an_assignment_ended_while_the_patient_books_leaves_them_listed(ctx, factories):
    """The booking's trigger locks the list's row; the ending's waits and then sets only `assigned`, so the
    booking it could not see is not undone."""
    doctor = factories.user(role="doctor")
    ann = clinic.patient(full_name="Ann").id
    assignment = assignments.create_assignment(clinic.actor(factories.user(role="admin").id), ann, doctor.doctor_id)
    slot = clinic.slot(doctor.doctor_id)
    with db.engine.begin() as booking:
        booking.execute(_booking(slot, ann))
        ending = _in_thread(ctx, Assignment.__table__.update().where(Assignment.id == assignment.id).values(
            ended_at=datetime.now(UTC)))
        _waits(ending)
    ending.join(10)
    assert _agrees() == {(doctor.doctor_id, ann)}
    assert db.session.get(DoctorPatient, (doctor.doctor_id, ann)).assigned is False


def test_a_rename_in_flight_reaches_the_list_a_patient_joins_meanwhile(ctx, factories):
    """The booking's trigger reads the patient's name under FOR SHARE: it waits for the rename and copies the
    new name, where a plain read would have copied the old one after the rename had updated the rows it saw."""
    doctor = factories.user(role="doctor")
    ann = clinic.patient(full_name="Ann Old").id
    slot = clinic.slot(doctor.doctor_id)
    with db.engine.begin() as renaming:
        renaming.execute(text("UPDATE patients SET full_name = 'Ann New', search_text = 'ann new' WHERE id = :id"),
                         {"id": ann})
        booking = _in_thread(ctx, _booking(slot, ann))
        _waits(booking)
    booking.join(10)
    assert _agrees() == {(doctor.doctor_id, ann)}
    assert db.session.get(DoctorPatient, (doctor.doctor_id, ann)).full_name == "Ann New"


def test_a_booking_leaves_the_row_of_a_patient_the_doctor_lists_as_it_was(ctx, factories):
    """PostgreSQL: a reason the row already holds is not written again (migration 0015); the row is neither
    rewritten nor locked (its xmax: a row lock writes it). A new reason still is."""
    doctor = factories.user(role="doctor")
    ann = clinic.patient(full_name="Ann").id

    def row_state() -> tuple[str, str, bool, bool]:
        return tuple(db.session.execute(text(
            "SELECT xmin::text, xmax::text, assigned, booked FROM doctor_patients "
            "WHERE doctor_id = :doctor AND patient_id = :patient"), {"doctor": doctor.doctor_id, "patient": ann}).one())

    clinic.appointment(ann, clinic.slot(doctor.doctor_id, clinic.soon(24)))
    first = row_state()
    clinic.appointment(ann, clinic.slot(doctor.doctor_id, clinic.soon(48)))
    assert row_state() == first and first[2:] == (False, True)
    assignments.create_assignment(clinic.actor(factories.user(role="admin").id), ann, doctor.doctor_id)
    assert row_state()[2:] == (True, True) and row_state()[:2] != first[:2]
    assert _agrees() == {(doctor.doctor_id, ann)}
