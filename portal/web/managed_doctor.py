"""Whose calendar a doctor-or-admin page manages: the signed-in doctor's own, or the one an admin picked.

Availability, absences and desk booking ask the same question; the answer, and the 404 for a doctor
one may not manage, live here once.
"""
from flask import abort, request

from portal import auth_context
from portal.models import Doctor
from portal.services import policy
from portal.services.directory import doctor_search, listings
from portal.services.errors import NotFound
from portal.web.patient_pages import id_arg


def chosen() -> Doctor | None:
    """?doctor_id= (or the form's), else the signed-in doctor's own; None for an admin who has not
    picked one yet; 404 for a doctor one may not manage."""
    user = auth_context.session_user()
    doctor_id = id_arg(request.values, "doctor_id") or policy.doctor_id_of(user)
    if doctor_id is None:
        return None
    if not policy.may_act_for_doctor(user, doctor_id):
        abort(404)
    try:
        return listings.get_doctor(doctor_id)
    except NotFound:
        abort(404)


def link_args(doctor_id: int) -> dict:
    """Admins keep ?doctor_id= in every link; a doctor's own URLs stay short."""
    return {"doctor_id": doctor_id} if policy.is_admin(auth_context.session_user()) else {}


def choices() -> list[Doctor]:
    """The doctors an admin picks from (a doctor never picks: they manage their own)."""
    if not policy.is_admin(auth_context.session_user()):
        return []
    return [found.doctor for found in doctor_search.search_doctors(per_page=100).items]
