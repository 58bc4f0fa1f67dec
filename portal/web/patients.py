"""Doctors' and admins' patient pages: "My patients" (live search, create), the patient page and its profile.

The list filters as one types (hx-get on input, debounced; htmx swaps only the results and keeps the URL
in step) and is a plain GET form without JavaScript. The patient page gathers what the records services
say about one visible patient: profile, assigned doctors, appointments, the records timeline and images.
A patient the user may not see is a 404, like in the API; "break the glass" (emergency.py) is the way in.
"""
from flask import Blueprint, flash, redirect, render_template, request, url_for

from portal.models import Role
from portal.services import policy
from portal.services.directory import doctor_search
from portal.services.errors import Conflict, Forbidden, Invalid, NotFound
from portal.services.records import assignments, emergency, medical_records, patients
from portal.services.scheduling import appointment_reads
from portal.web import images_pages
from portal.web import patient_pages as pages
from portal.web.access import role_required, safe_next
from portal.web.forms import ActionForm, add_problems, show_error
from portal.web.record_forms import AssignmentForm, ImagesForm, PatientForm, PatientSearchForm

bp = Blueprint("patients", __name__, url_prefix="/patients")

RESULTS_ID = "patient-results"
TIMELINE_ID = "records-timeline"
VISITS_ID = "patient-visits"
VISITS_PARAM = "visits_page"
PER_PAGE = 20


@bp.before_request
@role_required(Role.DOCTOR, Role.ADMIN)
def _staff_only():
    """Patients see their own data under /my (my_records.py); these pages are the staff's."""


@bp.get("")
def index():
    """The visible patients matching the search (name, date of birth or phone), by name, paged."""
    form = PatientSearchForm(request.args)
    if not form.validate():
        return pages.render("patients/index.html", "patients/_results.html", RESULTS_ID, 422, form=form,
                            listing=None)
    listing = patients.list_patients(pages.actor(), q=(form.q.data or "").strip() or None,
                                     page=pages.page_number(request.args), per_page=PER_PAGE)
    return pages.render("patients/index.html", "patients/_results.html", RESULTS_ID, form=form, listing=listing)


def _form_page(form: PatientForm, patient=None, status: int = 200):
    return render_template("patients/form.html", form=form, patient=patient, patient_data=True), status


@bp.get("/new")
def new():
    return _form_page(PatientForm(formdata=None))


@bp.post("")
def create():
    form = PatientForm()
    if form.validate_on_submit():
        try:
            patient = patients.create_patient(pages.actor(), **form.values())
        except (Invalid, Conflict) as error:
            show_error(form, error)
        else:
            flash(f"{patient.full_name} is added to your patients.", "success")
            return redirect(url_for("patients.show", patient_id=patient.id))
    else:
        add_problems(form, patients.profile_problems(form.values()))
    return _form_page(form, status=422)


@bp.get(f"/<{pages.ID}:patient_id>")
def show(patient_id: int):
    """The patient page; the records timeline, the appointments and the images each page by themselves
    (HX-Target records-timeline, patient-visits, patient-images)."""
    patient = pages.visible(patients.get_patient, patient_id)
    if pages.fragments.from_widget(VISITS_ID):
        return pages.render("patients/show.html", "patients/_visits.html", VISITS_ID, patient=patient,
                            visits=_visits(patient.id))
    if pages.fragments.from_widget(images_pages.GALLERY_ID):
        return images_pages.gallery(patient.id, ImagesForm(formdata=None))
    timeline = medical_records.patient_records(pages.actor(), patient_id, page=pages.page_number(request.args),
                                               per_page=PER_PAGE)
    if pages.fragments.from_widget(TIMELINE_ID):
        return pages.render("patients/show.html", "patients/_timeline.html", TIMELINE_ID, patient=patient,
                            timeline=timeline)
    return _patient_page(patient, timeline, AssignmentForm(formdata=None).with_doctors(_doctors()))


def _patient_page(patient, timeline, assign_form: AssignmentForm, status: int = 200):
    actor = pages.actor()
    return pages.render(
        "patients/show.html", "patients/_timeline.html", TIMELINE_ID, status, patient=patient, timeline=timeline,
        assigned=patients.patient_doctors(actor, patient.id),
        visits=_visits(patient.id), gallery=images_pages.gallery_page(patient.id),
        images_form=ImagesForm(formdata=None), action_form=ActionForm(),
        emergency=emergency.live_access(actor, patient.id),
        can_archive=policy.can_manage_patient(actor.user, patient),
        assign_form=assign_form,
    )


def _visits(patient_id: int):
    return patients.patient_appointments(pages.actor(), patient_id, page=pages.page_number(request.args, VISITS_PARAM),
                                         per_page=PER_PAGE)


def _doctors():
    """The doctors one may assign (the directory's first page of 100, by name)."""
    return [found.doctor for found in doctor_search.search_doctors(per_page=100).items]


@bp.get(f"/in-slot/<{pages.ID}:slot_id>")
def in_slot(slot_id: int):
    """From a booked slot of the availability calendar to the page of the patient who booked it."""
    visit = pages.visible(appointment_reads.booked_in_slot, slot_id)
    return redirect(url_for("patients.show", patient_id=visit.patient_id))


@bp.get(f"/<{pages.ID}:patient_id>/edit")
def edit(patient_id: int):
    patient = pages.visible(patients.get_patient, patient_id)
    return _form_page(PatientForm(formdata=None, obj=patient), patient)


@bp.post(f"/<{pages.ID}:patient_id>")
def update(patient_id: int):
    patient = pages.visible(patients.get_patient, patient_id)
    form = PatientForm()
    if form.validate_on_submit():
        try:
            patient = pages.visible(patients.update_patient, patient_id, **form.values())
        except (Invalid, Conflict, Forbidden) as error:
            show_error(form, error)
        else:
            flash(f"The profile of {patient.full_name} is saved.", "success")
            return redirect(url_for("patients.show", patient_id=patient_id))
    else:
        add_problems(form, patients.profile_problems(form.values()))
    return _form_page(form, patient, 422)


@bp.get(f"/<{pages.ID}:patient_id>/archive")
def confirm_archive(patient_id: int):
    """The confirmation step before archiving (htmx asks with hx-confirm)."""
    patient = pages.visible(patients.get_patient, patient_id)
    return render_template("patients/confirm_archive.html", patient=patient, patient_data=True)


@bp.post(f"/<{pages.ID}:patient_id>/archive")
def archive(patient_id: int):
    """Archive: the profile leaves every list and page; its rows stay in the database."""
    patient = pages.visible(patients.get_patient, patient_id)
    try:
        pages.visible(patients.archive_patient, patient_id)
    except Forbidden as error:
        flash(error.message, "error")
        return redirect(url_for("patients.show", patient_id=patient_id))
    flash(f"{patient.full_name} is archived.", "success")
    return redirect(url_for("patients.index"))


@bp.post(f"/<{pages.ID}:patient_id>/assignments")
def assign(patient_id: int):
    """Assign a doctor (oneself or a colleague) to the patient; a problem is said next to the doctor field."""
    form = AssignmentForm().with_doctors(_doctors())
    if form.validate_on_submit():
        try:
            pages.visible(assignments.create_assignment, patient_id, form.doctor_id.data)
        except (Conflict, Forbidden) as error:  # already assigned; or seen only through emergency access
            form.doctor_id.errors = [error.message]
        else:
            flash("The doctor is assigned.", "success")
            return redirect(url_for("patients.show", patient_id=patient_id, _anchor="assigned-doctors"))
    elif not form.doctor_id.errors:  # only the CSRF token failed: the form is too old
        form.doctor_id.errors = ["This form has expired. Reload the page and try again."]
    patient = pages.visible(patients.get_patient, patient_id)
    timeline = medical_records.patient_records(pages.actor(), patient_id, page=1, per_page=PER_PAGE)
    return _patient_page(patient, timeline, form, 422)


@bp.post(f"/assignments/<{pages.ID}:assignment_id>/end")
def end_assignment(assignment_id: int):
    """End an assignment: the row stays with its end time; the patient page may then be 404 for that doctor."""
    try:
        ended = pages.visible(assignments.end_assignment, assignment_id)
    except Conflict as error:
        flash(error.message, "error")
        return redirect(safe_next(request.form.get("next"), "patients.index"))
    flash("The assignment is ended.", "success")
    try:
        policy.get_visible_patient(pages.actor().user, ended.patient_id)
    except NotFound:  # one's own last link to the patient: their page is gone for this user now
        return redirect(url_for("patients.index"))
    return redirect(safe_next(request.form.get("next"), "patients.index"))
