"""One's appointments: the patient dashboard's lists, moving one to another time, cancelling it, the .ics file.

Each upcoming appointment is a self-contained row (id "appointment-<id>"): cancelling from it answers
with the upcoming list without it (and a note saying so) and the history with it, out of band.
Without JavaScript "Cancel" opens a confirmation page. "Reschedule" opens the doctor's week grid, where
a picked time is asked about once more before anything moves. Both come back to the dashboard, and
both say plainly when the appointment can no longer change (cancelled, begun, closed). Who may see or
change an appointment is the service's decision: anything it does not show is a 404 here.
"""
from flask import Blueprint, Response, abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import login_required

from portal import auth_context
from portal.services import clinic_time
from portal.services.errors import Conflict, Invalid, NotFound, RuleRefusal
from portal.services.scheduling import appointment_reads, appointments, booking_rules, calendar_export
from portal.web import fragments, waitlist_pages, week_grid
from portal.web.access import safe_next

bp = Blueprint("appointments", __name__, url_prefix="/appointments")

PER_PAGE = 10
LISTS = {"upcoming-list": "appointments/_upcoming.html", "past-list": "appointments/_past.html"}
UNCHANGEABLE = {
    "already_cancelled": "It has been cancelled.",
    "appointment_closed": "The visit has taken place and is closed.",
    "already_started": "Its time has already begun.",
}
RESCHEDULE_TAKEN = {
    "slot_held": "Someone else is booking that time right now. Pick another time.",
    "slot_booked": "That time was just booked. Pick another time.",
}


@bp.before_request
@login_required
def _signed_in_only():
    """Every page here is about the signed-in person's appointments."""


def _actor():
    return auth_context.actor_for(auth_context.session_user())


def _list_url(name: str, number: int) -> str:
    """The dashboard with one list on another page, the other list where it was."""
    return url_for("main.dashboard", **{**request.args.to_dict(), name: number})


def patient_dashboard(user):
    """Upcoming appointments (active ones ahead, soonest first) and the rest - past or cancelled, latest
    first - each paged on its own."""
    element_id = next((name for name in LISTS if fragments.from_widget(name)), None)
    if element_id is not None:
        return fragments.render("main/dashboard_patient.html", LISTS[element_id], element_id, user=user, **_lists())
    return fragments.render("main/dashboard_patient.html", LISTS["upcoming-list"], "upcoming-list", user=user,
                            **_lists(), **waitlist_pages.waitlist_section(user))


def _lists() -> dict:
    """Both lists of the dashboard, each on the page its query parameter asks for."""
    actor = _actor()
    upcoming = appointment_reads.upcoming(actor, per_page=PER_PAGE, page=request.args.get("upcoming_page", 1, type=int))
    past = appointment_reads.history(actor, per_page=PER_PAGE, page=request.args.get("past_page", 1, type=int))
    return {"upcoming": upcoming, "past": past, "list_url": _list_url}


def _visible(appointment_id: int):
    try:
        return appointment_reads.get_appointment(_actor(), appointment_id)
    except NotFound:
        abort(404)


@bp.get("/<id:appointment_id>.ics")
def calendar_file(appointment_id: int):
    """The appointment for one's calendar app, as a download that no shared cache keeps."""
    try:
        body, filename = calendar_export.appointment_calendar(_actor(), appointment_id)
    except NotFound:
        abort(404)
    return Response(body, content_type=calendar_export.MEDIA_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "Cache-Control": "private, no-store"})


def _unchangeable(appointment):
    """A page saying plainly why a cancelled, started or closed appointment no longer changes, or why the
    patient may no longer change it online (the change cut-off, with whom to call); None when it can change."""
    refusal = appointments.change_refusal(appointment)
    online = refusal is None
    refusal = refusal or booking_rules.change_refusal(_actor(), appointment)
    if refusal is None:
        return None
    response = make_response(render_template("appointments/unchangeable.html", appointment=appointment,
                                             reason=UNCHANGEABLE.get(refusal.code, refusal.message), online=online))
    if fragments.from_widget(week_grid.GRID_ID):  # the week arrows of a reschedule page open while it was cancelled
        response.headers["HX-Redirect"] = request.full_path.rstrip("?")
    return response


@bp.get("/<id:appointment_id>/cancel")
def confirm_cancel(appointment_id: int):
    """The confirmation step of a cancel for browsers without JavaScript (htmx asks with hx-confirm)."""
    appointment = _visible(appointment_id)
    return _unchangeable(appointment) or render_template("appointments/cancel.html", appointment=appointment)


@bp.post("/<id:appointment_id>/cancel")
def cancel(appointment_id: int):
    row_id = f"appointment-{appointment_id}"
    problem = None
    try:
        appointment = appointments.cancel(_actor(), appointment_id)
    except NotFound:
        abort(404)
    except (Conflict, RuleRefusal) as error:  # RuleRefusal: too late to cancel online, call the clinic
        problem, appointment = error.message, _visible(appointment_id)
    if fragments.from_widget(row_id) and problem:
        return fragments.render("main/dashboard_patient.html", "appointments/_row.html", row_id, 422,
                                appointment=appointment, problem=problem)
    if fragments.from_widget(row_id):  # the visit leaves "Upcoming" at once and shows up in the history
        when = clinic_time.format_local(appointment.starts_at)
        notice = f"Cancelled. The time is free for others again. It was {when} with {appointment.doctor.full_name}."
        response = make_response(render_template("appointments/_cancelled.html", notice=notice, **_lists()))
        response.headers.update({"HX-Retarget": "#upcoming-list", "HX-Reswap": "outerHTML"})
        response.vary.update(fragments.VARY)
        return response
    flash(problem or f"Your appointment on {clinic_time.format_local(appointment.starts_at)} is cancelled.",
          "error" if problem else "success")
    return redirect(url_for("main.dashboard"))


def _own(appointment) -> bool:
    """Is the signed-in person the appointment's patient? Staff moving a visit read whose it is, not "your"."""
    user = auth_context.session_user()
    return user is not None and appointment.patient.user_id == user.id


def _reschedule_page(appointment, week, status: int = 200, message: str | None = None, picked_id: int | None = None):
    """The week to pick a new time in; with `picked_id`, the question whether to move there (if it is free)."""
    back = _back()
    grid = week_grid.build(appointment.doctor_id, week, "appointments.reschedule",
                           {"appointment_id": appointment.id, **({"next": back} if back else {})},
                           from_this_week=True)
    picked = next((view.slot for day in grid.days for view in day.views
                   if view.slot.id == picked_id and view.state == "free"), None)
    if picked_id is not None and picked is None and message is None:
        message, status = RESCHEDULE_TAKEN["slot_booked"], 409
    return fragments.render("appointments/reschedule.html", "appointments/_grid.html", week_grid.GRID_ID, status,
                            appointment=appointment, grid=grid, message=message, picked=picked, back=back,
                            back_url=safe_next(back), own=_own(appointment))


def _back() -> str | None:
    """?next= (or the form's): the page a move started from (a doctor's absence), where it returns; else none."""
    target = request.values.get("next")
    return target if target and safe_next(target) == target else None


@bp.get("/<id:appointment_id>/reschedule")
def reschedule(appointment_id: int):
    """The doctor's week (the appointment's own week unless ?week= says otherwise) to pick a new time in;
    ?slot_id= is the time picked, which the page asks about before anything moves."""
    appointment = _visible(appointment_id)
    if (notice := _unchangeable(appointment)) is not None:
        return notice
    if request.args.get("week"):
        week = week_grid.requested_week(request.args["week"])
    else:
        week = clinic_time.week_of(clinic_time.to_local(appointment.starts_at).date())
    return _reschedule_page(appointment, week, picked_id=request.args.get("slot_id", type=int))


@bp.post("/<id:appointment_id>/reschedule")
def move(appointment_id: int):
    """Move to the picked and confirmed slot (the service swaps atomically); a lost race keeps the week."""
    appointment = _visible(appointment_id)
    week = week_grid.requested_week(request.form.get("week"))
    slot_id = request.form.get("slot_id", type=int)
    if slot_id is None:
        abort(400)
    try:
        moved = appointments.reschedule(_actor(), appointment_id, slot_id)
    except NotFound:
        return _reschedule_page(appointment, week, 409, "That time is no longer offered. Pick another time.")
    except Invalid as error:
        message = " ".join(problem for problems in error.fields.values() for problem in problems)
        return _reschedule_page(appointment, week, 422, message)
    except RuleRefusal as error:
        if error.code == "too_late":  # the cut-off passed while the page was open
            return _unchangeable(appointment)
        return _reschedule_page(appointment, week, 422, error.message)  # too_soon / too_far: pick another
    except Conflict as error:
        if error.code in RESCHEDULE_TAKEN or error.code == "appointment_overlap":
            return _reschedule_page(appointment, week, 409, RESCHEDULE_TAKEN.get(error.code, error.message))
        flash(error.message, "error")  # the appointment itself can no longer move (started, closed, cancelled)
        return redirect(safe_next(_back()))
    whose = "Your appointment" if _own(moved) else f"The appointment of {moved.patient.full_name}"
    flash(f"{whose} is moved to {clinic_time.format_local(moved.starts_at)}.", "success")
    return redirect(safe_next(_back()))
