"""A doctor's own directory profile: what patients read about them (speciality, department, fee, contact).

It is the profile patients see, not the account (that is /profile), so it is changed through the
directory service, which decides that a doctor may change only their own. A doctor account not yet
linked to a profile is told so plainly. The form is a self-contained component under htmx; without
JavaScript it posts and comes back with a message.
"""
from flask import Blueprint, flash, redirect, url_for

from portal import auth_context
from portal.models import Role
from portal.services import policy
from portal.services.directory import listings
from portal.services.errors import Conflict, Invalid
from portal.web import fragments
from portal.web.access import role_required
from portal.web.admin_directory_forms import DoctorProfileForm, show_directory_error

bp = Blueprint("doctor_profile", __name__, url_prefix="/doctor/profile")

FORM_ID = "doctor-profile-form"
SAVED = "Your doctor profile is saved."


@bp.before_request
@role_required(Role.DOCTOR)
def _doctors_only():
    """Admins change any profile from the directory pages; this page is a doctor's own."""


def _own_doctor():
    """The signed-in doctor's profile, or None while no administrator has linked one."""
    doctor_id = policy.doctor_id_of(auth_context.session_user())
    return listings.get_doctor(doctor_id) if doctor_id is not None else None


def _departments():
    return [info.department for info in listings.list_departments()]


def _answer(doctor, form: DoctorProfileForm | None, status: int = 200, saved: str | None = None):
    return fragments.render("doctor_profile/profile.html", "doctor_profile/_form.html", FORM_ID, status,
                            doctor=doctor, form=form, saved=saved)


@bp.get("")
def show():
    doctor = _own_doctor()
    form = DoctorProfileForm.of(doctor, _departments()) if doctor else None
    return _answer(doctor, form)


@bp.post("")
def update():
    doctor = _own_doctor()
    if doctor is None:
        return _answer(None, None, 404)
    form = DoctorProfileForm()
    form.with_departments(_departments())
    if form.validate_on_submit():
        try:
            doctor = listings.update_doctor(auth_context.actor_for(auth_context.session_user()), doctor.id,
                                             **form.changes())
        except (Invalid, Conflict) as error:
            show_directory_error(form, error)
        else:
            if not fragments.from_widget(FORM_ID):
                flash(SAVED, "success")
                return redirect(url_for("doctor_profile.show"))
            return _answer(doctor, DoctorProfileForm.of(doctor, _departments()), saved=SAVED)
    return _answer(doctor, form, 422)
