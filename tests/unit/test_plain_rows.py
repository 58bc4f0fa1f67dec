"""The record and patient lists read plain rows, not ORM entities: every row must dump to exactly what the
entity it stands for dumps to (the API's answer), and carry what the pages show of it."""
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from portal.api.schemas.patients import PatientSchema
from portal.api.schemas.records import RecordSchema
from portal.extensions import db
from portal.models import Doctor, MedicalRecord, Patient
from portal.services.records import medical_records, patients
from tests.fixtures import clinic

pytestmark = pytest.mark.laptop


@pytest.fixture
def filed(ctx, factories):
    """An admin, a doctor in a department, and a patient with records with and without doctor and department."""
    admin = clinic.actor(factories.user(role="admin").id)
    department = clinic.department("Cardiology")
    doctor_user = factories.user(role="doctor", full_name="Dr Greta Lind")
    db.session.get(Doctor, doctor_user.doctor_id).department_id = department.id
    db.session.commit()
    doctor = clinic.actor(doctor_user.id)
    patient = patients.create_patient(doctor, full_name="Zoë Brandt", gender="female", phone="030 1234",
                                      city="Berlin", email="zoe@example.org")
    medical_records.create_record(doctor, patient.id, diagnostics="by the doctor", observations="o")
    medical_records.create_record(admin, patient.id, diagnostics="by the admin", department_id=department.id)
    medical_records.create_record(admin, patient.id, diagnostics="nowhere", treatments="t", misc="m")
    return admin, doctor, patient.id, department.id


def _entities(model, ids):
    return {row.id: row for row in db.session.scalars(select(model).where(model.id.in_(ids)))}


def test_record_rows_dump_as_their_records_do_in_every_list(filed):
    admin, doctor, patient_id, department_id = filed
    pages = [medical_records.patient_records(doctor, patient_id), medical_records.list_records(admin),
             medical_records.department_records(admin, department_id),
             medical_records.department_records(doctor, department_id)]  # a doctor's: found once, then read
    db.session.expire_all()
    for page in pages:
        entities = _entities(MedicalRecord, [row.id for row in page.items])
        assert page.items and not any(isinstance(row, MedicalRecord) for row in page.items)
        schema = RecordSchema()
        assert [schema.dump(row) for row in page.items] == [schema.dump(entities[row.id]) for row in page.items]
        assert {row.patient.full_name for row in page.items} == {"Zoë Brandt"}
    doctors = {row.diagnostics: row.doctor and row.doctor.full_name for row in pages[0].items}
    assert doctors == {"by the doctor": "Dr Greta Lind", "by the admin": None, "nowhere": None}


def test_patient_rows_dump_as_their_profiles_do(filed):
    admin, doctor, patient_id, _ = filed
    clinic.patient(full_name="Anton Albers")
    for actor in (admin, doctor):
        page = patients.list_patients(actor, q=None)
        db.session.expire_all()
        entities = _entities(Patient, [row.id for row in page.items])
        schema = PatientSchema()
        assert page.items and not any(isinstance(row, Patient) for row in page.items)
        assert [schema.dump(row) for row in page.items] == [schema.dump(entities[row.id]) for row in page.items]
    assert [row.id for row in patients.list_patients(doctor, q="brandt 030").items] == [patient_id]


@pytest.mark.parametrize("listing", ["patient", "department for its doctor"])
def test_record_pages_cut_the_newest_first_list_and_carry_its_total(filed, listing):
    """Every page says the same total, pages follow each other newest recorded first without gap or repeat,
    and a page past the end is empty but still counts: a patient's timeline (one statement) and a doctor's
    department page (its matches found once, then the page read: PagedMatches) alike."""
    admin, doctor, patient_id, department_id = filed
    for day in range(1, 5):
        medical_records.create_record(admin, patient_id, diagnostics=f"visit {day}", department_id=department_id,
                                      recorded_at=datetime(2026, day, 15, 9, tzinfo=UTC))
    medical_records.create_record(admin, patient_id, diagnostics="same time", department_id=department_id,
                                  recorded_at=datetime(2026, 2, 15, 9, tzinfo=UTC))  # a tie: the newer id first
    if listing == "patient":
        read, expected = (lambda **paging: medical_records.patient_records(admin, patient_id, **paging)), 8
    else:
        read, expected = (lambda **paging: medical_records.department_records(doctor, department_id, **paging)), 7
    everything = read(per_page=100).items
    newest_first = [row.id for row in everything]
    assert len(newest_first) == expected and [(row.recorded_at, row.id) for row in everything] == sorted(
        ((row.recorded_at, row.id) for row in everything), reverse=True)
    pages = [read(page=number, per_page=3) for number in (1, 2, 3)]
    assert [page.total for page in pages] == [expected] * 3
    assert [row.id for page in pages for row in page.items] == newest_first
    beyond = read(page=4, per_page=3)
    assert beyond.items == [] and beyond.total == expected
