"""The one gate: which patients, appointments and doctors each user sees, and the role checks of
services that do not belong to a patient (user management)."""
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Assignment, EmergencyAccess, Patient, User
from portal.services import policy
from portal.services.accounts import administration
from portal.services.errors import Forbidden, NotFound
from portal.services.persistence import on_postgresql
from tests.fixtures import clinic


def _user(made) -> User:
    return db.session.get(User, made.id)


def _visible_ids(user) -> set[int]:
    return set(db.session.scalars(policy.visible_patients(user).with_only_columns(Patient.id)))


@pytest.fixture
def people(ctx, factories):
    """A doctor, a colleague, an admin, two patient accounts and one profile without an account."""
    made = {name: factories.user(role=role) for name, role in
            (("doctor", "doctor"), ("colleague", "doctor"), ("admin", "admin"), ("ann", "patient"), ("bob", "patient"))}
    made["walk_in"] = clinic.patient(full_name="Walk In")
    return made


def test_a_doctor_sees_patients_they_created_are_assigned_to_or_treated_and_no_others(people):
    doctor = _user(people["doctor"])
    ann, bob, walk_in = people["ann"].patient_id, people["bob"].patient_id, people["walk_in"].id
    assert _visible_ids(doctor) == set()

    walk_in_row = db.session.get(Patient, walk_in)
    walk_in_row.created_by_id = doctor.id
    db.session.add(Assignment(patient_id=ann, doctor_id=people["doctor"].doctor_id))
    clinic.appointment(bob, clinic.slot(people["doctor"].doctor_id))
    assert _visible_ids(doctor) == {ann, bob, walk_in}
    assert _visible_ids(_user(people["colleague"])) == set()


def test_an_ended_assignment_no_longer_makes_a_patient_visible(people):
    ann = people["ann"].patient_id
    assignment = Assignment(patient_id=ann, doctor_id=people["doctor"].doctor_id)
    db.session.add(assignment)
    db.session.commit()
    assert _visible_ids(_user(people["doctor"])) == {ann}
    assignment.ended_at = datetime.now(UTC)
    db.session.commit()
    assert _visible_ids(_user(people["doctor"])) == set()
    with pytest.raises(NotFound):
        policy.get_visible_patient(_user(people["doctor"]), ann)


def test_a_patient_sees_only_themself_an_admin_everyone_and_nobody_an_archived_patient(people):
    ann, bob, walk_in = people["ann"].patient_id, people["bob"].patient_id, people["walk_in"].id
    assert _visible_ids(_user(people["ann"])) == {ann}
    assert _visible_ids(_user(people["admin"])) == {ann, bob, walk_in}
    assert _visible_ids(None) == set()
    db.session.get(Patient, bob).archived_at = datetime.now(UTC)
    db.session.commit()
    assert _visible_ids(_user(people["admin"])) == {ann, walk_in}
    with pytest.raises(NotFound):
        policy.get_visible_patient(_user(people["bob"]), bob)


def test_the_patients_a_search_narrows_are_the_patients_each_reader_sees(people, factories):
    """policy.patients_to_narrow (a doctor's list from doctor_patients, on PostgreSQL) is visible_patients by another
    road: the same patients for every reader, through each way a doctor sees one and none of the ways they do not."""
    if not on_postgresql():
        pytest.fail("the narrowing form is PostgreSQL's: run against PostgreSQL (TEST_DATABASE_URL)")
    doctor = people["doctor"]
    ann, bob, walk_in = people["ann"].patient_id, people["bob"].patient_id, people["walk_in"].id
    granted, lapsed, ended, archived = (clinic.patient(full_name=name).id for name in ("G", "L", "E", "A"))
    db.session.get(Patient, walk_in).created_by_id = doctor.id
    db.session.add_all([Assignment(patient_id=ann, doctor_id=doctor.doctor_id),
                        Assignment(patient_id=ended, doctor_id=doctor.doctor_id, ended_at=datetime.now(UTC)),
                        Assignment(patient_id=archived, doctor_id=doctor.doctor_id)])
    clinic.appointment(bob, clinic.slot(doctor.doctor_id))
    now = datetime.now(UTC)
    db.session.add_all([EmergencyAccess(doctor_user_id=doctor.id, patient_id=granted, reason="unconscious, no id",
                                        expires_at=now + timedelta(hours=1)),
                        EmergencyAccess(doctor_user_id=doctor.id, patient_id=lapsed, reason="seen last week",
                                        expires_at=now - timedelta(minutes=1))])
    db.session.get(Patient, archived).archived_at = now
    db.session.commit()

    def narrowed(user) -> set[int]:
        visible = policy.patients_to_narrow(policy.role_of(user), True)
        return set(db.session.scalars(select(visible.c.id), policy.viewer(user)))

    assert narrowed(_user(doctor)) == {ann, bob, walk_in, granted}
    for name in ("doctor", "colleague", "admin", "ann", "bob"):
        assert narrowed(_user(people[name])) == _visible_ids(_user(people[name])), name
    assert narrowed(None) == set()


def test_only_an_admin_or_the_creating_doctor_manages_a_patient(people):
    walk_in = db.session.get(Patient, people["walk_in"].id)
    walk_in.created_by_id = people["doctor"].id
    db.session.commit()
    assert policy.can_manage_patient(_user(people["admin"]), walk_in)
    assert policy.can_manage_patient(_user(people["doctor"]), walk_in)
    assert not policy.can_manage_patient(_user(people["colleague"]), walk_in)
    assert not policy.can_manage_patient(_user(people["ann"]), walk_in)
    assert not policy.can_manage_patient(None, walk_in)


def test_appointments_are_seen_by_their_patient_their_doctor_and_admins_only(people):
    mine = clinic.appointment(people["ann"].patient_id, clinic.slot(people["doctor"].doctor_id))

    def seen(name) -> set[int]:
        return {a.id for a in db.session.scalars(policy.visible_appointments(_user(people[name])))}

    assert seen("ann") == seen("doctor") == seen("admin") == {mine.id}
    assert seen("bob") == seen("colleague") == set()
    with pytest.raises(Forbidden):
        policy.visible_appointments(None)


def test_an_unlisted_doctor_is_seen_only_by_themself_and_admins(people):
    doctor_id = people["doctor"].doctor_id
    administration.admin_update(clinic.actor(people["admin"].id), people["doctor"].id, is_active=False)
    with pytest.raises(NotFound):
        policy.seen_doctor(None, doctor_id)
    with pytest.raises(NotFound):
        policy.seen_doctor(_user(people["ann"]), doctor_id)
    assert policy.seen_doctor(_user(people["admin"]), doctor_id).id == doctor_id
    assert policy.seen_doctor(_user(people["doctor"]), doctor_id).id == doctor_id


def test_user_management_is_an_admins_power_in_the_service_itself(people):
    for name in ("doctor", "ann"):
        actor = clinic.actor(people[name].id)
        with pytest.raises(Forbidden):
            administration.list_users(actor)
        with pytest.raises(Forbidden):
            administration.pending_count(actor)
        with pytest.raises(Forbidden):
            administration.admin_update(actor, people["bob"].id, is_active=False)
    assert db.session.get(User, people["bob"].id).is_active_flag is True
    page = administration.list_users(clinic.actor(people["admin"].id), role="doctor")
    assert {u.id for u in page.items} == {people["doctor"].id, people["colleague"].id}


def test_a_page_knows_how_many_pages_there_are_and_where_it_stands(people):
    from portal.services.persistence import paginate

    query = policy.visible_patients(_user(people["admin"])).order_by(Patient.id)
    first, last, beyond = paginate(query, 1, 2), paginate(query, 2, 2), paginate(query, 9, 2)
    assert (first.total, first.pages, first.has_prev, first.has_next) == (3, 2, False, True)
    assert (len(last.items), last.has_prev, last.has_next) == (1, True, False)
    assert beyond.items == [] and beyond.pages == 2
    assert paginate(query.where(Patient.id < 0), 1, 20).pages == 1
