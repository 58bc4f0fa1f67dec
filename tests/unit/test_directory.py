"""The clinic directory: departments and doctors managed by admins, and found by everyone."""
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from portal.extensions import db
from portal.models import Department, Doctor, Slot, User
from portal.services.accounts import administration
from portal.services.actor import Actor
from portal.services.clinic_time import MissingField
from portal.services.directory import doctor_search, listings
from portal.services.errors import Conflict, Forbidden, Invalid, NotFound
from portal.services.scheduling import holds
from tests.fixtures import clinic


@pytest.fixture
def admin(ctx, factories):
    return clinic.actor(factories.user(role="admin").id)


def test_departments_are_listed_with_active_doctor_counts_in_one_query(ctx):
    heart, skin, _empty = clinic.department("Cardiology"), clinic.department("dermatology"), clinic.department("ENT")
    clinic.doctor(heart), clinic.doctor(heart), clinic.doctor(skin)
    clinic.doctor(skin, archived_at=datetime.now(UTC))
    gone = clinic.department("Closed")
    gone.archived_at = datetime.now(UTC)
    db.session.commit()
    with clinic.counted_queries() as statements:
        listed = [(info.department.name, info.doctor_count) for info in listings.list_departments()]
    assert listed == [("Cardiology", 2), ("dermatology", 1), ("ENT", 0)] and len(statements) == 1
    assert listings.get_department(heart.id).doctor_count == 2
    with pytest.raises(NotFound):
        listings.get_department(gone.id)


def test_an_admin_creates_departments_with_names_unique_in_any_case(admin, factories):
    info = listings.create_department(admin, name="  Cardiology ", description="Hearts")
    assert (info.department.name, info.department.description, info.doctor_count) == ("Cardiology", "Hearts", 0)
    with pytest.raises(Conflict) as caught:
        listings.create_department(admin, name="CARDIOLOGY")
    assert caught.value.code == "department_name_taken"
    for name in ("", "   ", "x" * 121, None):
        with pytest.raises(Invalid):
            listings.create_department(admin, name=name)
    doctor = clinic.actor(factories.user(role="doctor").id)
    with pytest.raises(Forbidden):
        listings.create_department(doctor, name="Neurology")


def test_racing_creations_of_one_name_leave_one_department(app, admin):
    user_id = admin.user.id
    results = clinic.race(app, [lambda n=n: listings.create_department(clinic.actor(user_id), name="Oncology")
                                for n in range(8)])
    assert sum(isinstance(r, listings.DepartmentInfo) for r in results) == 1
    assert all(r.code == "department_name_taken" for r in results if isinstance(r, Exception))


def test_renaming_keeps_names_unique_but_may_change_case(admin):
    heart = listings.create_department(admin, name="Cardiology").department
    listings.create_department(admin, name="Neurology")
    assert listings.update_department(admin, heart.id, name="CARDIOLOGY").department.name == "CARDIOLOGY"
    with pytest.raises(Conflict):
        listings.update_department(admin, heart.id, name="neurology")
    assert listings.update_department(admin, heart.id, description="Hearts").department.description == "Hearts"


def test_a_department_in_use_is_kept_and_an_empty_one_archived(admin):
    department = clinic.department("Radiology")
    doctor = clinic.doctor(department)
    with pytest.raises(Conflict) as caught:
        listings.delete_department(admin, department.id)
    assert caught.value.code == "department_in_use"
    listings.delete_department(admin, clinic.department("Empty").id)
    doctor.archived_at = datetime.now(UTC)
    db.session.commit()
    listings.delete_department(admin, department.id)
    assert db.session.get(Department, department.id).archived_at is not None
    with pytest.raises(NotFound):
        listings.update_department(admin, department.id, name="Back")
    assert listings.create_department(admin, name="radiology").department.id != department.id


def test_an_admin_creates_a_doctor_with_checked_fields(admin):
    department = clinic.department()
    doctor = listings.create_doctor(admin, full_name=" Dr Ada Moss ", speciality="Cardiology",
                                     department_id=department.id, gender="female", dob=date(1980, 5, 1),
                                     fees="80.5", email="Ada@Example.org", phone="+49 30 123")
    assert (doctor.full_name, doctor.fees, doctor.email, doctor.department.name) == (
        "Dr Ada Moss", Decimal("80.50"), "Ada@example.org", department.name)
    base = dict(full_name="Dr B", speciality="Cardiology", department_id=department.id)
    for change, field in ((dict(full_name=""), "full_name"), (dict(speciality=None), "speciality"),
                          (dict(department_id=999), "department_id"), (dict(department_id=None), "department_id"),
                          (dict(gender="robot"), "gender"), (dict(fees="-1"), "fees"), (dict(fees="lots"), "fees"),
                          (dict(dob=date(2999, 1, 1)), "dob"), (dict(email="not an email"), "email"),
                          (dict(shoe_size=44), "shoe_size")):
        with pytest.raises(Invalid) as caught:
            listings.create_doctor(admin, **{**base, **change})
        assert field in caught.value.fields


def test_a_doctor_profile_links_only_a_free_doctor_account(admin, factories):
    department = clinic.department()
    linked = factories.user(role="doctor")
    free_account = factories.user(role="doctor")
    doctor = listings.create_doctor(admin, full_name="Dr C", speciality="GP", department_id=department.id)
    db.session.get(Doctor, free_account.doctor_id).user_id = None
    db.session.commit()
    with pytest.raises(Conflict) as caught:
        listings.update_doctor(admin, doctor.id, user_id=linked.id)
    assert caught.value.code == "doctor_account_taken"
    with pytest.raises(Invalid):
        listings.update_doctor(admin, doctor.id, user_id=factories.user(role="patient").id)
    assert listings.update_doctor(admin, doctor.id, user_id=free_account.id).user_id == free_account.id


def test_a_doctor_edits_their_own_profile_only(admin, factories):
    made = factories.user(role="doctor")
    me = clinic.actor(made.id)
    assert listings.update_doctor(me, made.doctor_id, description="Hearts and lungs").description == "Hearts and lungs"
    with pytest.raises(Forbidden):
        listings.update_doctor(me, made.doctor_id, user_id=None)
    with pytest.raises(Forbidden):
        listings.update_doctor(me, clinic.doctor().id, full_name="Not me")
    with pytest.raises(Forbidden):
        listings.create_doctor(me, full_name="Dr D", speciality="GP", department_id=clinic.department().id)
    assert listings.update_doctor(admin, made.doctor_id, speciality="Neurology").speciality == "Neurology"


def test_a_doctor_with_upcoming_appointments_is_kept(admin, factories):
    doctor = clinic.doctor()
    upcoming = clinic.appointment(clinic.patient().id, clinic.slot(doctor.id))
    with pytest.raises(Conflict) as caught:
        listings.delete_doctor(admin, doctor.id)
    assert caught.value.code == "doctor_has_appointments"
    upcoming.status = "cancelled"
    clinic.appointment(clinic.patient().id, clinic.slot(doctor.id, clinic.soon(-30)))
    free = clinic.slot(doctor.id, clinic.soon(60))
    with pytest.raises(Forbidden):
        listings.delete_doctor(clinic.actor(factories.user(role="doctor").id), doctor.id)
    listings.delete_doctor(admin, doctor.id)
    assert db.session.get(Slot, free.id).removed_at is not None
    with pytest.raises(NotFound):
        listings.get_doctor(doctor.id)


def test_doctors_are_found_by_speciality_department_and_name(ctx):
    heart, skin = clinic.department("Cardiology"), clinic.department("Dermatology")
    ada = clinic.doctor(heart, speciality="Cardiology", full_name="Ada Moss")
    bea = clinic.doctor(skin, speciality="cardiology", full_name="Bea Mossberg")
    clinic.doctor(skin, speciality="Dermatology", full_name="Cy Hart")
    clinic.doctor(heart, speciality="Cardiology", full_name="Old Moss", archived_at=datetime.now(UTC))

    def names(**filters):
        return [item.doctor.full_name for item in doctor_search.search_doctors(**filters).items]

    assert names(speciality="CARDIOLOGY") == ["Ada Moss", "Bea Mossberg"]
    assert names(speciality="cardio") == []
    assert names(department_id=skin.id) == ["Bea Mossberg", "Cy Hart"]
    assert names(q="moss") == ["Ada Moss", "Bea Mossberg"] and names(q="%") == []
    page = doctor_search.search_doctors(per_page=2, page=2)
    assert [i.doctor.full_name for i in page.items] == ["Cy Hart"] and page.total == 3
    assert {ada.id, bea.id} == {i.doctor.id for i in doctor_search.search_doctors(per_page=2).items}


def test_only_doctors_free_in_the_window_are_found_with_their_next_free_slot(ctx):
    booked_only, removed_only, held_only, later = (clinic.doctor(full_name=n) for n in ("A", "B", "C", "D"))
    clinic.appointment(clinic.patient().id, clinic.slot(booked_only.id, clinic.soon(30)))
    clinic.slot(removed_only.id, clinic.soon(30)).removed_at = datetime.now(UTC)
    db.session.commit()
    clinic.slot(booked_only.id, clinic.soon(-5))
    held = clinic.slot(held_only.id, clinic.soon(30))
    holds.place_hold(clinic.actor(clinic.patient_account().id), held.id)
    first_free = clinic.slot(later.id, clinic.soon(100))
    clinic.slot(later.id, clinic.soon(120))
    window = dict(available_from=clinic.soon(-10).isoformat(), available_to=clinic.soon(48).isoformat())
    assert [i.doctor.full_name for i in doctor_search.search_doctors(**window).items] == ["C"]
    everyone = {i.doctor.full_name: i.next_free_slot for i in doctor_search.search_doctors().items}
    assert everyone == {"A": None, "B": None, "C": held.starts_at, "D": first_free.starts_at}


def test_a_page_of_doctors_costs_the_same_whatever_its_size(ctx):
    department = clinic.department()
    for _ in range(3):
        clinic.slot(clinic.doctor(department).id)
    with clinic.counted_queries() as few:
        assert len(doctor_search.search_doctors().items) == 3
    for n in range(30):
        clinic.slot(clinic.doctor(department).id, clinic.soon(24 + n))
    with clinic.counted_queries() as many:
        items = doctor_search.search_doctors(per_page=100).items
        assert {i.doctor.department.name for i in items} == {department.name} and len(items) == 33
        assert all(i.next_free_slot for i in items)
    assert len(many) == len(few) == 3  # page with its count, next free slots, the doctors' booking-rule overrides


def test_doctor_detail_offers_free_unheld_slots_in_the_window(ctx):
    doctor = clinic.doctor(clinic.department())
    free, booked, held = clinic.future_slots(doctor.id, 3)
    far = clinic.slot(doctor.id, clinic.soon(24 * 20))
    clinic.appointment(clinic.patient().id, booked)
    holds.place_hold(clinic.actor(clinic.patient_account().id), held.id)
    detail = doctor_search.doctor_detail(doctor.id)
    assert detail.doctor.id == doctor.id and [s.id for s in detail.available_slots] == [free.id]
    wide = doctor_search.doctor_detail(doctor.id, None, (datetime.now(UTC) + timedelta(days=30)).date())
    assert [s.id for s in wide.available_slots] == [free.id, far.id]
    with pytest.raises(NotFound):
        doctor_search.doctor_detail(999_999)


def test_specialities_are_counted_whatever_their_case(ctx):
    for speciality in ("Cardiology", "cardiology", "Neurology"):
        clinic.doctor(speciality=speciality)
    clinic.doctor(speciality="Surgery", archived_at=datetime.now(UTC))
    assert [(s.name, s.doctor_count) for s in doctor_search.specialities()] == [("Cardiology", 2), ("Neurology", 1)]


def test_free_slots_of_a_speciality(ctx):
    heart, other = clinic.doctor(speciality="Cardiology", full_name="Ada"), clinic.doctor(speciality="Neurology")
    free, booked, held = clinic.future_slots(heart.id, 3)
    clinic.appointment(clinic.patient().id, booked)
    holds.place_hold(clinic.actor(clinic.patient_account().id), held.id)
    clinic.slot(other.id)
    start, end = clinic.soon(-1).isoformat(), clinic.soon(72).isoformat()
    free_id = free.id  # read outside the count: an expired row would be refreshed inside it
    with clinic.counted_queries() as statements:
        slots = doctor_search.speciality_free_slots("cardiology", start, end)
        assert [(s.id, s.doctor.full_name) for s in slots] == [(free_id, "Ada")]
    assert len(statements) == 2  # the doctors' booking-rule overrides, the slots (after whether it is known)
    later = clinic.soon(100).isoformat(), clinic.soon(120).isoformat()
    with clinic.counted_queries() as statements:
        assert doctor_search.speciality_free_slots("Neurology", *later) == []
    assert len(statements) == 2  # an empty window too: its one statement says the speciality exists


@pytest.mark.parametrize("start, end, error, field", [
    (None, "2027-01-02", MissingField, "start"),
    ("2027-01-02", "", MissingField, "end"),
    ("2027-01-03T10:00:00+01:00", "2027-01-03T09:00:00+01:00", Invalid, "end"),
])
def test_speciality_slots_need_a_sensible_window(ctx, start, end, error, field):
    clinic.doctor(speciality="Cardiology")
    with pytest.raises(error) as caught:
        doctor_search.speciality_free_slots("Cardiology", start, end)
    assert field in caught.value.fields
    assert (caught.value.code == "missing_field") is (error is MissingField)


def test_an_unknown_speciality_is_not_found(ctx):
    with pytest.raises(NotFound):
        doctor_search.speciality_free_slots("Alchemy", "2027-01-01", "2027-01-02")


def test_a_departments_doctors(ctx):
    department = clinic.department()
    clinic.doctor(department, full_name="Zed"), clinic.doctor(department, full_name="amy"), clinic.doctor()
    assert [d.full_name for d in doctor_search.department_doctors(department.id)] == ["amy", "Zed"]
    department.archived_at = datetime.now(UTC)
    db.session.commit()
    with pytest.raises(NotFound):
        doctor_search.department_doctors(department.id)


def test_a_doctor_whose_account_is_deactivated_or_re_roled_leaves_the_directory(ctx, factories):
    admin = db.session.get(User, factories.user(role="admin").id)
    made = factories.user(role="doctor", full_name="Dr Gone Quiet")

    def names():
        return [listing.doctor.full_name for listing in doctor_search.search_doctors().items]

    assert "Dr Gone Quiet" in names()
    administration.admin_update(Actor(admin), made.id, is_active=False)
    assert "Dr Gone Quiet" not in names()
    assert all(info.doctor_count == 0 for info in doctor_search.specialities() if info.name == "General practice")
    administration.admin_update(Actor(admin), made.id, is_active=True)
    assert "Dr Gone Quiet" in names()
    administration.admin_update(Actor(admin), made.id, role="patient")
    assert "Dr Gone Quiet" not in names()
