"""The public pages (home, the doctor list) and each role's dashboard."""
from flask import Blueprint, render_template, request
from flask_login import login_required

from portal import auth_context
from portal.models import Role
from portal.services.accounts import administration
from portal.services.directory import doctor_search, listings
from portal.services.errors import Invalid
from portal.web import appointments, doctor_day, fragments
from portal.web.forms import DoctorSearchForm, show_error

bp = Blueprint("main", __name__)

DOCTORS_PER_PAGE = 20
RESULTS_ID = "doctor-results"


def _search_form(formdata=None) -> DoctorSearchForm:
    departments = [info.department for info in listings.list_departments()]
    return DoctorSearchForm(formdata).with_choices(departments, doctor_search.specialities())


@bp.get("/")
def home():
    return render_template("main/home.html", form=_search_form())


@bp.get("/doctors")
def doctors():
    """The doctors matching the search, by name, paged; the search filters as one types (htmx swaps
    only the results and keeps the URL in step), and is a plain GET form without JavaScript."""
    form = _search_form(request.args)
    listing, status = None, 200
    if form.validate():
        try:
            listing = doctor_search.search_doctors(**form.filters(), per_page=DOCTORS_PER_PAGE,
                                                   page=request.args.get("page", 1, type=int))
        except Invalid as error:
            show_error(form, error)
    if listing is None:
        status = 422
    return fragments.render("main/doctors.html", "main/_doctor_results.html", RESULTS_ID, status,
                            form=form, listing=listing)


@bp.get("/dashboard")
@login_required
def dashboard():
    user = auth_context.session_user()
    if user.role == Role.PATIENT.value:
        return appointments.patient_dashboard(user)
    if user.role == Role.DOCTOR.value:
        return doctor_day.doctor_dashboard(user)
    pending_count = administration.pending_count(auth_context.actor_for(user))
    return render_template("main/dashboard_admin.html", user=user, pending_count=pending_count)
