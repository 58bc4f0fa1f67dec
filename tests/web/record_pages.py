"""Helpers for tests of the patient-record pages: patients a doctor can see, records with versions, written
straight to the database (like tests/fixtures/clinic.py) so each page test depends on the page alone."""
from datetime import UTC, datetime, timedelta

from portal.extensions import db
from portal.models import Assignment, MedicalRecord, MedicalRecordVersion, Patient

NO_STORE = "no-store"


def patient_of(app, doctor_user_id: int | None, full_name="Greta Green", **fields) -> int:
    """A patient profile created by that doctor's account (so visible to them); None: nobody's."""
    with app.app_context():
        patient = Patient(full_name=full_name, created_by_id=doctor_user_id, **fields)
        db.session.add(patient)
        db.session.commit()
        return patient.id


def assign(app, patient_id: int, doctor_id: int) -> int:
    with app.app_context():
        row = Assignment(patient_id=patient_id, doctor_id=doctor_id)
        db.session.add(row)
        db.session.commit()
        return row.id


def record(app, patient_id: int, doctor_id: int | None = None, diagnostics="Mild asthma", days_ago=1,
           earlier: list[str] = (), **fields) -> int:
    """A record; each text of `earlier` becomes a frozen version before the current one."""
    with app.app_context():
        at = datetime.now(UTC) - timedelta(days=days_ago)
        row = MedicalRecord(patient_id=patient_id, doctor_id=doctor_id, diagnostics=diagnostics, recorded_at=at,
                            version=len(earlier) + 1, **fields)
        db.session.add(row)
        db.session.flush()
        db.session.add_all([MedicalRecordVersion(record_id=row.id, version=n, diagnostics=text, recorded_at=at)
                            for n, text in enumerate(earlier, start=1)])
        db.session.commit()
        return row.id


def record_row(app, record_id: int) -> MedicalRecord:
    with app.app_context():
        row = db.session.get(MedicalRecord, record_id)
        db.session.expunge(row)
        return row


def is_patient_page(response) -> bool:
    """A page of patient data: never stored by a cache, never kept in htmx's history."""
    html = response.get_data(as_text=True)
    return response.headers.get("Cache-Control") == NO_STORE and (
        'hx-history="false"' in html or "<html" not in html)
