"""The doctor's dashboard: today and the coming days in time order, grouped by clinic day, and closing a visit.

Each appointment is a self-contained row (id "visit-<id>"): "Mark completed" and "Mark no-show" are
button-only POSTs that swap the row; the service decides whether a visit may be closed yet and its
refusal is shown in the row. Without JavaScript the same buttons post and come back to the dashboard.
"""
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import groupby

from flask import Blueprint, abort, flash, redirect, request, url_for

from portal import auth_context
from portal.models import Appointment, Role
from portal.services import appointments, clinic_time
from portal.services.errors import Conflict, Invalid, NotFound
from portal.web import fragments
from portal.web.access import role_required

bp = Blueprint("doctor_day", __name__, url_prefix="/doctor")

DAYS = 7
PER_PAGE = 50
DONE = {"completed": "Marked completed.", "no_show": "Marked as a no-show."}


@dataclass(frozen=True)
class Day:
    day: date
    visits: list[Appointment]


def _actor():
    return auth_context.actor_for(auth_context.session_user())


def _local_day(visit: Appointment) -> date:
    return clinic_time.to_local(visit.starts_at).date()


def doctor_dashboard(user):
    """Appointments from the start of today to the end of the seventh day, paged, by clinic day; above
    them, earlier visits nobody closed yet (a full page only: paging the days does not need them)."""
    today = clinic_time.today()
    listing = appointments.list_appointments(_actor(), start=today, end=today + timedelta(days=DAYS - 1),
                                             per_page=PER_PAGE, page=request.args.get("page", 1, type=int))
    days = [Day(day, list(visits)) for day, visits in groupby(listing.items, key=_local_day)]
    earlier = [] if fragments.from_widget("doctor-days") else appointments.unclosed_visits(_actor())
    return fragments.render("main/dashboard_doctor.html", "doctor/_days.html", "doctor-days", user=user,
                            listing=listing, days=days, today=today, last_day=today + timedelta(days=DAYS - 1),
                            now=clinic_time.now(), earlier=earlier)


@bp.post("/appointments/<int:appointment_id>/mark")
@role_required(Role.DOCTOR, Role.ADMIN)
def mark(appointment_id: int):
    """Close a visit that has started as completed or no-show; before its start the service says no."""
    status = request.form.get("status", "")
    row_id = f"visit-{appointment_id}"
    problem = None
    try:
        visit = appointments.mark(_actor(), appointment_id, status)
    except NotFound:
        abort(404)
    except (Conflict, Invalid) as error:
        problem = error.message if isinstance(error, Conflict) else "Choose completed or no-show."
        try:
            visit = appointments.get_appointment(_actor(), appointment_id)
        except NotFound:
            abort(404)
    if fragments.from_widget(row_id):
        return fragments.render("main/dashboard_doctor.html", "doctor/_visit.html", row_id, 422 if problem else 200,
                                visit=visit, problem=problem, done=None if problem else DONE[status],
                                now=clinic_time.now())
    flash(problem or f"{visit.patient.full_name}, {clinic_time.format_local(visit.starts_at)}: {DONE[status]}",
          "error" if problem else "success")
    return redirect(url_for("main.dashboard"))
