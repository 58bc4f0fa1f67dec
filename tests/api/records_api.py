"""Helpers for the patient, assignment and record API tests: make them through the API, read audit rows."""
from flask import Flask
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent
from tests.fixtures.api_client import envelope


def new_patient(api, token: str, **fields) -> dict:
    body = envelope(api.post("/patients", json={"full_name": "Zoë O'Brien-Núñez", **fields}, token=token))
    assert body["status"] == "created", body
    return body["data"]


def new_record(api, token: str, patient_id: int, **fields) -> dict:
    body = envelope(api.post("/records", json={"patient_id": patient_id, "diagnostics": "Flu", **fields},
                             token=token))
    assert body["status"] == "created", body
    return body["data"]


def assign(api, token: str, patient_id: int, doctor_id: int) -> dict:
    response = api.post("/assignments", json={"patient_id": patient_id, "doctor_id": doctor_id}, token=token)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["data"]


def audit_rows(app: Flask, **where) -> list[tuple]:
    """(actor_id, action, object_type, object_id, patient_id) of the audit rows matching `where`, in order."""
    with app.app_context():
        query = select(AuditEvent).order_by(AuditEvent.id)
        for name, value in where.items():
            query = query.where(getattr(AuditEvent, name) == value)
        rows = [(e.actor_id, e.action, e.object_type, e.object_id, e.patient_id) for e in db.session.scalars(query)]
        db.session.remove()
    return rows
