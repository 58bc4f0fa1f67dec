"""The admin's assignments list (filter, end) and the review queue of emergency accesses.

Patients themselves are managed on the staff's /patients pages, the audit log in admin_audit.py.
"""
from flask import Blueprint, flash, redirect, request

from portal.models import Role
from portal.services.errors import Conflict, Invalid
from portal.services.persistence import paginate
from portal.services.records import assignments, emergency
from portal.web import patient_pages as pages
from portal.web.access import role_required, safe_next
from portal.web.forms import ActionForm
from portal.web.record_forms import ReviewForm

bp = Blueprint("admin_records", __name__, url_prefix="/admin")

ASSIGNMENTS_ID = "assignments-table"
QUEUE_ID = "emergency-queue"
PER_PAGE = 50


@bp.before_request
@role_required(Role.ADMIN)
def _admins_only():
    """Every page of this blueprint is the admin's (403 for other roles)."""


@bp.get("/assignments")
def assignments_list():
    include_ended = request.args.get("include_ended") == "true"
    listing = assignments.list_assignments(
        pages.actor(), patient_id=pages.id_arg(request.args, "patient_id"),
        doctor_id=pages.id_arg(request.args, "doctor_id"), include_ended=include_ended,
        page=pages.page_number(request.args), per_page=PER_PAGE)
    return pages.render("admin_records/assignments.html", "admin_records/_assignments.html", ASSIGNMENTS_ID,
                        listing=listing, include_ended=include_ended, action_form=ActionForm(),
                        back=request.full_path.rstrip("?"))


@bp.get("/emergency-access")
def emergency_queue():
    return _queue()


def _queue(problem: dict | None = None, status: int = 200):
    """The queue; `problem` (access id, the note as typed, the messages) puts a refused note back in its
    field with the reason under it."""
    reviewed = request.args.get("reviewed") == "true"
    listing = paginate(emergency.grants_query(pages.actor(), reviewed=reviewed), pages.page_number(request.args),
                       PER_PAGE)
    return pages.render("admin_records/emergency.html", "admin_records/_emergency.html", QUEUE_ID, status,
                        listing=listing, reviewed=reviewed, review_form=ReviewForm(formdata=None), problem=problem)


@bp.post(f"/emergency-access/<{pages.ID}:access_id>")
def review(access_id: int):
    """Mark one access reviewed with a note; the queue then shows it under "reviewed"."""
    form = ReviewForm()
    if form.validate_on_submit():
        try:
            pages.visible(emergency.review, access_id, form.note.data)
        except Invalid as error:
            messages = [m for found in error.fields.values() for m in found]
            return _queue({"id": access_id, "note": form.note.data, "errors": messages}, 422)
        except Conflict as error:
            flash(error.message, "error")
        else:
            flash("The emergency access is marked reviewed.", "success")
    return redirect(safe_next(request.form.get("next"), "admin_records.emergency_queue"))
