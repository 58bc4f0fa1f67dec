"""The booking rules at their exact boundaries, across both DST changes of Europe/Berlin, and the no-show count.

Notice and cut-off are elapsed time, the horizon whole clinic days (booking_rules' docstring); the clock is
frozen at the instants that matter, so "exactly two hours ahead" is exact.
"""
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from portal.extensions import db
from portal.models import Appointment, Doctor, Slot, User
from portal.services import clinic_time
from portal.services.actor import Actor
from portal.services.errors import RuleRefusal
from portal.services.scheduling import booking_rules
from tests.fixtures import clinic

PATIENT = Actor(User(role="patient"))
DOCTOR = Actor(User(role="doctor"))
ADMIN = Actor(User(role="admin"))
# Europe/Berlin: clocks go forward on 28 March 2027 (02:00 CET -> 03:00 CEST) and back on 25 October 2026.
SPRING_NIGHT = datetime(2027, 3, 28, 0, 30, tzinfo=UTC)  # 01:30 CET, half an hour before the jump
AUTUMN_NIGHT = datetime(2026, 10, 24, 23, 30, tzinfo=UTC)  # 01:30 CEST, before the clock turns back at 03:00


def _slot(starts_at: datetime, doctor: Doctor | None = None) -> Slot:
    return Slot(starts_at=starts_at, ends_at=starts_at + timedelta(minutes=30), duration=30,
                doctor=doctor or Doctor(full_name="Dr Rule", speciality="General practice"))


def _refusal(actor: Actor, slot: Slot) -> str | None:
    try:
        booking_rules.check_slot(actor, slot)
    except RuleRefusal as refusal:
        return refusal.code
    return None


@pytest.fixture
def frozen(ctx, clock, rules_on):
    """The production rules and a clock stopped where the test says."""
    rules_on()
    return clock.freeze


def test_a_slot_exactly_the_minimum_notice_ahead_is_bookable_a_second_sooner_is_not(frozen):
    now = frozen(datetime(2026, 12, 7, 9, 0, tzinfo=UTC))
    assert _refusal(PATIENT, _slot(now + timedelta(minutes=120))) is None
    assert _refusal(PATIENT, _slot(now + timedelta(minutes=120, seconds=-1))) == "too_soon"


def test_the_notice_is_elapsed_time_across_the_spring_gap(frozen):
    """01:30 CET plus two real hours is 04:30 CEST, although the wall clock moved three hours."""
    frozen(SPRING_NIGHT)
    at_0430 = clinic_time.local_instant(SPRING_NIGHT.date(), datetime.strptime("04:30", "%H:%M").time())
    assert at_0430 - SPRING_NIGHT == timedelta(hours=2)
    assert _refusal(PATIENT, _slot(at_0430)) is None
    assert _refusal(PATIENT, _slot(at_0430 - timedelta(minutes=1))) == "too_soon"


def test_the_notice_is_elapsed_time_across_the_autumn_repeat(frozen):
    """01:30 CEST plus two real hours is 02:30 CET: the wall clock moved one hour."""
    frozen(AUTUMN_NIGHT)
    earliest = AUTUMN_NIGHT + timedelta(hours=2)
    assert f"{clinic_time.to_local(earliest):%H:%M %Z}" == "02:30 CET"
    assert _refusal(PATIENT, _slot(earliest)) is None
    assert _refusal(PATIENT, _slot(earliest - timedelta(seconds=1))) == "too_soon"


@pytest.mark.parametrize("now, last_day", [
    (datetime(2027, 3, 20, 11, 0, tzinfo=UTC), "2027-03-30"),  # 12:00 CET; the 10 days cross the spring change
    (datetime(2026, 10, 20, 7, 0, tzinfo=UTC), "2026-10-30"),  # 09:00 CEST; they cross the autumn change
    (datetime(2026, 12, 7, 23, 30, tzinfo=UTC), "2026-12-18"),  # 00:30 CET: already the 8th in the clinic
])
def test_the_horizon_counts_whole_clinic_days(frozen, rules_on, now, last_day):
    """With 10 days, everything up to the end of the clinic day ten days after today is bookable, whatever
    the time of day now and however long the days in between are; the next local midnight is too far."""
    rules_on(BOOKING_HORIZON_DAYS=10)
    frozen(now)
    day = datetime.fromisoformat(last_day).date()
    start, end = clinic_time.day_bounds(day)
    assert booking_rules.clinic_rules().horizon_end(now) == end
    assert _refusal(PATIENT, _slot(end - timedelta(minutes=30))) is None  # the last half hour of that day
    assert _refusal(PATIENT, _slot(end - timedelta(seconds=1))) is None
    assert _refusal(PATIENT, _slot(end)) == "too_far"  # local midnight after it
    assert clinic_time.to_local(end).hour == 0


def test_a_doctors_overrides_replace_the_clinics_rules_where_set(frozen):
    now = frozen(datetime(2026, 12, 7, 9, 0, tzinfo=UTC))
    quick = Doctor(full_name="Dr Quick", speciality="GP", min_notice_minutes=0, horizon_days=2)
    assert booking_rules.rules_for(quick) == booking_rules.Rules(0, 2, 24)
    assert _refusal(PATIENT, _slot(now + timedelta(minutes=1), quick)) is None
    assert _refusal(PATIENT, _slot(now + timedelta(days=3), quick)) == "too_far"
    assert _refusal(PATIENT, _slot(now + timedelta(days=3))) is None  # the clinic's 90 days


def test_staff_are_not_bound(frozen):
    now = frozen(datetime(2026, 12, 7, 9, 0, tzinfo=UTC))
    for actor in (DOCTOR, ADMIN):
        assert _refusal(actor, _slot(now + timedelta(minutes=5))) is None
        assert _refusal(actor, _slot(now + timedelta(days=400))) is None


def _appointment(starts_at: datetime) -> Appointment:
    return Appointment(starts_at=starts_at, doctor=Doctor(full_name="Dr Rule", speciality="GP"))


def test_the_change_cut_off_allows_exactly_24_hours_before_and_names_the_phone(frozen):
    now = frozen(datetime(2026, 12, 7, 9, 0, tzinfo=UTC))
    assert booking_rules.change_refusal(PATIENT, _appointment(now + timedelta(hours=24))) is None
    late = booking_rules.change_refusal(PATIENT, _appointment(now + timedelta(hours=24, seconds=-1)))
    assert late.code == "too_late" and "+49 30 5550 1000" in late.message and "24 hours" in late.message
    assert booking_rules.change_refusal(DOCTOR, _appointment(now + timedelta(minutes=5))) is None
    assert booking_rules.change_refusal(ADMIN, _appointment(now + timedelta(minutes=5))) is None


def test_the_cut_off_is_elapsed_time_across_the_spring_gap(frozen):
    """An appointment at 09:00 CEST on the morning after the jump: 24 real hours before is 08:00 CET the day before."""
    visit = clinic_time.local_instant(SPRING_NIGHT.date(), datetime.strptime("09:00", "%H:%M").time())
    deadline = visit - timedelta(hours=24)
    assert f"{clinic_time.to_local(deadline):%d %H:%M %Z}" == "27 08:00 CET"
    frozen(deadline)
    assert booking_rules.change_refusal(PATIENT, _appointment(visit)) is None
    frozen(deadline + timedelta(seconds=1))
    assert booking_rules.change_refusal(PATIENT, _appointment(visit)).code == "too_late"


def _no_show(patient_id: int, doctor_id: int, starts_at: datetime, status: str = "no_show") -> None:
    clinic.appointment(patient_id, clinic.slot(doctor_id, starts_at), status=status)


def test_no_shows_count_over_the_last_twelve_months(frozen, rules_on):
    now = frozen(datetime(2026, 12, 7, 9, 0, tzinfo=UTC))
    doctor, patient = clinic.doctor(), clinic.patient_account()
    patient_id = patient.patient.id
    _no_show(patient_id, doctor.id, now - timedelta(days=30))
    _no_show(patient_id, doctor.id, datetime(2025, 12, 7, 9, 30, tzinfo=UTC))  # eleven months and 30 days ago
    _no_show(patient_id, doctor.id, datetime(2025, 12, 7, 9, 0, tzinfo=UTC))  # exactly a year: not counted
    _no_show(patient_id, doctor.id, now - timedelta(days=10), status="completed")
    _no_show(patient_id, doctor.id, now - timedelta(days=11), status="cancelled")
    assert booking_rules.no_show_count(patient_id) == 2
    actor = clinic.actor(patient.id)
    booking_rules.check_no_shows(actor, patient_id)  # the limit is off by default
    rules_on(NO_SHOW_LIMIT=3)
    booking_rules.check_no_shows(actor, patient_id)
    rules_on(NO_SHOW_LIMIT=2)
    with pytest.raises(RuleRefusal) as refused:
        booking_rules.check_no_shows(actor, patient_id)
    assert refused.value.code == "no_show_limit" and "2 of your appointments" in refused.value.message
    assert "+49 30 5550 1000" in refused.value.message
    booking_rules.check_no_shows(DOCTOR, patient_id)  # staff still book for them
    booking_rules.check_no_shows(ADMIN, patient_id)


def test_the_no_show_count_reads_its_partial_index(frozen):
    """On PostgreSQL the count can be answered from ix_appointments_patient_no_show (seq scans off, so the
    tiny test table does not make the planner skip the index)."""
    frozen()
    db.session.execute(text("SET LOCAL enable_seqscan = off"))
    statement = select(db.func.count(Appointment.id)).where(
        Appointment.patient_id == 1, Appointment.status == "no_show",
        Appointment.starts_at > booking_rules.year_before(clinic_time.now()))
    compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
    plan = "\n".join(db.session.scalars(text(f"EXPLAIN {compiled}")))
    db.session.rollback()
    assert "ix_appointments_patient_no_show" in plan


def test_in_window_filters_each_doctors_slots_by_their_own_window(frozen):
    """The one SQL condition of every slot list, with doctors of different overrides in one query."""
    now = frozen(datetime.now(UTC).replace(second=0, microsecond=0))
    clinic_doctor = clinic.doctor(full_name="Dr Clinic")
    quick = clinic.doctor(full_name="Dr Quick", min_notice_minutes=10, horizon_days=3)
    slow = clinic.doctor(full_name="Dr Slow", min_notice_minutes=600)
    offsets = [timedelta(minutes=10), timedelta(minutes=119), timedelta(minutes=120), timedelta(hours=10),
               timedelta(days=5), timedelta(days=80)]
    made = {(doctor.full_name, offset): clinic.slot(doctor.id, now + offset, duration=1).id
            for doctor in (clinic_doctor, quick, slow) for offset in offsets}
    shown = set(db.session.scalars(select(Slot.id).join(Slot.doctor).where(booking_rules.in_window())))
    expected = {("Dr Clinic", o) for o in offsets[2:]} | {("Dr Quick", o) for o in offsets[:4]} \
        | {("Dr Slow", o) for o in offsets[3:]}
    assert shown == {made[key] for key in expected}
    one = db.session.get(Doctor, quick.id)
    assert set(db.session.scalars(select(Slot.id).where(Slot.doctor_id == quick.id, booking_rules.in_window(one)))) \
        == {made[("Dr Quick", o)] for o in offsets[:4]}


def test_override_values_are_whole_numbers_within_limits(ctx):
    assert booking_rules.override_problems({"min_notice_minutes": 0, "horizon_days": None}) == {}
    problems = booking_rules.override_problems({"min_notice_minutes": -1, "horizon_days": 731,
                                                "change_cutoff_hours": True})
    assert set(problems) == {"min_notice_minutes", "horizon_days", "change_cutoff_hours"}


def test_the_waitlist_offers_only_slots_inside_the_booking_window(ctx, rules_on):
    """A freed slot starting within the minimum notice is not offered: the patient could not book it."""
    from portal.services.scheduling import waitlist, waitlist_matching

    rules_on()
    doctor = clinic.doctor(speciality="Dermatology")
    waiting = clinic.actor(clinic.patient_account().id)
    waitlist.join(waiting, doctor_id=doctor.id, start=clinic_time.today(),
                  end=clinic_time.today() + timedelta(days=30))
    too_soon = clinic.slot(doctor.id, clinic.soon(1))
    assert waitlist_matching.offer_free_slots([too_soon.id]) == []
    bookable = clinic.slot(doctor.id, clinic.soon(3))
    [offer] = waitlist_matching.offer_free_slots([bookable.id])
    assert offer.slot_id == bookable.id
