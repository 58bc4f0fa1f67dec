"""The public pages (home, the doctor list) and each role's dashboard."""
from flask import Blueprint, render_template, request
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal import auth_context
from portal.extensions import db
from portal.models import Doctor, Role
from portal.services import accounts
from portal.web.forms import DoctorSearchForm

bp = Blueprint("main", __name__)

DOCTORS_PER_PAGE = 20
DASHBOARDS = {
    Role.PATIENT.value: "main/dashboard_patient.html",
    Role.DOCTOR.value: "main/dashboard_doctor.html",
    Role.ADMIN.value: "main/dashboard_admin.html",
}


@bp.get("/")
def home():
    return render_template("main/home.html", form=DoctorSearchForm(formdata=None))


@bp.get("/doctors")
def doctors():
    """A plain list of the clinic's doctors until the directory (with live filtering) replaces it.

    The query is deliberately the smallest possible (one query with the department joined, paged); the
    directory issue moves it into a directory service together with the filters the home form sends.
    """
    query = (select(Doctor).options(joinedload(Doctor.department)).where(Doctor.archived_at.is_(None))
             .order_by(Doctor.full_name, Doctor.id))
    page = db.paginate(query, page=request.args.get("page", 1, type=int), per_page=DOCTORS_PER_PAGE,
                       error_out=False)
    return render_template("main/doctors.html", page=page, form=DoctorSearchForm(request.args))


@bp.get("/dashboard")
@login_required
def dashboard():
    user = auth_context.session_user()
    context = {"user": user}
    if user.role == Role.ADMIN.value:
        context["pending_count"] = db.paginate(accounts.users_query(pending=True), page=1, per_page=1,
                                               error_out=False).total
    return render_template(DASHBOARDS[user.role], **context)
