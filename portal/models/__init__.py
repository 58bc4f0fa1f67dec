"""Typed models, one module per aggregate; importing this package registers them all."""
from portal.models.accounts import PasswordResetToken, RefreshToken, Role, TokenFamily, User, UserSession
from portal.models.audit import AuditEvent
from portal.models.base import Base, utcnow
from portal.models.clinic import Department, Doctor
from portal.models.emergency import EmergencyAccess
from portal.models.jobs import Job, JobStatus
from portal.models.patients import Assignment, DoctorPatient, Patient
from portal.models.records import MedicalRecord, MedicalRecordVersion, PatientImage
from portal.models.scheduling import ACTIVE_STATUSES, Absence, Appointment, AppointmentStatus, Slot
from portal.models.waitlist import ACTIVE_WAITLIST, OfferOutcome, WaitlistEntry, WaitlistOffer, WaitlistStatus

__all__ = [
    "ACTIVE_STATUSES", "ACTIVE_WAITLIST", "Absence", "Appointment", "AppointmentStatus", "Assignment", "AuditEvent",
    "Base", "Department", "Doctor", "DoctorPatient", "EmergencyAccess", "Job", "JobStatus", "MedicalRecord",
    "MedicalRecordVersion", "OfferOutcome", "PasswordResetToken", "Patient", "PatientImage", "RefreshToken", "Role",
    "Slot", "TokenFamily", "User", "UserSession", "WaitlistEntry", "WaitlistOffer", "WaitlistStatus", "utcnow",
]
