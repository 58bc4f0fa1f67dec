"""What the portal's patient pages need beyond the records services' own reads.

The patient page tells a doctor plainly when they are reading a patient under emergency access, and
until when; which grant is live is the same rule policy uses to make the patient visible.
"""
from sqlalchemy import select

from portal.extensions import db
from portal.models import EmergencyAccess, Role, utcnow
from portal.services.actor import Actor


def live_emergency_access(actor: Actor, patient_id: int) -> EmergencyAccess | None:
    """The doctor's live grant for this patient (the latest ending), or None; other roles have none."""
    if actor.user is None or actor.role != Role.DOCTOR.value:
        return None
    return db.session.scalar(
        select(EmergencyAccess)
        .where(EmergencyAccess.doctor_user_id == actor.user_id, EmergencyAccess.patient_id == patient_id,
               EmergencyAccess.expires_at > utcnow())
        .order_by(EmergencyAccess.expires_at.desc()).limit(1))
