"""The doctor's dashboard: today and the coming days by clinic day, in time order; closing or cancelling a visit.

Each appointment is a self-contained row (id "visit-<id>"): "Mark completed" and "Mark no-show" are
button-only POSTs that swap the row; "Cancel appointment" (before the visit begins) posts after
hx-confirm and swaps the row too. The service decides whether a visit may be closed or cancelled and
its refusal is shown in the row. Without JavaScript the mark buttons post and come back to the
dashboard, and "Cancel appointment" opens a confirmation page (also reached from a booked slot of the
availability calendar, which it then returns to).
"""
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import groupby

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from portal import auth_context
from portal.models import Appointment, Role
from portal.services import clinic_time
from portal.services.errors import Conflict, Invalid, NotFound
from portal.services.scheduling import appointment_reads, appointments
from portal.web import fragments
from portal.web.access import role_required, safe_next

bp = Blueprint("doctor_day", __name__, url_prefix="/doctor")

DAYS = 7
REACH = timedelta(days=5 * 366)  # as far as the week grids go
PER_PAGE = 50
DONE = {"completed": "Marked completed.", "no_show": "Marked as a no-show."}
CANCELLED = "Cancelled. The time is free again."


@dataclass(frozen=True)
class Day:
    day: date
    visits: list[Appointment]


def _actor():
    return auth_context.actor_for(auth_context.session_user())


def _local_day(visit: Appointment) -> date:
    return clinic_time.to_local(visit.starts_at).date()


def _first_day(today: date) -> date:
    """?from=YYYY-MM-DD opens seven days from that day (the arrows page by a week); else from today.
    A mistyped or far-off date (the calendar's edge would overflow) shows today's seven days."""
    try:
        first = date.fromisoformat(request.args.get("from") or "")
    except ValueError:
        return today
    return first if abs(first - today) <= REACH else today


def doctor_dashboard(user):
    """Seven clinic days of appointments (from today, or ?from=), paged, by day, with arrows to the seven
    before and after; above them, earlier visits nobody closed yet (a full page only: paging the days
    does not need them)."""
    today = clinic_time.today()
    first = _first_day(today)
    last = first + timedelta(days=DAYS - 1)
    listing = appointment_reads.list_appointments(_actor(), start=first, end=last, per_page=PER_PAGE,
                                                  page=request.args.get("page", 1, type=int))
    days = [Day(day, list(visits)) for day, visits in groupby(listing.items, key=_local_day)]
    earlier = [] if fragments.from_widget("doctor-days") else appointment_reads.unclosed_visits(_actor())
    return fragments.render("main/dashboard_doctor.html", "doctor/_days.html", "doctor-days", user=user,
                            listing=listing, days=days, today=today, first_day=first, last_day=last,
                            earlier=earlier, before=first - timedelta(days=DAYS), after=last + timedelta(days=1))


def _visible(appointment_id: int) -> Appointment:
    try:
        return appointment_reads.get_appointment(_actor(), appointment_id)
    except NotFound:
        abort(404)


def _row(visit: Appointment, problem: str | None, done: str):
    """The visit's row for its own htmx request (422 with the service's refusal), else None."""
    row_id = f"visit-{visit.id}"
    if not fragments.from_widget(row_id):
        return None
    return fragments.render("main/dashboard_doctor.html", "doctor/_visit.html", row_id, 422 if problem else 200,
                            visit=visit, problem=problem, done=None if problem else done)


@bp.post("/appointments/<int:appointment_id>/mark")
@role_required(Role.DOCTOR, Role.ADMIN)
def mark(appointment_id: int):
    """Close a visit that has started as completed or no-show; before its start the service says no."""
    status = request.form.get("status", "")
    problem = None
    try:
        visit = appointments.mark(_actor(), appointment_id, status)
    except NotFound:
        abort(404)
    except (Conflict, Invalid) as error:
        problem = error.message if isinstance(error, Conflict) else "Choose completed or no-show."
        visit = _visible(appointment_id)
    answer = _row(visit, problem, DONE.get(status, ""))
    if answer is not None:
        return answer
    flash(problem or f"{visit.patient.full_name}, {clinic_time.format_local(visit.starts_at)}: {DONE[status]}",
          "error" if problem else "success")
    return redirect(url_for("main.dashboard"))


def _confirm_cancel_page(visit: Appointment):
    return render_template("doctor/cancel_visit.html", visit=visit, refusal=appointments.change_refusal(visit),
                           back=safe_next(request.args.get("next")))


@bp.get("/appointments/<int:appointment_id>/cancel")
@role_required(Role.DOCTOR, Role.ADMIN)
def confirm_cancel(appointment_id: int):
    """The confirmation step of a cancel for browsers without JavaScript (htmx asks with hx-confirm)."""
    return _confirm_cancel_page(_visible(appointment_id))


@bp.get("/slots/<int:slot_id>/appointment/cancel")
@role_required(Role.DOCTOR, Role.ADMIN)
def confirm_cancel_in_slot(slot_id: int):
    """From a booked slot of the availability calendar: a booked slot is only removed once its visit is cancelled."""
    try:
        return _confirm_cancel_page(appointment_reads.booked_in_slot(_actor(), slot_id))
    except NotFound:
        abort(404)


@bp.post("/appointments/<int:appointment_id>/cancel")
@role_required(Role.DOCTOR, Role.ADMIN)
def cancel(appointment_id: int):
    """Cancel a visit that has not begun (the service decides; the patient is told by mail): the time is free again."""
    problem = None
    try:
        visit = appointments.cancel(_actor(), appointment_id)
    except NotFound:
        abort(404)
    except Conflict as error:
        problem, visit = error.message, _visible(appointment_id)
    answer = _row(visit, problem, CANCELLED)
    if answer is not None:
        return answer
    flash(problem or f"{visit.patient.full_name}, {clinic_time.format_local(visit.starts_at)}: {CANCELLED}",
          "error" if problem else "success")
    return redirect(safe_next(request.form.get("next")))
