"""The admin's booking-rules page: the clinic-wide rules (from the environment, read-only here) and each
doctor's overrides, editable one doctor at a time.

Each doctor's row is a self-contained component (id "rules-<doctor id>"): its form posts and the answer is the
row again, saved or with the problems next to the fields (422, which htmx swaps). Without JavaScript the form
posts and comes back to the page. The rules themselves live in services/scheduling/booking_rules; the change is
the directory's update_doctor, the same as the API's PATCH /doctors/{id}.
"""
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from portal.models import Role
from portal.services.directory import listings
from portal.services.errors import Invalid, NotFound
from portal.services.scheduling import booking_rules
from portal.web import fragments
from portal.web import patient_pages as pages
from portal.web.access import role_required
from portal.web.booking_forms import DoctorRulesForm
from portal.web.forms import add_problems, show_error

bp = Blueprint("booking_rules_admin", __name__, url_prefix="/admin/booking-rules")

PER_PAGE = 50
CLINIC_SETTINGS = (
    ("BOOKING_MIN_NOTICE_MINUTES", "Minimum notice", "minutes: a patient books a time at least this long ahead"),
    ("BOOKING_HORIZON_DAYS", "Horizon", "days: a patient books up to the end of the clinic day this many days ahead"),
    ("CHANGE_CUTOFF_HOURS", "Change cut-off", "hours: a patient cancels or moves an appointment up to this long "
                                              "before it starts"),
    ("NO_SHOW_LIMIT", "No-show limit", "missed visits in 12 months after which a patient cannot book online "
                                       "(0: no limit)"),
    ("CLINIC_PHONE", "Clinic phone", "whom patients are told to call when the portal refuses"),
)


@bp.before_request
@role_required(Role.ADMIN)
def _admins_only():
    """Only admins see and change the booking rules."""


def row_id(doctor_id: int) -> str:
    return f"rules-{doctor_id}"


def _form(doctor, formdata=None) -> DoctorRulesForm:
    return DoctorRulesForm(formdata=formdata, prefix=f"d{doctor.id}", obj=None if formdata else doctor)


@bp.get("")
def page():
    listing = booking_rules.doctors_with_overrides(pages.actor(), page=pages.page_number(request.args),
                                                   per_page=PER_PAGE)
    settings = [(name, label, current_app.config[name], unit) for name, label, unit in CLINIC_SETTINGS]
    return render_template("admin/booking_rules.html", settings=settings, listing=listing,
                           forms={doctor.id: _form(doctor) for doctor in listing.items})


@bp.post("/doctors/<id:doctor_id>")
def save(doctor_id: int):
    """Save one doctor's overrides; empty fields give the doctor the clinic's setting again."""
    try:
        doctor = listings.get_doctor(doctor_id)
    except NotFound:
        abort(404)
    form = _form(doctor, request.form)
    done = None
    if form.validate():
        try:
            doctor = listings.update_doctor(pages.actor(), doctor_id, **form.values())
        except Invalid as error:
            show_error(form, error)
        else:
            done = "Saved."
    elif "csrf_token" not in form.errors:  # the service names the range problems too, so one save shows all
        add_problems(form, booking_rules.override_problems(form.values()))
    problem = done is None
    if fragments.from_widget(row_id(doctor_id)):
        return fragments.render("admin/booking_rules.html", "admin/_rules_row.html", row_id(doctor_id),
                                422 if problem else 200, doctor=doctor, form=form, done=done)
    if problem:
        flash(f"{doctor.full_name}: " + " ".join(message for messages in form.errors.values() for message in messages),
              "error")
    else:
        flash(f"{doctor.full_name}: booking rules saved.", "success")
    return redirect(url_for("booking_rules_admin.page"))
