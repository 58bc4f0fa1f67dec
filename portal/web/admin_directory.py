"""The admin's clinic directory: departments (list, create, edit in the row, delete) and doctor profiles.

Rows are self-contained components (`id`, hx-target="this", hx-swap="outerHTML"): editing a department
or deleting either answers with that row only, and a refusal from the service (doctors still in the
department, appointments still booked) is shown in the row. Without JavaScript every action is a page:
an edit page, a confirmation page before each delete, and a redirect back to the list with a message.
"""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from portal import auth_context
from portal.models import Role
from portal.services.directory import doctor_search, listings
from portal.services.errors import Conflict, Invalid, NotFound
from portal.web import fragments
from portal.web.access import role_required
from portal.web.admin_directory_forms import DepartmentForm, DoctorForm, show_directory_error
from portal.web.forms import DoctorSearchForm

bp = Blueprint("admin_directory", __name__, url_prefix="/admin")

DEPARTMENTS_ID = "departments"
DOCTORS_TABLE_ID = "doctors-table"
DOCTORS_PER_PAGE = 25


@bp.before_request
@role_required(Role.ADMIN)
def _admins_only():
    """Every page of this blueprint is the admin's (403 for other roles)."""


def _actor():
    return auth_context.actor_for(auth_context.session_user())


def department_row_id(department_id: int) -> str:
    return f"department-{department_id}"


def doctor_row_id(doctor_id: int) -> str:
    return f"doctor-{doctor_id}"


def _department(department_id: int) -> listings.DepartmentInfo:
    try:
        return listings.get_department(department_id)
    except NotFound:
        abort(404)


def _edit_form(department_id: int, formdata=None, **data) -> DepartmentForm:
    """Each row's edit form has its own prefix, so its field ids never clash with the create form's."""
    return DepartmentForm(formdata=formdata, prefix=f"d{department_id}", data=data or None)


# Departments -----------------------------------------------------------------------------------------

def _departments_page(form: DepartmentForm | None = None, status: int = 200, created: str | None = None):
    return fragments.render("admin_directory/departments.html", "admin_directory/_departments.html",
                            DEPARTMENTS_ID, status, departments=listings.list_departments(),
                            form=form or DepartmentForm(formdata=None), created=created)


@bp.get("/departments")
def departments():
    return _departments_page()


@bp.post("/departments")
def create_department():
    """Create, then show the list with the new department and an empty form (or the form with its errors)."""
    form = DepartmentForm()
    if form.validate_on_submit():
        try:
            info = listings.create_department(_actor(), **form.values())
        except (Invalid, Conflict) as error:
            show_directory_error(form, error)
        else:
            message = f"Department {info.department.name} is created."
            if not fragments.from_widget(DEPARTMENTS_ID):
                flash(message, "success")
                return redirect(url_for("admin_directory.departments"))
            return _departments_page(created=message)
    return _departments_page(form, 422)


def _department_row(info, status: int = 200, **context):
    """The row for its own htmx requests; the edit page (when editing) or the list for anything else."""
    row_id = department_row_id(info.department.id)
    if fragments.from_widget(row_id) or "edit_form" in context:
        return fragments.render("admin_directory/department_edit.html", "admin_directory/_department_row.html",
                                row_id, status, info=info, **context)
    return redirect(url_for("admin_directory.departments", _anchor=row_id))


@bp.get("/departments/<int:department_id>")
def department_row(department_id: int):
    """The row as it is (what "Cancel" in an edit row brings back)."""
    return _department_row(_department(department_id))


@bp.get("/departments/<int:department_id>/edit")
def edit_department(department_id: int):
    info = _department(department_id)
    return _department_row(info, edit_form=_edit_form(department_id, name=info.department.name,
                                                      description=info.department.description))


@bp.post("/departments/<int:department_id>")
def update_department(department_id: int):
    info = _department(department_id)
    form = _edit_form(department_id, request.form)
    if form.validate_on_submit():
        try:
            info = listings.update_department(_actor(), department_id, **form.values())
        except (Invalid, Conflict) as error:
            show_directory_error(form, error)
        else:
            if not fragments.from_widget(department_row_id(department_id)):
                flash(f"Department {info.department.name} is saved.", "success")
            return _department_row(info, done="Saved.")
    return _department_row(info, 422, edit_form=form)


@bp.get("/departments/<int:department_id>/delete")
def confirm_delete_department(department_id: int):
    """The confirmation step for browsers without JavaScript (htmx asks with hx-confirm)."""
    return render_template("admin_directory/confirm_delete.html", name=_department(department_id).department.name,
                           action=url_for("admin_directory.delete_department", department_id=department_id),
                           back=url_for("admin_directory.departments"),
                           consequence="It leaves the directory; its past records keep its name.")


@bp.post("/departments/<int:department_id>/delete")
def delete_department(department_id: int):
    info = _department(department_id)
    try:
        listings.delete_department(_actor(), department_id)
    except Conflict as error:
        return _refused(department_row_id(department_id), "admin_directory.departments",
                        "admin_directory/_department_row.html", error.message, info=info)
    return _deleted(department_row_id(department_id), "admin_directory.departments",
                    f"Department {info.department.name} is deleted.")


def _refused(row_id: str, list_endpoint: str, row_template: str, problem: str, **context):
    """A refused delete: the row with the service's reason (422, which htmx swaps), or the list with it."""
    if fragments.from_widget(row_id):
        return fragments.render(row_template, row_template, row_id, 422, problem=problem, **context)
    flash(problem, "error")
    return redirect(url_for(list_endpoint))


def _deleted(row_id: str, list_endpoint: str, message: str):
    if fragments.from_widget(row_id):
        return fragments.render("admin_directory/_deleted_row.html", "admin_directory/_deleted_row.html", row_id,
                                row_id=row_id, message=message)
    flash(message, "success")
    return redirect(url_for(list_endpoint))


# Doctors ---------------------------------------------------------------------------------------------

def _doctor(doctor_id: int):
    try:
        return listings.get_doctor(doctor_id)
    except NotFound:
        abort(404)


def _departments():
    return [info.department for info in listings.list_departments()]


@bp.get("/doctors")
def doctors():
    """Doctors by name, filtered as one types (htmx swaps the table and keeps the URL in step)."""
    form = DoctorSearchForm(request.args).with_choices(_departments(), doctor_search.specialities())
    listing = None
    if form.validate():
        try:
            listing = doctor_search.search_doctors(**form.filters(), per_page=DOCTORS_PER_PAGE,
                                                   page=request.args.get("page", 1, type=int))
        except Invalid as error:
            show_directory_error(form, error)
    return fragments.render("admin_directory/doctors.html", "admin_directory/_doctors_table.html",
                            DOCTORS_TABLE_ID, 200 if listing is not None else 422, form=form, listing=listing)


def _doctor_form_page(form: DoctorForm, doctor=None, status: int = 200):
    return render_template("admin_directory/doctor_form.html", form=form, doctor=doctor), status


@bp.get("/doctors/new")
def new_doctor():
    return _doctor_form_page(DoctorForm(formdata=None).with_departments(_departments()))


@bp.post("/doctors")
def create_doctor():
    form = DoctorForm()
    form.with_departments(_departments())
    if form.validate_on_submit():
        try:
            doctor = listings.create_doctor(_actor(), **form.changes())
        except (Invalid, Conflict) as error:
            show_directory_error(form, error)
        else:
            flash(f"{doctor.full_name} is added to the directory.", "success")
            return redirect(url_for("admin_directory.doctors", q=doctor.full_name))
    return _doctor_form_page(form, status=422)


@bp.get("/doctors/<int:doctor_id>/edit")
def edit_doctor(doctor_id: int):
    doctor = _doctor(doctor_id)
    return _doctor_form_page(DoctorForm.of(doctor, _departments()), doctor)


@bp.post("/doctors/<int:doctor_id>")
def update_doctor(doctor_id: int):
    doctor = _doctor(doctor_id)
    form = DoctorForm()
    form.with_departments(_departments())
    if form.validate_on_submit():
        try:
            doctor = listings.update_doctor(_actor(), doctor_id, **form.changes())
        except (Invalid, Conflict) as error:
            show_directory_error(form, error)
        else:
            flash(f"The profile of {doctor.full_name} is saved.", "success")
            return redirect(url_for("admin_directory.doctors", q=doctor.full_name))
    return _doctor_form_page(form, doctor, 422)


@bp.get("/doctors/<int:doctor_id>/delete")
def confirm_delete_doctor(doctor_id: int):
    """The confirmation step for browsers without JavaScript (htmx asks with hx-confirm)."""
    return render_template("admin_directory/confirm_delete.html", name=_doctor(doctor_id).full_name,
                           action=url_for("admin_directory.delete_doctor", doctor_id=doctor_id),
                           back=url_for("admin_directory.doctors"),
                           consequence="Their free times are withdrawn; past appointments keep their name.")


@bp.post("/doctors/<int:doctor_id>/delete")
def delete_doctor(doctor_id: int):
    doctor = _doctor(doctor_id)
    try:
        listings.delete_doctor(_actor(), doctor_id)
    except Conflict as error:
        return _refused(doctor_row_id(doctor_id), "admin_directory.doctors", "admin_directory/_doctor_row.html",
                        f"{error.message} Cancel or move them first.", doctor=doctor)
    return _deleted(doctor_row_id(doctor_id), "admin_directory.doctors", f"{doctor.full_name} is deleted.")
