"""Absences: free slots withdrawn and given back, booked visits listed, overlapping absences, clinic days across DST."""
from datetime import date, time, timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Absence, AuditEvent, Slot
from portal.services import clinic_time
from portal.services.directory import doctor_search
from portal.services.errors import Forbidden, Invalid, NotFound
from portal.services.scheduling import absences, appointments, availability, slot_lists, slot_rules
from tests.fixtures import clinic


def last_sunday(year: int, month: int) -> date:
    day = date(year, month + 1, 1) - timedelta(days=1)
    return day - timedelta(days=(day.weekday() - 6) % 7)


@pytest.fixture
def doc(ctx, factories):
    made = factories.user(role="doctor")
    return clinic.actor(made.id), made.doctor_id


@pytest.fixture
def admin(ctx, factories):
    return clinic.actor(factories.user(role="admin").id)


def free_ids(doctor_id: int) -> list[int]:
    views = slot_lists.doctor_slots(doctor_id, clinic.soon(-1), clinic.soon(24 * 30), status="free")
    return [view.slot.id for view in views]


def test_free_slots_in_the_range_are_withdrawn_and_come_back(doc):
    actor, doctor_id = doc
    before, *inside, after = clinic.future_slots(doctor_id, 5, clinic.soon(48))
    made = absences.create(actor, doctor_id, inside[0].starts_at, inside[-1].ends_at, "  Holiday ")
    assert (made.withdrawn, made.affected, made.absence.reason) == (3, [], "Holiday")
    assert free_ids(doctor_id) == [before.id, after.id]
    assert doctor_search.next_free_slot(doctor_id) == before.starts_at
    for slot in inside:
        with pytest.raises(NotFound):
            slot_rules.bookable_slot(slot.id)
    gone = absences.delete(actor, made.absence.id)
    assert (gone.returned, gone.still_withdrawn) == (3, 0)
    assert gone.absence.archived_at is not None
    assert free_ids(doctor_id) == [before.id, *(s.id for s in inside), after.id]
    with pytest.raises(NotFound):
        absences.delete(actor, made.absence.id)


def test_booked_slots_stay_booked_and_their_visits_are_affected(doc):
    actor, doctor_id = doc
    free, booked, cancelled = clinic.future_slots(doctor_id, 3, clinic.soon(48))
    patient = clinic.patient()
    visit = clinic.appointment(patient.id, booked)
    clinic.appointment(clinic.patient().id, cancelled, status="cancelled")
    made = absences.create(actor, doctor_id, free.starts_at, cancelled.ends_at)
    assert made.withdrawn == 2  # the free one and the one whose visit was cancelled
    assert [a.id for a in made.affected] == [visit.id]
    assert db.session.get(Slot, booked.id).absence_id is None
    views = slot_lists.doctor_slots(doctor_id, clinic.soon(-1), clinic.soon(24 * 7))
    assert [(v.slot.id, v.state) for v in views] == [(booked.id, "booked")]
    audited = db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "appointment")).all()
    assert [(e.action, e.object_id, e.patient_id) for e in audited] == [("read", visit.id, patient.id)]


def test_a_visit_cancelled_inside_an_absence_leaves_its_slot_withdrawn_until_the_absence_goes(doc):
    actor, doctor_id = doc
    booked = clinic.slot(doctor_id, clinic.soon(48))
    visit = clinic.appointment(clinic.patient().id, booked)
    made = absences.create(actor, doctor_id, booked.starts_at - timedelta(hours=1), booked.ends_at)
    appointments.cancel(actor, visit.id)
    assert free_ids(doctor_id) == []
    with pytest.raises(NotFound):
        slot_rules.bookable_slot(booked.id)
    assert absences.delete(actor, made.absence.id).returned == 1
    assert free_ids(doctor_id) == [booked.id]


def test_a_slot_published_during_an_absence_is_not_offered(doc):
    actor, doctor_id = doc
    start = clinic.soon(72)
    absences.create(actor, doctor_id, start, start + timedelta(hours=8))
    slot = availability.add_slot(actor, doctor_id, start + timedelta(hours=1), 30)
    assert free_ids(doctor_id) == []
    with pytest.raises(NotFound):
        slot_rules.bookable_slot(slot.id)


def test_overlapping_absences_keep_a_slot_until_the_last_one_goes(doc):
    actor, doctor_id = doc
    first, second, third = clinic.future_slots(doctor_id, 3, clinic.soon(48))
    early = absences.create(actor, doctor_id, first.starts_at, second.ends_at)
    late = absences.create(actor, doctor_id, second.starts_at, third.ends_at)
    assert (early.withdrawn, late.withdrawn) == (2, 1)  # the second stays with the first absence
    gone = absences.delete(actor, early.absence.id)
    assert (gone.returned, gone.still_withdrawn) == (1, 1)
    assert db.session.get(Slot, second.id).absence_id == late.absence.id
    assert free_ids(doctor_id) == [first.id]
    assert absences.delete(actor, late.absence.id).returned == 2
    assert free_ids(doctor_id) == [first.id, second.id, third.id]


def test_a_date_means_whole_clinic_days_across_the_spring_change(doc, app):
    actor, doctor_id = doc
    spring = last_sunday(clinic_time.today().year + 1, 3)
    inside = [clinic_time.local_instant(spring, time(0, 0)), clinic_time.local_instant(spring, time(23, 30))]
    outside = [clinic_time.local_instant(spring - timedelta(days=1), time(23, 30)),
               clinic_time.local_instant(spring + timedelta(days=1), time(0, 0))]
    for start in inside + outside:
        clinic.slot(doctor_id, start)
    made = absences.create(actor, doctor_id, spring, spring)
    assert made.absence.ends_at - made.absence.starts_at == timedelta(hours=23)
    assert made.withdrawn == 2
    marked = db.session.scalars(select(Slot.starts_at).where(Slot.absence_id == made.absence.id)
                                .order_by(Slot.starts_at)).all()
    assert marked == inside


def test_a_date_means_whole_clinic_days_across_the_autumn_change(doc):
    actor, doctor_id = doc
    autumn = last_sunday(clinic_time.today().year + 1, 10)
    made = absences.create(actor, doctor_id, autumn.isoformat(), autumn.isoformat())
    assert made.absence.ends_at - made.absence.starts_at == timedelta(hours=25)
    assert clinic_time.to_local(made.absence.starts_at).time() == time(0)


@pytest.mark.parametrize("starts, ends, field", [
    (None, "2027-06-01", "starts_at"),
    ("2027-06-02", "2027-06-01", "ends_at"),
    ("2027-06-01T10:00:00+00:00", "2027-06-01T10:00:00+00:00", "ends_at"),
    ("2027-06-01", "2028-06-03", "ends_at"),
    ("2027-06-01T10:00:00", "2027-06-02", "starts_at"),
    ("yesterday", "2027-06-02", "starts_at"),
    ("2020-01-01", "2020-01-02", "ends_at"),
    ("2099-01-01", "2099-01-02", "starts_at"),
])
def test_bad_ranges_are_invalid(doc, starts, ends, field):
    with pytest.raises(Invalid) as caught:
        absences.create(doc[0], doc[1], starts, ends)
    assert field in caught.value.fields


def test_a_range_may_start_in_the_past_and_a_long_reason_is_refused(doc):
    actor, doctor_id = doc
    today = clinic_time.today()
    assert absences.create(actor, doctor_id, today, today).absence.starts_at < clinic_time.now()
    with pytest.raises(Invalid) as caught:
        absences.create(actor, doctor_id, today, today, "x" * 201)
    assert "reason" in caught.value.fields


def test_who_may_mark_list_and_delete(doc, admin, factories):
    actor, doctor_id = doc
    start = clinic.soon(48)
    made = absences.create(admin, doctor_id, start, start + timedelta(hours=2))
    assert made.absence.created_by_id == admin.user.id
    other_doctor = clinic.actor(factories.user(role="doctor").id)
    patient = clinic.actor(factories.user(role="patient").id)
    for who in (other_doctor, patient):
        with pytest.raises(Forbidden):
            absences.create(who, doctor_id, start, start + timedelta(hours=1))
        with pytest.raises(Forbidden):
            absences.list_absences(who, doctor_id)
    with pytest.raises(NotFound):
        absences.delete(other_doctor, made.absence.id)
    with pytest.raises(Forbidden):
        absences.delete(patient, made.absence.id)
    with pytest.raises(NotFound):
        absences.create(admin, 999_999, start, start + timedelta(hours=1))
    assert [v.absence.id for v in absences.list_absences(actor, doctor_id).items] == [made.absence.id]


def test_the_list_is_latest_first_and_keeps_deleted_ones_apart(doc):
    actor, doctor_id = doc
    today = clinic_time.today()
    made = [absences.create(actor, doctor_id, today + timedelta(days=n), today + timedelta(days=n)) for n in (3, 1, 9)]
    absences.delete(actor, made[0].absence.id)
    listed = absences.list_absences(actor, doctor_id)
    assert [v.absence.id for v in listed.items] == [made[2].absence.id, made[1].absence.id]
    everything = absences.list_absences(actor, doctor_id, include_archived=True)
    assert [v.absence.id for v in everything.items] == [made[2].absence.id, made[0].absence.id, made[1].absence.id]
    assert db.session.scalar(select(Absence.archived_at).where(Absence.id == made[0].absence.id)) is not None
