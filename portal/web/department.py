"""A doctor's department: the colleagues in it and the medical records filed under it.

Which records a doctor sees here is the records services' rule (doctors of that department, visible
patients); the page only asks for the doctor's own department and pages the answer.
"""
from flask import Blueprint, request

from portal import auth_context
from portal.models import Role
from portal.services import policy
from portal.services.directory import doctor_search, listings
from portal.services.records import medical_records
from portal.web import patient_pages as pages
from portal.web.access import role_required

bp = Blueprint("department", __name__, url_prefix="/department")

RECORDS_ID = "department-records"
PER_PAGE = 20


@bp.get("")
@role_required(Role.DOCTOR)
def show():
    doctor_id = policy.doctor_id_of(auth_context.session_user())
    doctor = listings.get_doctor(doctor_id) if doctor_id else None
    department = doctor.department if doctor else None
    if department is None:
        return pages.render("department/show.html", "department/_records.html", RECORDS_ID, department=None,
                            colleagues=[], listing=None)
    listing = medical_records.department_records(pages.actor(), department.id,
                                                 page=pages.page_number(request.args), per_page=PER_PAGE)
    colleagues = [d for d in doctor_search.department_doctors(department.id) if d.id != doctor.id]
    return pages.render("department/show.html", "department/_records.html", RECORDS_ID, department=department,
                        colleagues=colleagues, listing=listing)
