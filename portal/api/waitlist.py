"""/waitlist: a patient waits for a time with a doctor or a speciality; a freed slot that fits is offered.

Patients only, each their own entries (staff get 403; someone else's entry is 404). An offer is a hold
of WAITLIST_OFFER_MINUTES on the slot, shown in the entry's `offer` and mailed with a link; POST
/appointments {hold_id} books it and ends the entry (`booked`); unbooked, it passes to the next patient.
"""
from portal.api import auth
from portal.api.blueprint import ApiBlueprint
from portal.api.envelope import created, deleted
from portal.api.idempotency import idempotent
from portal.api.paging import answer
from portal.api.schemas.common import PageArgsSchema, envelope
from portal.api.schemas.waitlist import WaitlistEntrySchema, WaitlistJoinSchema
from portal.models import Role
from portal.services.scheduling import waitlist

blp = ApiBlueprint("waitlist", __name__, url_prefix="/waitlist", description=(
    "The waitlist (patients; doctors and admins get 403): tell me when a time opens with a doctor or in a "
    "speciality within a window, optionally on some weekdays and between clinic times of day. When a matching "
    "slot becomes free (a cancellation, a reschedule, new slots), the patient waiting longest gets it held for "
    "`WAITLIST_OFFER_MINUTES` (default 30) with a mail; the entry shows the `offer`, POST /appointments "
    "{hold_id} books it, and unbooked it passes to the next. Nobody is offered the same slot twice. Times "
    "already free when you join are not offered: book them on the doctor's page."))


@blp.post("")
@blp.auth(Role.PATIENT)
@idempotent(blp)
@blp.arguments(WaitlistJoinSchema)
@blp.response(201, envelope(WaitlistEntrySchema))
@blp.fails_with(404, 409, 422)
def join(body):
    """Join the waitlist for a doctor (`doctor_id`) or a speciality, within `from`..`to`.

    400 `missing_field` without doctor_id and speciality, or without from/to; 422 `validation_error` naming
    every bad field (both doctor_id and speciality, a window already past or ending before it starts,
    weekdays outside 0..6, earliest_time not before latest_time); 404 for a doctor the directory does not
    list or a speciality no listed doctor has; 409 `too_many_entries` at `WAITLIST_MAX_ENTRIES` (default 5)
    live entries. Honours `Idempotency-Key`.
    """
    view = waitlist.join(auth.actor(), doctor_id=body.get("doctor_id"), speciality=body.get("speciality"),
                         start=body["start"], end=body["end"], weekdays=body.get("weekdays"),
                         earliest_time=body.get("earliest_time"), latest_time=body.get("latest_time"))
    return created(view, "You are on the waitlist.")


@blp.get("")
@blp.auth(Role.PATIENT)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, envelope(WaitlistEntrySchema, many=True, paged=True))
@blp.fails_with(422)
def list_entries(args):
    """Your waitlist entries, newest first, paged, each with its open `offer` (or null) and how many wait.

    Entries whose window has passed show as `expired`.
    """
    return answer(waitlist.list_entries(auth.actor(), page=args["page"], per_page=args["per_page"]),
                  "Your waitlist.")


@blp.delete("/<id:entry_id>")
@blp.auth(Role.PATIENT)
@blp.response(200, envelope(WaitlistEntrySchema))
@blp.fails_with(404, 409)
def leave(entry_id):
    """Leave the waitlist: the entry stays with status `cancelled` and the answer carries it. An open offer
    is withdrawn and its slot goes to the next patient. 409 `entry_ended` when it has already ended; 404
    for an entry that is not yours."""
    return deleted(waitlist.leave(auth.actor(), entry_id), "You left the waitlist.")
