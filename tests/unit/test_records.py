"""The records services without HTTP: search folding, visibility, versioned edits under a race, clinic
months, audit inserts and the demo records."""
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Assignment, AuditEvent, MedicalRecord, MedicalRecordVersion, Patient, User
from portal.models.patients import fold, search_text_of
from portal.services.errors import Conflict, Forbidden, Invalid, NotFound
from portal.services.records import assignments, demo_records, images, medical_records, patients
from portal.services.records.medical_records import StaleRecord
from tests.fixtures import clinic


@pytest.fixture
def doc(ctx, factories):
    made = factories.user(role="doctor", full_name="Dr Greta Lind")
    return clinic.actor(made.id)


@pytest.fixture
def admin(ctx, factories):
    return clinic.actor(factories.user(role="admin").id)


def test_folding_drops_case_accents_and_apostrophes():
    assert fold("Zoë O'Brien-Núñez") == "zoe obrien nunez"
    assert fold("STRAẞE  Ångström") == "strasse angstrom"
    assert search_text_of("Ana", date(1990, 2, 3), "+49 (30) 12-34") == "ana 1990-02-03 49301234"
    assert patients.search_terms("17/05/1980 +49-30 Zoë x") == ["1980-05-17", "4930", "zoe", "x"]


def test_the_search_column_follows_every_write_of_a_profile(ctx):
    """Registration and other services write patients too: the model keeps the column, not one service."""
    row = clinic.patient(full_name="Émile Zola")
    assert row.search_text == "emile zola"
    row.phone = "0800-1"
    db.session.commit()
    assert db.session.scalar(select(Patient.search_text).where(Patient.id == row.id)) == "emile zola 08001"


def test_a_patient_changing_a_non_contact_field_changes_nothing(ctx):
    user = clinic.patient_account(full_name="Pat Own")
    actor = clinic.actor(user.id)
    with pytest.raises(Forbidden):
        patients.update_patient(actor, user.patient.id, phone="1", dob=date(2000, 1, 1))
    db.session.rollback()
    assert (db.session.get(Patient, user.patient.id).phone, db.session.get(Patient, user.patient.id).dob) == (None,
                                                                                                               None)


def test_an_ended_assignment_no_longer_makes_the_patient_visible(doc, admin):
    patient = patients.create_patient(admin, full_name="Visible For A While")
    assignment = assignments.create_assignment(admin, patient.id, doc.user.doctor.id)
    assert patients.get_patient(doc, patient.id).id == patient.id
    with pytest.raises(Conflict) as twice:
        assignments.create_assignment(admin, patient.id, doc.user.doctor.id)
    assert twice.value.code == "assignment_exists"
    assignments.end_assignment(admin, assignment.id)
    with pytest.raises(NotFound):
        patients.get_patient(doc, patient.id)
    with pytest.raises(NotFound):
        assignments.end_assignment(doc, assignment.id)


def test_racing_edits_of_one_version_leave_one_winner_and_one_frozen_version(app, doc):
    patient = patients.create_patient(doc, full_name="Raced")
    record = medical_records.create_record(doc, patient.id, diagnostics="v1")
    user_id = doc.user_id

    def edit(text):
        return lambda: medical_records.update_record(clinic.actor(user_id), record.id, 1, diagnostics=text)

    results = clinic.race(app, [edit(f"writer {n}") for n in range(6)])
    winners = [r for r in results if isinstance(r, MedicalRecord)]
    assert len(winners) == 1 and all(isinstance(r, StaleRecord) for r in results if r not in winners)
    assert {r.current.version for r in results if isinstance(r, StaleRecord)} == {2}
    db.session.expire_all()
    assert db.session.get(MedicalRecord, record.id).diagnostics == winners[0].diagnostics
    assert db.session.scalars(select(MedicalRecordVersion.diagnostics)).all() == ["v1"]


def test_month_windows_are_clinic_months_and_need_a_year(ctx):
    assert medical_records.month_window(2026, 3) == (datetime(2026, 2, 28, 23, tzinfo=UTC),
                                                     datetime(2026, 3, 31, 22, tzinfo=UTC))  # DST starts 29 March
    assert medical_records.month_window(2026, 12)[1] == datetime(2026, 12, 31, 23, tzinfo=UTC)
    assert medical_records.month_window(2026, None) == (datetime(2025, 12, 31, 23, tzinfo=UTC),
                                                        datetime(2026, 12, 31, 23, tzinfo=UTC))
    assert medical_records.month_window(None, None) is None
    with pytest.raises(Invalid) as error:
        medical_records.month_window(None, 3)
    assert "month" in error.value.fields


def test_a_history_read_audits_the_record_and_each_version_in_one_insert(doc):
    patient = patients.create_patient(doc, full_name="Versioned")
    record = medical_records.create_record(doc, patient.id, diagnostics="v1")
    for version in (1, 2, 3):
        medical_records.update_record(doc, record.id, version, diagnostics=f"v{version + 1}")
    with clinic.counted_queries() as statements:
        versions = medical_records.history(doc, record.id)
    assert [(v.version, v.diagnostics, v.current) for v in versions] == [
        (1, "v1", False), (2, "v2", False), (3, "v3", False), (4, "v4", True)]
    assert sum(s.lstrip().upper().startswith("INSERT INTO AUDIT_EVENTS") for s in statements) == 1
    reads = db.session.scalars(select(AuditEvent.object_type).where(AuditEvent.action == "read")).all()
    assert sorted(reads) == ["medical_record"] + ["medical_record_version"] * 3


def test_the_demo_records_give_the_demo_doctor_patients_with_edited_records(ctx, factories, admin):
    doctor = factories.user(role="doctor", username="dr.demo")
    patient = factories.user(role="patient", username="pat.demo")
    demo_records.load(admin, db.session.get(User, doctor.id), "pat.demo")
    actor = clinic.actor(doctor.id)
    listed = patients.list_patients(actor, per_page=100)
    assert patient.patient_id in {p.id for p in listed.items} and listed.total == 1 + len(demo_records.PATIENTS)
    assert db.session.scalar(select(func.count(Assignment.id)).where(Assignment.ended_at.is_(None))) == listed.total
    records = medical_records.list_records(clinic.actor(patient.id), per_page=100).items
    assert len(records) == len(demo_records.RECORDS) and {r.version for r in records} == {2}
    assert [v.version for v in medical_records.history(actor, records[0].id)] == [1, 2]
    pictures = images.list_images(clinic.actor(patient.id), patient_id=patient.patient_id).items
    assert sorted(p.original_name for p in pictures) == ["chest-x-ray.png", "skin-rash.png"]
    assert {p.content_type for p in pictures} == {"image/png"} and all(p.thumbnail_key for p in pictures)
