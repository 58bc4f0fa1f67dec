""""Download my record": everything the clinic holds about one patient, gathered in one read.

The JSON export and the portal's printable page both take this Export; they only differ in how they
show it. A patient exports their own, an admin anyone's; the export is one audited read. It costs
six queries whatever the patient's history (each list is loaded in one go, versions included).
"""
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from portal.extensions import db
from portal.models import Appointment, Assignment, MedicalRecord, Patient, PatientImage, Role
from portal.services import audit, policy
from portal.services.actor import Actor
from portal.services.errors import NotFound
from portal.services.persistence import commit_keeping_loaded


@dataclass(frozen=True)
class Export:
    patient: Patient
    assignments: list[Assignment]
    appointments: list[Appointment]
    records: list[MedicalRecord]
    images: list[PatientImage]


def _all(query) -> list:
    return list(db.session.scalars(query).unique())


def export_patient(actor: Actor, patient_id: int) -> Export:
    """The patient's profile, every assignment (ended ones too), every appointment (cancelled too), the
    unarchived records each with its earlier versions, and the unarchived images' metadata.

    Doctors are 403 (their role never exports); a patient asking for someone else gets 404.
    """
    user = policy.require_role(actor.user, Role.PATIENT, Role.ADMIN)
    patient = policy.get_visible_patient(user, patient_id)
    if not policy.may_read_patient_trail(user, patient):
        raise NotFound("No such patient.")
    export = Export(
        patient=patient,
        assignments=_all(select(Assignment).options(joinedload(Assignment.doctor))
                         .where(Assignment.patient_id == patient.id).order_by(Assignment.created_at, Assignment.id)),
        appointments=_all(select(Appointment).options(joinedload(Appointment.doctor))
                          .where(Appointment.patient_id == patient.id)
                          .order_by(Appointment.starts_at, Appointment.id)),
        records=_all(select(MedicalRecord)
                     .options(joinedload(MedicalRecord.doctor), joinedload(MedicalRecord.department),
                              selectinload(MedicalRecord.versions))
                     .where(MedicalRecord.patient_id == patient.id, MedicalRecord.archived_at.is_(None))
                     .order_by(MedicalRecord.recorded_at, MedicalRecord.id)),
        images=_all(select(PatientImage).where(PatientImage.patient_id == patient.id,
                                               PatientImage.archived_at.is_(None))
                    .order_by(PatientImage.created_at, PatientImage.id)),
    )
    audit.record(actor, "read", "patient_export", patient.id, patient.id)
    commit_keeping_loaded()
    return export
