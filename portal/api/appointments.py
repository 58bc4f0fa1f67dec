"""/appointments: booking (patients), reading (each their own), moving, closing and cancelling them.

Whoever may not see an appointment gets 404 for it, whatever they try. The answers to a reminder
(confirm, cancel) also take the signed token of the mail's link instead of a sign-in. Cancelling keeps the row
(status `cancelled`) and answers 200 with the envelope status `deleted` and the cancelled
appointment, so a client sees what remains. Every read and write is audited by the services.
"""
from flask import current_app, g, jsonify, request

from portal import auth_context
from portal.api import auth
from portal.api.blueprint import ApiBlueprint
from portal.api.database_json import row_json
from portal.api.envelope import created, deleted, ok, updated
from portal.api.holds import may_need_holds
from portal.api.idempotency import idempotent
from portal.api.openapi import LINK_SECURITY
from portal.api.paging import answer
from portal.api.schemas.booking import (
    AppointmentChangeSchema,
    AppointmentListArgsSchema,
    AppointmentSchema,
    BookingSchema,
    LinkAnswerSchema,
)
from portal.api.schemas.common import envelope
from portal.services.scheduling import appointment_reads, appointments, calendar_export, reminder_links

blp = ApiBlueprint("appointments", __name__, url_prefix="/appointments", description=(
    "Appointments: book a slot, read, reschedule, close or cancel them. Appointments you may not see are 404. "
    "DELETE cancels: the row stays with status `cancelled` and the answer (200, envelope status `deleted`) "
    "carries it. Every read and change is written to the audit log."))


@blp.post("")
@blp.auth()
@idempotent(blp)
@blp.arguments(BookingSchema)
@blp.response(201, envelope(AppointmentSchema))
@blp.fails_with(403, 404, 409, 422)
@may_need_holds(blp)
def book(body):
    """Book a slot: a patient for themselves, or staff for a patient at the desk.

    **A patient** books from their hold (`hold_id`) or straight from a free slot (`slot_id`). 400
    `missing_field` without either; 422 with both, or for a slot in the past; 409 `hold_expired` (no such
    live hold: pick the slot again), `slot_held` (someone else holds it), `slot_booked`,
    `appointment_overlap` (you have another appointment then); 403 when the hold is someone else's, or when
    a patient sends `patient_id`; 404 for no such slot. The booking rules bind patients (422, envelope
    status `invalid`, with a sentence to show): `too_soon` (sooner than the doctor's minimum notice),
    `too_far` (beyond the horizon), `no_show_limit` (too many missed visits in 12 months: call the clinic).

    **Desk booking**: `{slot_id, patient_id}` by the doctor of that slot (403 for another doctor's slot) or an
    admin, for a patient they see (404 otherwise; 403 for a patient a doctor sees only through emergency
    access). Same conflicts as above (`slot_held` while anyone holds the slot); the booking rules do not
    apply; the patient gets the same confirmation mail. 400 `missing_field` (`slot_id`) without a slot, 422
    with a `hold_id`. Staff without `patient_id` are 403: they book for patients, not for themselves.

    The answer has status `scheduled`. Of many bookings of one slot at once exactly one wins; the database
    decides, so booking by `slot_id` works even while holds are unavailable (booking by `hold_id` is then 503).
    """
    actor = auth.actor()
    if "patient_id" in body:
        appointment = appointments.book_for(actor, patient_id=body["patient_id"], slot_id=body.get("slot_id"),
                                            hold_id=body.get("hold_id"), reason=body.get("reason"))
    else:
        appointment = appointments.book(actor, hold_id=body.get("hold_id"), slot_id=body.get("slot_id"),
                                        reason=body.get("reason"))
    return created(appointment, "Appointment booked.")


@blp.get("")
@blp.auth()
@blp.arguments(AppointmentListArgsSchema, location="query")
@blp.response(200, envelope(AppointmentSchema, many=True, paged=True))
@blp.fails_with(422)
def list_appointments(args):
    """Your appointments by start time, paged: a patient's own, a doctor's with them, all for an admin.

    `status` filters by status; `from`/`to` by start (dates are whole clinic days, both included).
    """
    result = appointment_reads.appointment_rows(auth.actor(), status=args.get("status"), start=args.get("start"),
                                                end=args.get("end"), page=args["page"], per_page=args["per_page"],
                                                item_json=row_json(AppointmentSchema))
    return answer(result, "Appointments.")


@blp.get("/<id:appointment_id>")
@blp.auth()
@blp.response(200, envelope(AppointmentSchema))
@blp.fails_with(404)
def show(appointment_id):
    """One appointment you may see (404 otherwise)."""
    return ok(appointment_reads.get_appointment(auth.actor(), appointment_id), "Appointment.")


@blp.get("/<id:appointment_id>.ics")
@blp.auth()
@blp.response(200, {"type": "string"}, content_type="text/calendar",
              description="An iCalendar file with one VEVENT in clinic time (with its VTIMEZONE); its UID "
                          "stays the same across reschedules, and a cancelled one has STATUS:CANCELLED.")
@blp.fails_with(404)
def calendar(appointment_id):
    """One appointment you may see as a calendar file (404 otherwise), offered as a download. The UID is
    stable; SEQUENCE counts the changes since booking (each move, the cancel), so importing it again updates
    the event."""
    body, name = calendar_export.appointment_calendar(auth.actor(), appointment_id)
    response = current_app.response_class(body, mimetype="text/calendar")
    response.content_type = calendar_export.MEDIA_TYPE
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@blp.patch("/<id:appointment_id>")
@blp.auth()
@blp.arguments(AppointmentChangeSchema)
@blp.response(200, envelope(AppointmentSchema))
@blp.fails_with(403, 404, 409, 422)
def change(body, appointment_id):
    """Reschedule (`{slot_id}`) or close (`{status}`) an appointment, one change per request.

    **Reschedule**: the patient owner, the doctor or an admin moves an upcoming appointment to another
    free slot of the same doctor in one transaction; status becomes `rescheduled` and the old slot is
    free again. 422 for the same slot, another doctor's or a past one; 409 `slot_held`, `slot_booked`,
    `appointment_overlap`, `already_started`, `appointment_closed`, `already_cancelled`. A patient is
    bound by the booking rules: 422 `too_late` closer to the start than the change cut-off (the message
    says whom to call), `too_soon` / `too_far` for the new slot; staff are not.
    **Close**: `completed` or `no_show`, by the doctor or an admin (403 for patients) once it has
    started (409 `not_started` before); either may later be corrected to the other.
    An empty body is 400 `missing_field` (slot_id, status); both at once is 422.
    """
    actor = auth.actor()
    if "slot_id" in body:
        return updated(appointments.reschedule(actor, appointment_id, body["slot_id"]), "Appointment moved.")
    return updated(appointments.mark(actor, appointment_id, body["status"]), "Appointment closed.")


@blp.delete("/<id:appointment_id>")
@blp.auth()
@blp.response(200, envelope(AppointmentSchema))
@blp.fails_with(404, 409, 422)
def cancel(appointment_id):
    """Cancel an upcoming appointment (the patient owner, the doctor or an admin): its slot is free again.

    The row stays with status `cancelled`; the answer carries it. 409 `already_cancelled`,
    `already_started` (mark it completed or no_show instead), `appointment_closed`. A patient cannot cancel
    closer to the start than the change cut-off: 422 `too_late`, whose message says whom to call; staff can.
    """
    return deleted(appointments.cancel(auth.actor(), appointment_id), "Appointment cancelled.")


def _answering_actor(appointment_id: int, action: str):
    """Who answers: the reminder link's `?token=` when present (it alone decides), else the signed-in caller."""
    raw = request.args.get("token")
    if raw is not None:
        return reminder_links.link_actor(raw, action, appointment_id, auth_context.client_ip(), g.get("request_id"))
    auth.identify()
    return auth.actor()


def _answer(actor, appointment, make, message: str):
    """The answer to a reminder: through a link's token without health information (LinkAnswerSchema,
    as the mail itself), signed in the whole appointment."""
    if actor.link_patient_id is not None:
        return jsonify(make(LinkAnswerSchema().dump(appointment), message))
    return make(appointment, message)


@blp.post("/<id:appointment_id>/confirm")
@blp.doc(security=LINK_SECURITY)
@blp.response(200, envelope(AppointmentSchema))
@blp.fails_with(401, 403, 404, 409)
def confirm(appointment_id):
    """"I'll come": the patient confirms an upcoming appointment; `confirmed_at` is set (envelope `updated`).

    The patient owner signed in, or anyone with the `?token=` of the reminder mail's "I'll come" link (its last
    path segment), without signing in; with a token, the token alone decides. Confirming again keeps the first
    `confirmed_at`. 401 `unauthenticated` without a sign-in or for a token that is not valid (a cancel link's
    token included), 401 `token_expired` for a token whose appointment has begun or has moved to another time
    (a new reminder brings a new link); 404 for an appointment you may not see or another appointment's
    token; 403 for staff (the answer is the patient's); 409 `already_cancelled`, `already_started`,
    `appointment_closed`. Answered through a token, the appointment comes without `reason` and without the
    doctor's `speciality`: the link travels in a plain mail, which carries no health information either.
    """
    actor = _answering_actor(appointment_id, "confirm")
    return _answer(actor, appointments.confirm(actor, appointment_id), updated,
                   "Thank you: the appointment is confirmed.")


@blp.post("/<id:appointment_id>/cancel")
@blp.doc(security=LINK_SECURITY)
@blp.response(200, envelope(AppointmentSchema))
@blp.fails_with(401, 403, 404, 409, 422)
def cancel_by_patient(appointment_id):
    """The patient cancels from a reminder: the same cancel as DELETE, with its rules, answered the same way
    (200, envelope `deleted`, the cancelled appointment).

    The patient owner signed in, or anyone with the `?token=` of the reminder's "Cancel" link, without signing
    in; with a token, the token alone decides and the cancel is the patient's (a patient's change cut-off
    applies: 422 `too_late`, call the clinic). 401 `unauthenticated` / `token_expired` as for confirm; 404 for
    an appointment you may not see or another appointment's token; 403 for staff (they use DELETE); 409
    `already_cancelled`, `already_started`, `appointment_closed`. Through a token without `reason` and the
    doctor's `speciality`, as for confirm.
    """
    actor = _answering_actor(appointment_id, "cancel")
    return _answer(actor, appointments.cancel_as_patient(actor, appointment_id), deleted, "Appointment cancelled.")
