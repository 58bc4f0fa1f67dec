"""A doctor's absences in the portal: mark a range, see what it withdrew and which visits to move or cancel,
delete it. Doctors manage their own; an admin picks any doctor with ?doctor_id= (the service decides who
may, through policy.may_act_for_doctor).

After marking, the absence's own page lists the upcoming visits inside it: "Move" opens the existing
reschedule page (the same doctor's free times), "Cancel" cancels through the appointments service (the
patient gets the cancellation mail with a link to book again). Each visit is a self-contained row
(id "absent-visit-<id>") that a cancel swaps; without JavaScript "Cancel" and "Delete" open
confirmation pages.
"""
from datetime import time, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from portal import auth_context
from portal.models import Role
from portal.services import clinic_time
from portal.services.errors import Conflict, Forbidden, Invalid, NotFound
from portal.services.scheduling import absences, appointment_reads, appointments
from portal.web import fragments
from portal.web import managed_doctor as managed
from portal.web.absence_forms import AbsenceForm, problems_by_field
from portal.web.access import role_required
from portal.web.forms import add_problems, show_error

bp = Blueprint("absences", __name__, url_prefix="/doctor/absences")

PER_PAGE = 20


@bp.app_template_filter("absence_span")
def absence_span(absence) -> str:
    """How people say it: whole clinic days as days ("Mon 3 Aug 2026 to Fri 7 Aug 2026, whole days"),
    anything else as its two moments in clinic time."""
    start, end = clinic_time.to_local(absence.starts_at), clinic_time.to_local(absence.ends_at)
    if start.time() == time(0) and end.time() == time(0):
        last = end.date() - timedelta(days=1)
        if last == start.date():
            return f"{start:%a %-d %b %Y}, the whole day"
        return f"{start:%a %-d %b %Y} to {last:%a %-d %b %Y}, whole days"
    return f"{clinic_time.format_local(absence.starts_at)} until {clinic_time.format_local(absence.ends_at)}"


@bp.before_request
@role_required(Role.DOCTOR, Role.ADMIN)
def _doctors_and_admins():
    """Only doctors (their own absences) and admins (anyone's) come here."""


def _actor():
    return auth_context.actor_for(auth_context.session_user())


def _page(doctor, form: AbsenceForm | None = None, status: int = 200):
    if doctor is None:
        return render_template("absences/index.html", doctor=None, doctors=managed.choices()), 200
    form = form or AbsenceForm(formdata=None, data=managed.link_args(doctor.id))
    listed = absences.list_absences(_actor(), doctor.id, page=request.args.get("page", 1, type=int),
                                    per_page=PER_PAGE)
    return render_template("absences/index.html", doctor=doctor, form=form, listed=listed,
                           doctor_arg=managed.link_args(doctor.id), now=clinic_time.now()), status


@bp.get("")
def index():
    return _page(managed.chosen())


@bp.post("")
def create():
    """Mark an absence; on success its own page says what it withdrew and lists the visits to move or cancel."""
    doctor = managed.chosen() or abort(404)
    form = AbsenceForm()
    if form.validate():
        starts, ends = form.bounds()
        try:
            made = absences.create(_actor(), doctor.id, starts, ends, form.reason.data)
        except Invalid as error:
            show_error(form, Invalid(problems_by_field(error.fields)))
        except Forbidden:
            abort(404)
        else:
            visits, withdrawn = len(made.affected), made.withdrawn
            slots = (f"{withdrawn} free slot{'s' if withdrawn != 1 else ''} withdrawn" if withdrawn
                     else "no free slot inside")
            flash(f"Absence marked: {slots}"
                  + (f"; {visits} booked visit{'s' if visits != 1 else ''} below to move or cancel." if visits
                     else "; no booked visits inside."), "success")
            return redirect(url_for("absences.show", absence_id=made.absence.id, **managed.link_args(doctor.id)))
    elif "csrf_token" not in form.errors:  # the service names what else is wrong, so one submit shows it all
        problems, _, _ = absences.range_problems(*form.bounds())
        add_problems(form, problems_by_field(problems))
    return _page(doctor, form, 422)


def _absence(absence_id: int) -> absences.AbsenceView:
    try:
        return absences.get_absence(_actor(), absence_id)
    except NotFound:
        abort(404)


@bp.get("/<id:absence_id>")
def show(absence_id: int):
    view = _absence(absence_id)
    return render_template("absences/show.html", view=view, doctor=view.absence.doctor,
                           doctor_arg=managed.link_args(view.absence.doctor_id))


@bp.get("/<id:absence_id>/delete")
def confirm_delete(absence_id: int):
    """The confirmation step of a delete for browsers without JavaScript (htmx asks with hx-confirm)."""
    view = _absence(absence_id)
    return render_template("absences/confirm_delete.html", view=view,
                           doctor_arg=managed.link_args(view.absence.doctor_id))


@bp.post("/<id:absence_id>/delete")
def delete(absence_id: int):
    try:
        gone = absences.delete(_actor(), absence_id)
    except NotFound:
        abort(404)
    flash(f"Absence deleted: {gone.returned} slot{'s' if gone.returned != 1 else ''} offered again"
          + (f", {gone.still_withdrawn} still withdrawn by another absence." if gone.still_withdrawn else "."),
          "success")
    return redirect(url_for("absences.index", **managed.link_args(gone.absence.doctor_id)))


@bp.get("/<id:absence_id>/visits/<id:appointment_id>/cancel")
def confirm_cancel(absence_id: int, appointment_id: int):
    view = _absence(absence_id)
    visit = _visit(appointment_id)
    return render_template("absences/confirm_cancel.html", view=view, visit=visit,
                           refusal=appointments.change_refusal(visit),
                           doctor_arg=managed.link_args(view.absence.doctor_id))


def _visit(appointment_id: int):
    try:
        return appointment_reads.get_appointment(_actor(), appointment_id)
    except NotFound:
        abort(404)


@bp.post("/<id:absence_id>/visits/<id:appointment_id>/cancel")
def cancel(absence_id: int, appointment_id: int):
    """Cancel an affected visit (the appointments service decides and mails the patient)."""
    view = _absence(absence_id)
    problem = None
    try:
        visit = appointments.cancel(_actor(), appointment_id)
    except NotFound:
        abort(404)
    except Conflict as error:
        problem, visit = error.message, _visit(appointment_id)
    row_id = f"absent-visit-{appointment_id}"
    if fragments.from_widget(row_id):
        done = None if problem else f"Cancelled. {visit.patient.full_name} is told by mail, with a link to book again."
        return fragments.render("absences/show.html", "absences/_visit.html", row_id, 422 if problem else 200,
                                visit=visit, view=view, problem=problem, done=done,
                                doctor_arg=managed.link_args(view.absence.doctor_id))
    flash(problem or f"{visit.patient.full_name}, {clinic_time.format_local(visit.starts_at)}: cancelled; "
          "the patient is told by mail.", "error" if problem else "success")
    return redirect(url_for("absences.show", absence_id=absence_id, **managed.link_args(view.absence.doctor_id)))
