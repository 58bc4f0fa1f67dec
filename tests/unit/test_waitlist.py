"""The waitlist through the services: joining, leaving, and the matcher that offers freed slots.

Real PostgreSQL and Redis; time moves with the clock fixture and the jobs run with outbox.run_due, as
the worker would run them.
"""
from datetime import date, time, timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, WaitlistEntry, WaitlistOffer
from portal.services import clinic_time, policy
from portal.services.errors import Conflict, Forbidden, Invalid, NotFound
from portal.services.jobs import outbox
from portal.services.scheduling import absences, appointments, availability, holds, waitlist, waitlist_matching
from tests.fixtures import clinic


@pytest.fixture
def doctor(ctx):
    return clinic.doctor(speciality="Dermatology", full_name="Dr Ada Holm")


def patient():
    return clinic.actor(clinic.patient_account().id)


def pid(actor) -> int:
    return policy.patient_id_of(actor.user)


def days(n: int) -> date:
    return clinic_time.today() + timedelta(days=n)


def join(actor, **wanted):
    wanted.setdefault("start", days(0))
    wanted.setdefault("end", days(30))
    return waitlist.join(actor, **wanted)


def entry(view) -> WaitlistEntry:
    return db.session.get(WaitlistEntry, view.entry.id)


def offers() -> list[WaitlistOffer]:
    return list(db.session.scalars(select(WaitlistOffer).order_by(WaitlistOffer.id)))


def offered_to(slot) -> list[int]:
    """Whose entries were offered this slot, in order."""
    return [offer.entry_id for offer in offers() if offer.slot_id == slot.id]


def test_a_doctor_entry_gets_that_doctors_slot_held_for_the_offer_minutes(doctor, ctx):
    alice = patient()
    view = join(alice, doctor_id=doctor.id)
    slot = clinic.slot(doctor.id)
    [offer] = waitlist_matching.offer_free_slots([slot.id])
    assert (offer.entry_id, offer.slot_id, entry(view).status) == (view.entry.id, slot.id, "offered")
    hold = holds.get_hold(offer.hold_id)
    assert (hold.slot_id, hold.patient_id) == (slot.id, pid(alice))
    assert timedelta(minutes=29) < hold.expires_at - clinic_time.now() <= timedelta(minutes=30)
    assert abs(offer.expires_at - hold.expires_at) < timedelta(seconds=2)


def test_a_speciality_entry_gets_any_doctor_of_it_in_any_case_but_not_another_speciality(doctor):
    other = clinic.doctor(speciality="Cardiology")
    view = join(patient(), speciality="dermatology ")
    assert view.entry.speciality == "dermatology"
    assert waitlist_matching.offer_free_slots([clinic.slot(other.id).id]) == []
    [offer] = waitlist_matching.offer_free_slots([clinic.slot(doctor.id, clinic.soon(30)).id])
    assert offer.entry_id == view.entry.id


def test_the_longest_waiting_matching_entry_comes_first_doctor_or_speciality_alike(doctor, clock):
    first = join(patient(), speciality="Dermatology")
    clock.advance(1)
    second = join(patient(), doctor_id=doctor.id)
    slots = [clinic.slot(doctor.id, clinic.soon(24 + n)) for n in range(3)]
    made = waitlist_matching.offer_free_slots([slot.id for slot in reversed(slots)])
    assert [(offer.slot_id, offer.entry_id) for offer in made] == [(slots[0].id, first.entry.id),
                                                                   (slots[1].id, second.entry.id)]
    assert offered_to(slots[2]) == []  # nobody else waits


def test_the_window_includes_its_edges_and_nothing_beyond(doctor):
    start = clinic.soon(48)
    view = waitlist.join(patient(), doctor_id=doctor.id, start=start.isoformat(), end=(start + timedelta(hours=1)))
    before = clinic.slot(doctor.id, start - timedelta(minutes=15))
    after = clinic.slot(doctor.id, start + timedelta(minutes=60))  # ends half an hour past the window
    assert waitlist_matching.offer_free_slots([before.id, after.id]) == []
    edge = clinic.slot(doctor.id, start + timedelta(minutes=30))  # ends exactly at the window's end
    assert [offer.entry_id for offer in waitlist_matching.offer_free_slots([edge.id])] == [view.entry.id]


def test_weekdays_and_clinic_times_of_day_hold_across_the_dst_change(doctor, ctx):
    """Mondays 09:00-12:00 in Berlin: 08:00 UTC before the change of 28 March 2027, 07:00 UTC after it."""
    assert ctx.config["CLINIC_TZ"] == "Europe/Berlin"
    view = waitlist.join(patient(), doctor_id=doctor.id, start=date(2027, 3, 20), end=date(2027, 4, 4),
                         weekdays=[0], earliest_time=time(9), latest_time=time(12))
    local = clinic_time.local_instant
    too_early = clinic.slot(doctor.id, local(date(2027, 3, 29), time(8, 30)))   # 06:30 UTC
    tuesday = clinic.slot(doctor.id, local(date(2027, 3, 23), time(9)))
    too_late = clinic.slot(doctor.id, local(date(2027, 3, 22), time(11, 45)))   # ends 12:15
    winter = clinic.slot(doctor.id, local(date(2027, 3, 22), time(9)))          # 08:00 UTC
    summer = clinic.slot(doctor.id, local(date(2027, 3, 29), time(9)))          # 07:00 UTC
    assert summer.starts_at.hour == 7 and winter.starts_at.hour == 8
    assert waitlist_matching.offer_free_slots([too_early.id, tuesday.id, too_late.id]) == []
    [offer] = waitlist_matching.offer_free_slots([summer.id])
    assert offer.entry_id == view.entry.id
    waitlist.leave(clinic.actor(view.entry.patient.user_id), view.entry.id)
    again = waitlist.join(patient(), doctor_id=doctor.id, start=date(2027, 3, 20), end=date(2027, 4, 4),
                          weekdays=[0], earliest_time=time(9), latest_time=time(12))
    assert [o.entry_id for o in waitlist_matching.offer_free_slots([winter.id])] == [again.entry.id]


def test_a_patient_with_an_appointment_at_that_time_is_skipped(doctor):
    busy, free = patient(), patient()
    join(busy, doctor_id=doctor.id)
    waiting = join(free, doctor_id=doctor.id)
    slot = clinic.slot(doctor.id)
    elsewhere = clinic.slot(clinic.doctor().id, slot.starts_at + timedelta(minutes=15))
    clinic.appointment(pid(busy), elsewhere)
    [offer] = waitlist_matching.offer_free_slots([slot.id])
    assert offer.entry_id == waiting.entry.id


def test_an_offered_slot_nobody_else_can_hold_or_book(doctor):
    alice, bob = patient(), patient()
    join(alice, doctor_id=doctor.id)
    slot = clinic.slot(doctor.id)
    [offer] = waitlist_matching.offer_free_slots([slot.id])
    for attempt in (lambda: holds.place_hold(bob, slot.id), lambda: appointments.book(bob, slot_id=slot.id)):
        with pytest.raises(Conflict) as caught:
            attempt()
        assert caught.value.code == "slot_held"
    booked = appointments.book(alice, hold_id=offer.hold_id)
    assert booked.slot_id == slot.id
    db.session.expire_all()
    assert offers()[0].outcome == "booked"
    assert db.session.get(WaitlistEntry, offer.entry_id).status == "booked"


def test_an_unbooked_offer_passes_to_the_next_patient_and_never_comes_back(doctor, ctx, clock):
    first = join(patient(), doctor_id=doctor.id)
    clock.advance(1)
    second = join(patient(), doctor_id=doctor.id)
    slot = clinic.slot(doctor.id)
    waitlist.announce_free([slot.id])
    db.session.commit()
    assert outbox.run_due() >= 1
    assert offered_to(slot) == [first.entry.id]
    clock.advance(ctx.config["WAITLIST_OFFER_MINUTES"] * 60 + 1)
    outbox.run_due()
    db.session.expire_all()
    assert offered_to(slot) == [first.entry.id, second.entry.id]
    assert [offer.outcome for offer in offers()] == ["expired", None]
    assert (entry(first).status, entry(second).status) == ("waiting", "offered")
    assert holds.slot_holders([slot.id])[slot.id].patient_id == entry(second).patient_id
    clock.advance(ctx.config["WAITLIST_OFFER_MINUTES"] * 60 + 1)
    outbox.run_due()
    db.session.expire_all()
    assert offered_to(slot) == [first.entry.id, second.entry.id]  # both had it: nobody gets it twice
    assert (entry(first).status, entry(second).status) == ("waiting", "waiting")
    assert holds.slot_holders([slot.id]) == {}


def test_a_cancellation_offers_the_slot_with_a_mail_through_the_jobs(doctor, mailbox):
    alice = clinic.actor(clinic.patient_account(full_name="Alice Waits", email="alice@example.org").id)
    join(alice, doctor_id=doctor.id)
    bob = patient()
    slot = clinic.slot(doctor.id)
    booked = appointments.book(bob, slot_id=slot.id)
    appointments.cancel(bob, booked.id)
    assert offers() == []  # nothing inside the request
    outbox.run_due()
    [offer] = offers()
    assert offer.slot_id == slot.id
    mails = [m for m in mailbox.wait_for(1) if m["To"] == "alice@example.org"]
    [mail] = mails
    body = mailbox.body(mail)
    assert "Dr Ada Holm" in body and clinic_time.format_local(slot.starts_at) in body
    assert f"http://localhost/waitlist/offers/{offer.id}" in body
    assert "Dermatology" not in body and "Dermatology" not in mail["Subject"]


def test_rescheduling_away_announces_the_old_slot(doctor):
    bob = patient()
    first, second = clinic.future_slots(doctor.id, 2)
    booked = appointments.book(bob, slot_id=first.id)
    join(patient(), doctor_id=doctor.id)
    appointments.reschedule(bob, booked.id, second.id)
    outbox.run_due()
    assert [offer.slot_id for offer in offers()] == [first.id]


def test_publishing_a_slot_or_a_weekly_plan_announces_the_new_slots(factories, ctx):
    made = factories.user(role="doctor")
    owner = clinic.actor(made.id)
    join(patient(), doctor_id=made.doctor_id)
    join(patient(), doctor_id=made.doctor_id)
    single = availability.add_slot(owner, made.doctor_id, clinic.soon(30), 30)
    plan = availability.add_weekly_plan(owner, made.doctor_id, from_date=days(3), to_date=days(3),
                                        weekdays=[days(3).weekday()], start_time=time(9), end_time=time(10),
                                        duration=30)
    outbox.run_due()
    offered = sorted(offer.slot_id for offer in offers())
    assert offered == sorted([single.id, plan.created[0].id])


def test_joining_checks_every_field_at_once(doctor):
    alice = patient()
    with pytest.raises(Invalid) as caught:
        waitlist.join(alice, doctor_id=doctor.id, speciality="Dermatology", start=days(5), end=days(2),
                      weekdays=[7], earliest_time=time(12), latest_time=time(9))
    assert set(caught.value.fields) == {"doctor_id", "to", "weekdays", "latest_time"}
    with pytest.raises(Invalid) as caught:
        waitlist.join(alice, doctor_id=doctor.id, start=days(-10), end=days(-1))
    assert caught.value.fields == {"to": ["The window has already passed."]}
    with pytest.raises(Invalid) as caught:
        waitlist.join(alice, doctor_id=doctor.id)
    assert set(caught.value.fields) == {"from", "to"}


def test_unknown_doctors_and_specialities_are_not_found_and_staff_may_not_join(doctor, factories):
    alice = patient()
    with pytest.raises(NotFound):
        join(alice, doctor_id=doctor.id + 1000)
    with pytest.raises(NotFound):
        join(alice, speciality="Alchemy")
    staff = clinic.actor(factories.user(role="doctor").id)
    for call in (lambda: join(staff, doctor_id=doctor.id), lambda: waitlist.list_entries(staff)):
        with pytest.raises(Forbidden):
            call()


def test_a_patient_keeps_at_most_the_configured_number_of_live_entries(doctor, ctx):
    alice = patient()
    for _ in range(ctx.config["WAITLIST_MAX_ENTRIES"]):
        join(alice, doctor_id=doctor.id)
    with pytest.raises(Conflict) as caught:
        join(alice, speciality="Dermatology")
    assert caught.value.code == "too_many_entries"


def test_listing_shows_offers_and_how_many_wait_ahead_and_marks_passed_windows_expired(doctor, clock):
    alice, bob = patient(), patient()
    ahead = join(bob, doctor_id=doctor.id)
    clock.advance(1)
    mine = join(alice, doctor_id=doctor.id)
    short = waitlist.join(alice, speciality="Dermatology", start=clinic.soon(1), end=clinic.soon(3))
    [view_short, view_mine] = waitlist.list_entries(alice).items
    assert view_short.entry.id == short.entry.id and view_mine.entry.id == mine.entry.id
    assert (view_mine.waiting_ahead, view_mine.waiting, view_mine.offer) == (1, 2, None)
    assert ahead.waiting_ahead == 0
    clock.advance(4 * 3600)
    page = waitlist.list_entries(alice)
    assert [view.entry.status for view in page.items] == ["expired", "waiting"]
    assert page.items[0].waiting_ahead is None
    reads = db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "waitlist_entry",
                                                        AuditEvent.action == "read")).all()
    assert {event.patient_id for event in reads} == {pid(alice)}


def test_an_expired_entry_is_never_matched(doctor, clock):
    join(patient(), doctor_id=doctor.id, start=clinic.soon(1), end=clinic.soon(3))
    clock.advance(4 * 3600)
    assert waitlist_matching.offer_free_slots([clinic.slot(doctor.id).id]) == []


def test_leaving_keeps_the_row_and_gives_an_open_offer_to_the_next(doctor):
    alice, bob = patient(), patient()
    mine = join(alice, doctor_id=doctor.id)
    theirs = join(bob, doctor_id=doctor.id)
    slot = clinic.slot(doctor.id)
    [offer] = waitlist_matching.offer_free_slots([slot.id])
    left = waitlist.leave(alice, mine.entry.id)
    assert (left.entry.status, left.offer) == ("cancelled", None) and left.entry.ended_at is not None
    assert holds.get_hold(offer.hold_id) is None
    outbox.run_due()
    assert offered_to(slot) == [mine.entry.id, theirs.entry.id]
    with pytest.raises(Conflict) as caught:
        waitlist.leave(alice, mine.entry.id)
    assert caught.value.code == "entry_ended"
    with pytest.raises(NotFound):
        waitlist.leave(alice, theirs.entry.id)  # someone else's


@pytest.mark.laptop  # the same race on SQLite, as the laptop mode runs it
def test_two_matchers_racing_for_one_slot_make_one_offer(doctor, app):
    join(patient(), doctor_id=doctor.id)
    join(patient(), doctor_id=doctor.id)
    slot_id = clinic.slot(doctor.id).id
    results = clinic.race(app, [lambda: waitlist_matching.offer_free_slots([slot_id])] * 2)
    assert not any(isinstance(result, Exception) for result in results), results
    db.session.rollback()  # a new snapshot: SQLite's read transaction would still show the time before
    assert len(offered_to(db.session.get(clinic.Slot, slot_id))) == 1
    assert sorted(e.status for e in db.session.scalars(select(WaitlistEntry))) == ["offered", "waiting"]


@pytest.mark.laptop  # the same race on SQLite, as the laptop mode runs it
def test_two_slots_racing_for_one_entry_offer_it_one_of_them(doctor, app):
    join(patient(), doctor_id=doctor.id)
    first, second = (slot.id for slot in clinic.future_slots(doctor.id, 2))
    results = clinic.race(app, [lambda: waitlist_matching.offer_free_slots([first]),
                                lambda: waitlist_matching.offer_free_slots([second])])
    assert not any(isinstance(result, Exception) for result in results), results
    db.session.rollback()
    assert len(offers()) == 1 and holds.slot_holders([first, second]).keys() == {offers()[0].slot_id}


def test_an_offers_long_hold_outlives_a_short_one_in_the_patients_list_of_holds(doctor, ctx, clock):
    """The patient's set of holds in Redis lives as long as the longest hold, not the latest one."""
    alice = patient()
    join(alice, doctor_id=doctor.id)
    offered, clicked = clinic.future_slots(doctor.id, 2)
    [offer] = waitlist_matching.offer_free_slots([offered.id])
    holds.place_hold(alice, clicked.id)  # a usual five-minute hold, taken after the offer's
    clock.advance(ctx.config["HOLD_TTL_SECONDS"] + 1)
    assert [hold.hold_id for hold in holds.store().holds_of(pid(alice))] == [offer.hold_id]


def test_an_offer_let_pass_after_the_window_ended_ends_the_entry_as_expired(doctor, ctx, clock):
    slot = clinic.slot(doctor.id, clinic.soon(2))
    short = waitlist.join(patient(), doctor_id=doctor.id, start=clinic.soon(0), end=slot.ends_at)
    [offer] = waitlist_matching.offer_free_slots([slot.id])
    clock.advance(3 * 3600)  # past the offer, the window and the slot itself
    outbox.run_due()
    db.session.expire_all()
    assert (entry(short).status, offers()[0].outcome) == ("expired", "expired")
    assert entry(short).ended_at is not None and offer.entry_id == short.entry.id


def test_slots_nobody_waits_for_are_not_announced(doctor):
    from portal.models import Job

    other = clinic.doctor(speciality="Cardiology")
    join(patient(), speciality="Dermatology")
    waitlist.announce_free([clinic.slot(other.id).id])
    db.session.commit()
    assert db.session.scalars(select(Job).where(Job.kind == "slots_freed")).all() == []
    waitlist.announce_free([clinic.slot(doctor.id).id])
    db.session.commit()
    assert len(db.session.scalars(select(Job).where(Job.kind == "slots_freed")).all()) == 1


def test_slots_an_absence_gave_back_when_it_was_removed_are_offered(factories, ctx):
    made = factories.user(role="doctor")
    owner = clinic.actor(made.id)
    slot = clinic.slot(made.doctor_id, clinic.soon(48))
    absence = absences.create(owner, made.doctor_id, slot.starts_at, slot.ends_at, "Sick day")
    waiting = join(patient(), doctor_id=made.doctor_id)
    assert waitlist_matching.offer_free_slots([slot.id]) == []  # withdrawn: nobody is offered it
    absences.delete(owner, absence.absence.id)
    outbox.run_due()
    assert offered_to(slot) == [waiting.entry.id]


def test_two_joins_at_once_never_pass_the_limit_together(doctor, app):
    alice = patient()
    user_id, doctor_id = alice.user.id, doctor.id
    for _ in range(app.config["WAITLIST_MAX_ENTRIES"] - 1):
        join(alice, doctor_id=doctor_id)
    db.session.commit()
    outcomes = clinic.race(app, [lambda: join(clinic.actor(user_id), doctor_id=doctor_id)] * 2)
    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["Conflict", "EntryView"]
