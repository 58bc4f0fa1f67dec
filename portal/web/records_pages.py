"""Filing, editing and archiving medical records, and reading a record's history as a readable diff.

Every edit keeps the earlier version (the records services freeze it); the form carries the version the
writer started from. When a colleague saved in between, the service answers stale_record and the page
shows both texts, the writer's and the current one, with the form now based on the current version: the
writer merges by hand and saves again, so no edit is ever lost silently.
"""
import itertools

from flask import Blueprint, flash, redirect, render_template, url_for

from portal.models import Role
from portal.services.directory import listings
from portal.services.errors import Invalid
from portal.services.records import medical_records, patients
from portal.web import patient_pages as pages
from portal.web import record_diff
from portal.web.access import role_required
from portal.web.forms import add_problems, show_error
from portal.web.record_forms import RecordForm

bp = Blueprint("records_pages", __name__)


def _departments():
    return [info.department for info in listings.list_departments()]


def _form_page(form: RecordForm, patient, record=None, current=None, status: int = 200):
    return render_template("records/form.html", form=form, patient=patient, record=record, current=current,
                           patient_data=True), status


@bp.get(f"/patients/<{pages.ID}:patient_id>/records/new")
@role_required(Role.DOCTOR, Role.ADMIN)
def new(patient_id: int):
    patient = pages.visible(patients.get_patient, patient_id)
    return _form_page(RecordForm(formdata=None).with_departments(_departments()), patient)


@bp.post(f"/patients/<{pages.ID}:patient_id>/records")
@role_required(Role.DOCTOR, Role.ADMIN)
def create(patient_id: int):
    patient = pages.visible(patients.get_patient, patient_id)
    form = RecordForm().with_departments(_departments())
    if form.validate_on_submit():
        try:
            pages.visible(medical_records.create_record, patient_id, **form.values())
        except Invalid as error:
            show_error(form, error)
        else:
            flash("The record is filed.", "success")
            return redirect(url_for("patients.show", patient_id=patient_id, _anchor="records"))
    else:
        add_problems(form, medical_records.record_problems(form.values()))
    return _form_page(form, patient, status=422)


@bp.get(f"/records/<{pages.ID}:record_id>/edit")
@role_required(Role.DOCTOR, Role.ADMIN)
def edit(record_id: int):
    record = pages.visible(medical_records.get_record, record_id)
    form = RecordForm.of(record, _departments())
    return _form_page(form, record.patient, record)


@bp.post(f"/records/<{pages.ID}:record_id>")
@role_required(Role.DOCTOR, Role.ADMIN)
def update(record_id: int):
    """Save an edit based on the version in the form; a stale one shows both texts to merge."""
    record = pages.visible(medical_records.get_record, record_id)
    form = RecordForm().with_departments(_departments())
    if form.validate_on_submit():
        try:
            pages.visible(medical_records.update_record, record_id, form.edited_version(), **form.values())
        except medical_records.StaleRecord as error:
            current = error.current
            form.version.data = str(current.version)
            form.form_errors.append("Someone saved this record while you were editing it. Your text and the "
                                    "current one are both shown: merge them and save again.")
            return _form_page(form, current.patient, current, current=current, status=409)
        except Invalid as error:
            show_error(form, error)
        else:
            flash("The record is saved; the earlier version is kept in its history.", "success")
            return redirect(url_for("patients.show", patient_id=record.patient_id, _anchor=f"record-{record_id}"))
    else:
        add_problems(form, medical_records.record_problems(form.values()))
    return _form_page(form, record.patient, record, status=422)


def history_page(record_id: int, template: str):
    """A record's versions, oldest first, each with what changed from the one before it."""
    record = pages.visible(medical_records.get_record, record_id)
    versions = pages.visible(medical_records.history, record_id)
    changes = [(later, record_diff.changes(earlier, later)) for earlier, later in itertools.pairwise(versions)]
    return render_template(template, record=record, first=versions[0], changes=changes, patient_data=True)


@bp.get(f"/records/<{pages.ID}:record_id>/history")
@role_required(Role.DOCTOR, Role.ADMIN)
def history(record_id: int):
    return history_page(record_id, "records/history.html")


@bp.get(f"/records/<{pages.ID}:record_id>/archive")
@role_required(Role.DOCTOR, Role.ADMIN)
def confirm_archive(record_id: int):
    record = pages.visible(medical_records.get_record, record_id)
    return render_template("records/confirm_archive.html", record=record, patient_data=True)


@bp.post(f"/records/<{pages.ID}:record_id>/archive")
@role_required(Role.DOCTOR, Role.ADMIN)
def archive(record_id: int):
    """Archive instead of delete: the record leaves the timeline, its versions stay in the database."""
    record = pages.visible(medical_records.get_record, record_id)
    pages.visible(medical_records.archive_record, record_id)
    flash("The record is archived.", "success")
    return redirect(url_for("patients.show", patient_id=record.patient_id, _anchor="records"))
