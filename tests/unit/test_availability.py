"""Availability: single slots, weekly plans across DST, removal, and slot states as patients see them."""
from datetime import UTC, date, datetime, time, timedelta

import pytest

from portal.extensions import db
from portal.models import AppointmentStatus, Slot
from portal.services import clinic_time
from portal.services.errors import Conflict, Forbidden, Invalid, NotFound
from portal.services.persistence import commit_or_conflict
from portal.services.scheduling import availability, holds, slot_lists
from tests.fixtures import clinic


def last_sunday(year: int, month: int) -> date:
    day = date(year, month + 1, 1) - timedelta(days=1)
    return day - timedelta(days=(day.weekday() - 6) % 7)


@pytest.fixture
def doc(ctx, factories):
    """A doctor account with its profile, and the Actor for it."""
    made = factories.user(role="doctor")
    return clinic.actor(made.id), made.doctor_id


@pytest.fixture
def admin(ctx, factories):
    return clinic.actor(factories.user(role="admin").id)


def test_a_doctor_publishes_a_slot(doc):
    actor, doctor_id = doc
    starts = clinic.soon(48)
    slot = availability.add_slot(actor, doctor_id, starts, 20)
    assert (slot.doctor_id, slot.starts_at, slot.ends_at, slot.duration) == (
        doctor_id, starts, starts + timedelta(minutes=20), 20)


def test_an_admin_may_publish_for_any_doctor_but_others_may_not(doc, admin, factories):
    _, doctor_id = doc
    assert availability.add_slot(admin, doctor_id, clinic.soon(48), 30).doctor_id == doctor_id
    for role in ("doctor", "patient"):
        other = clinic.actor(factories.user(role=role).id)
        with pytest.raises(Forbidden):
            availability.add_slot(other, doctor_id, clinic.soon(50), 30)
    with pytest.raises(NotFound):
        availability.add_slot(admin, 999_999, clinic.soon(50), 30)


@pytest.mark.parametrize("duration", [4, 241, "30", True, None])
def test_duration_is_five_to_240_whole_minutes(doc, duration):
    with pytest.raises(Invalid) as caught:
        availability.add_slot(doc[0], doc[1], clinic.soon(48), duration)
    assert "duration" in caught.value.fields


def test_a_slot_in_the_past_or_without_offset_is_refused(doc):
    actor, doctor_id = doc
    with pytest.raises(Invalid) as caught:
        availability.add_slot(actor, doctor_id, clinic.soon(-1), 30)
    assert caught.value.fields == {"starts_at": ["Slot is in the past."]}
    with pytest.raises(Invalid):
        availability.add_slot(actor, doctor_id, clinic.soon(48).replace(tzinfo=None), 30)


def test_a_slot_more_than_two_years_ahead_is_refused(doc):
    actor, doctor_id = doc
    for starts in (clinic.soon(24 * availability.MAX_AHEAD_DAYS + 1), datetime(9999, 12, 31, 23, 50, tzinfo=UTC)):
        with pytest.raises(Invalid) as caught:
            availability.add_slot(actor, doctor_id, starts, 30)
        assert list(caught.value.fields) == ["starts_at"]
    assert db.session.scalar(db.select(db.func.count(Slot.id))) == 0
    assert availability.add_slot(actor, doctor_id, clinic.soon(24 * availability.MAX_AHEAD_DAYS - 1), 30)


def test_overlapping_a_live_slot_is_a_conflict_but_touching_or_removed_ones_are_fine(doc):
    actor, doctor_id = doc
    first = availability.add_slot(actor, doctor_id, clinic.soon(48), 30)
    with pytest.raises(Conflict) as caught:
        availability.add_slot(actor, doctor_id, first.starts_at + timedelta(minutes=15), 30)
    assert caught.value.code == "slot_overlap"
    availability.add_slot(actor, doctor_id, first.ends_at, 30)
    availability.remove_slot(actor, first.id)
    assert availability.add_slot(actor, doctor_id, first.starts_at + timedelta(minutes=15), 10).duration == 10


def test_the_exclusion_constraint_becomes_the_same_conflict(doc):
    _, doctor_id = doc
    first = clinic.slot(doctor_id, clinic.soon(48))
    db.session.add(Slot(doctor_id=doctor_id, starts_at=first.starts_at, ends_at=first.ends_at, duration=30))
    with pytest.raises(Conflict) as caught:
        commit_or_conflict(availability.OVERLAP_CONFLICTS)
    assert caught.value.code == "slot_overlap"
    assert db.session.scalar(db.select(db.func.count(Slot.id))) == 1


def test_racing_overlapping_slots_leave_exactly_one(app, doc):
    actor, doctor_id = doc
    base = clinic.soon(72)
    user_id = actor.user.id
    calls = [lambda n=n: availability.add_slot(clinic.actor(user_id), doctor_id, base + timedelta(minutes=n), 30)
             for n in range(10)]
    results = clinic.race(app, calls)
    assert sum(isinstance(r, Slot) for r in results) == 1
    assert all(r.code == "slot_overlap" for r in results if not isinstance(r, Slot))


def test_the_same_plan_published_five_times_at_once_makes_each_slot_once(app, doc):
    actor, doctor_id = doc
    start = clinic_time.today() + timedelta(days=10)
    plan = dict(from_date=start, to_date=start + timedelta(days=13), weekdays=[0, 1, 2, 3, 4],
                start_time=time(8), end_time=time(18), duration=15)
    user_id = actor.user.id
    results = clinic.race(app, [lambda: availability.add_weekly_plan(clinic.actor(user_id), doctor_id, **plan)
                                for _ in range(5)])
    assert all(isinstance(result, availability.PlanResult) for result in results), results
    per_plan = 10 * 40
    assert sorted(len(result.created) for result in results) == [0, 0, 0, 0, per_plan]
    assert all(len(result.created) + result.skipped == per_plan for result in results)
    starts = db.session.scalars(db.select(Slot.starts_at).where(Slot.doctor_id == doctor_id)).all()
    assert len(starts) == len(set(starts)) == per_plan


def test_a_weekly_plan_keeps_local_time_across_both_dst_changes(doc):
    actor, doctor_id = doc
    year = clinic_time.today().year + 1
    spring, autumn = last_sunday(year, 3), last_sunday(year, 10)
    created, skipped = availability.add_weekly_plan(
        actor, doctor_id, from_date=spring - timedelta(days=3), to_date=autumn + timedelta(days=3),
        weekdays=list(range(7)), start_time=time(9), end_time=time(10), duration=30)
    days = (autumn - spring).days + 7
    assert skipped == 0 and len(created) == 2 * days
    local = [clinic_time.to_local(slot.starts_at) for slot in created]
    assert {moment.time() for moment in local} == {time(9), time(9, 30)}
    by_day = {clinic_time.to_local(s.starts_at).date(): s.starts_at for s in created if s.starts_at.minute == 0}
    assert by_day[spring - timedelta(days=1)].hour == 8 and by_day[spring].hour == 7
    assert by_day[autumn - timedelta(days=1)].hour == 7 and by_day[autumn].hour == 8
    assert all(slot.ends_at - slot.starts_at == timedelta(minutes=30) for slot in created)


def test_a_plan_leaves_out_times_that_do_not_exist_in_the_spring_gap(doc):
    actor, doctor_id = doc
    spring = last_sunday(clinic_time.today().year + 1, 3)
    created, skipped = availability.add_weekly_plan(
        actor, doctor_id, from_date=spring, to_date=spring, weekdays=[6],
        start_time=time(1), end_time=time(4), duration=30)
    assert [clinic_time.format_time(s.starts_at) for s in created] == ["01:00", "01:30", "03:00", "03:30"]
    assert skipped == 0


def test_a_plan_skips_and_counts_overlaps_with_live_slots_only(doc):
    actor, doctor_id = doc
    day = clinic_time.today() + timedelta(days=10)
    clinic.slot(doctor_id, clinic_time.local_instant(day, time(9, 15)), 30)
    removed = clinic.slot(doctor_id, clinic_time.local_instant(day, time(10)), 30)
    removed.removed_at = datetime.now(UTC)
    db.session.commit()
    created, skipped = availability.add_weekly_plan(
        actor, doctor_id, from_date=day, to_date=day + timedelta(days=6), weekdays=[day.weekday()],
        start_time=time(9), end_time=time(11), duration=30)
    assert skipped == 2
    assert [clinic_time.format_time(s.starts_at) for s in created] == ["10:00", "10:30"]
    live = db.session.scalar(db.select(db.func.count(Slot.id)).where(Slot.removed_at.is_(None)))
    assert live == 3


def test_a_plan_starting_today_skips_what_has_already_started(doc):
    actor, doctor_id = doc
    today = clinic_time.today()
    before = clinic_time.now()
    created, skipped = availability.add_weekly_plan(
        actor, doctor_id, from_date=today, to_date=today, weekdays=[today.weekday()],
        start_time=time(0), end_time=time(23, 50), duration=10)
    instants = [i for m in range(0, 1430, 10) if (i := clinic_time.local_instant(today, time(m // 60, m % 60)))]
    assert len(created) + skipped == len(instants)
    assert all(slot.starts_at > before for slot in created)
    assert skipped >= sum(1 for instant in instants if instant <= before)


@pytest.mark.parametrize("changes, field", [
    (dict(to_date=lambda d: d - timedelta(days=1)), "to_date"),
    (dict(to_date=lambda d: d + timedelta(days=366)), "to_date"),
    (dict(from_date=lambda d: d - timedelta(days=12)), "from_date"),
    (dict(from_date=lambda d: datetime.combine(d, time(9), tzinfo=UTC)), "from_date"),
    (dict(to_date=lambda d: d + timedelta(days=730)), "to_date"),
    (dict(from_date=lambda d: date(9999, 12, 25), to_date=lambda d: date(9999, 12, 31)), "to_date"),
    (dict(weekdays=[7]), "weekdays"),
    (dict(weekdays=[]), "weekdays"),
    (dict(end_time=time(8)), "end_time"),
    (dict(to_date=lambda d: d + timedelta(days=300), start_time=time(0), end_time=time(23), duration=5), "duration"),
])
def test_a_plan_must_be_sensible_and_bounded(doc, changes, field):
    actor, doctor_id = doc
    start = clinic_time.today() + timedelta(days=10)
    values = dict(from_date=start, to_date=start + timedelta(days=6), weekdays=[0, 2, 4],
                  start_time=time(9), end_time=time(12), duration=30)
    for key, change in changes.items():
        values[key] = change(start) if callable(change) else change
    with pytest.raises(Invalid) as caught:
        availability.add_weekly_plan(actor, doctor_id, **values)
    assert field in caught.value.fields
    assert db.session.scalar(db.select(db.func.count(Slot.id))) == 0


def test_a_free_slot_is_removed_but_kept(doc):
    actor, doctor_id = doc
    slot = clinic.slot(doctor_id)
    removed = availability.remove_slot(actor, slot.id)
    assert removed.removed_at is not None and db.session.get(Slot, slot.id) is not None
    assert slot_lists.doctor_slots(doctor_id) == []
    with pytest.raises(NotFound):
        availability.remove_slot(actor, slot.id)


def test_a_booked_slot_cannot_be_removed_until_the_appointment_is_cancelled(doc):
    actor, doctor_id = doc
    slot = clinic.slot(doctor_id)
    booking = clinic.appointment(clinic.patient().id, slot)
    with pytest.raises(Conflict) as caught:
        availability.remove_slot(actor, slot.id)
    assert caught.value.code == "slot_booked"
    booking.status = AppointmentStatus.CANCELLED.value
    db.session.commit()
    assert availability.remove_slot(actor, slot.id).removed_at is not None


def test_only_that_doctor_or_an_admin_removes_a_slot(doc, admin, factories):
    _, doctor_id = doc
    slot = clinic.slot(doctor_id)
    other = clinic.actor(factories.user(role="doctor").id)
    with pytest.raises(Forbidden):
        availability.remove_slot(other, slot.id)
    with pytest.raises(NotFound):
        availability.remove_slot(admin, 999_999)
    assert availability.remove_slot(admin, slot.id).removed_at is not None


def test_slots_show_free_held_booked_and_past(doc):
    _, doctor_id = doc
    past = clinic.slot(doctor_id, clinic.soon(-3))
    free, held, booked = clinic.future_slots(doctor_id, 3)
    patient_user = clinic.patient_account()
    clinic.appointment(clinic.patient().id, booked)
    hold = holds.place_hold(clinic.actor(patient_user.id), held.id)
    views = slot_lists.doctor_slots(doctor_id, clinic.soon(-4), None)
    assert [(v.slot.id, v.state) for v in views] == [
        (past.id, "past"), (free.id, "free"), (held.id, "held"), (booked.id, "booked")]
    assert views[2].held_by == hold.patient_id and views[1].held_by is None
    for status, expected in (("free", [free.id]), ("held", [held.id]), ("booked", [booked.id])):
        assert [v.slot.id for v in slot_lists.doctor_slots(doctor_id, clinic.soon(-4), None, status)] == expected


def test_slots_are_read_in_a_fixed_number_of_queries(doc):
    _, doctor_id = doc
    clinic.future_slots(doctor_id, 3)
    with clinic.counted_queries() as few:
        slot_lists.doctor_slots(doctor_id)
    clinic.future_slots(doctor_id, 40, start=clinic.soon(100))
    with clinic.counted_queries() as many:
        assert len(slot_lists.doctor_slots(doctor_id)) == 43
    assert len(many) == len(few) <= 3


def test_slot_reads_are_bounded_and_checked(doc):
    _, doctor_id = doc
    with pytest.raises(Invalid):
        slot_lists.doctor_slots(doctor_id, "2027-01-01", "2027-06-01")
    with pytest.raises(Invalid):
        slot_lists.doctor_slots(doctor_id, status="taken")
    with pytest.raises(NotFound):
        slot_lists.doctor_slots(999_999)
