"""Helpers for the patient-data API tests (images, audit trail, export, emergency access): callers whose
patient a doctor can or cannot see, multipart uploads, and the audit rows a request left."""
import io

from flask import Flask

from portal.extensions import db
from portal.models import Assignment, AuditEvent
from tests.fixtures.api_client import ApiClient


def assign(app: Flask, patient_id: int, doctor_id: int) -> None:
    """Make a patient visible to a doctor the way records does: an active assignment."""
    with app.app_context():
        db.session.add(Assignment(patient_id=patient_id, doctor_id=doctor_id))
        db.session.commit()
        db.session.remove()


def upload(api: ApiClient, token: str, patient_id: int, *files: bytes, names: list[str] | None = None):
    parts = [(io.BytesIO(data), (names or [])[n] if names else f"image{n}.png") for n, data in enumerate(files)]
    return api.post(f"/patients/{patient_id}/images", token=token, content_type="multipart/form-data",
                    data={"files": parts})


def audit_rows(app: Flask, **where) -> list[tuple]:
    """(actor_id, action, object_type, object_id, patient_id, emergency) of the audit rows matching `where`."""
    with app.app_context():
        query = db.select(AuditEvent).order_by(AuditEvent.id)
        for name, value in where.items():
            query = query.where(getattr(AuditEvent, name) == value)
        rows = [(e.actor_id, e.action, e.object_type, e.object_id, e.patient_id, e.emergency)
                for e in db.session.scalars(query)]
        db.session.remove()
    return rows
