"""The pages a reminder mail's links open, without signing in: "I'll come" (/r/confirm/<token>) and
"Cancel" (/r/cancel/<token>).

A link only opens a page (mail scanners and previews follow links; nothing changes on a GET): it
shows the appointment (time in clinic time with the zone, the doctor's name; nothing of health) and
one button that POSTs (CSRF as every form; an anonymous visitor's session carries the token). The
answer is a plain page: "Thanks, we expect you on …" or "Cancelled; book again here". When the
appointment can no longer be cancelled online (the change cut-off, its start) the page says so and
whom to call. A damaged link is a 404 page, one whose time has come or moved a 410 page. What the
link may do is reminder_links' and the appointment services' decision, as for the API.
"""
from flask import Blueprint, g, make_response, render_template

from portal import auth_context
from portal.services.errors import Conflict, DomainError, NotFound, Unauthenticated
from portal.services.scheduling import appointments, booking_rules, reminder_links
from portal.web.forms import PortalForm

bp = Blueprint("reminder_pages", __name__, url_prefix="/r")

TOKEN = "<string(maxlength=200):token>"
ACTIONS = ("confirm", "cancel")
ENDED = {
    "already_cancelled": "This appointment has been cancelled.",
    "appointment_closed": "This visit has taken place.",
    "already_started": "This appointment's time has come.",
}


class AnswerForm(PortalForm):
    """The page's one button; the form is there for its CSRF token."""


def _page(action: str, status: int = 200, **context):
    response = make_response(render_template("reminders/answer.html", action=action, form=AnswerForm(),
                                             call_clinic=booking_rules.call_the_clinic(), **context), status)
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in this page's address
    return response


def _broken_link(action: str, error: DomainError):
    """A link that does not work (any more): 404 for one that never did, 410 for one whose time is over."""
    if isinstance(error, Unauthenticated) and error.code == "token_expired":
        return _page(action, 410, state="expired", message=error.message)
    return _page(action, 404, state="invalid", message=reminder_links.NOT_VALID)


@bp.get(f"/confirm/{TOKEN}", defaults={"action": "confirm"})
@bp.get(f"/cancel/{TOKEN}", defaults={"action": "cancel"})
def show(action: str, token: str):
    """The appointment and the one button, or why the link cannot help (any more)."""
    try:
        _, appointment = reminder_links.open_link(token, action, auth_context.client_ip(), g.get("request_id"))
    except (Unauthenticated, NotFound) as error:
        return _broken_link(action, error)
    refusal = appointments.change_refusal(appointment)
    if refusal is not None:
        return _page(action, state="ended", appointment=appointment, message=ENDED.get(refusal.code, refusal.message))
    return _page(action, state="ask", appointment=appointment)


@bp.post(f"/confirm/{TOKEN}", defaults={"action": "confirm"})
@bp.post(f"/cancel/{TOKEN}", defaults={"action": "cancel"})
def answer(action: str, token: str):
    """Confirm or cancel as the appointment's patient; a refusal is said on the page (422 for the cut-off)."""
    try:
        appointment = reminder_links.verify(token, action)
    except (Unauthenticated, NotFound) as error:
        return _broken_link(action, error)
    actor = reminder_links.actor_for(appointment, auth_context.client_ip(), g.get("request_id"))
    try:
        if action == "confirm":
            appointment = appointments.confirm(actor, appointment.id)
        else:
            appointment = appointments.cancel_as_patient(actor, appointment.id)
    except Conflict as error:
        return _page(action, 409, state="ended", appointment=appointment,
                     message=ENDED.get(error.code, error.message))
    except DomainError as error:  # the patients' change cut-off (too_late), or another rule of the services
        return _page(action, 422, state="too_late" if error.code == "too_late" else "refused",
                     appointment=appointment, message=error.message)
    return _page(action, state="done", appointment=appointment)
