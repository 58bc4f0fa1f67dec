"""/doctors/{id}/slots and /slots/{id}: a doctor's availability as anyone sees it and as they publish it.

Slot states come from services.slot_lists: `free`, `held` (a patient holds it for a few minutes),
`booked`, and `past` for a slot that started without a booking. Past slots are shown rather than
hidden so a doctor's day reads complete when `from` reaches back, but they are never bookable and
`?status=` never selects them. Withdrawn slots are not shown at all.
"""
from portal.api import auth
from portal.api.blueprint import ApiBlueprint
from portal.api.database_json import row_json
from portal.api.envelope import created, deleted, ok, ok_items
from portal.api.schemas.booking import DoctorSlotsArgsSchema, SlotCreationResultSchema, SlotCreationSchema, SlotSchema
from portal.api.schemas.common import MessageEnvelopeSchema, envelope
from portal.services.scheduling import availability, slot_lists

blp = ApiBlueprint("slots", __name__, url_prefix="", description=(
    "Doctors' slots: read their states, publish one slot or a weekly plan, withdraw one. States: `free`, "
    "`held` (a patient holds it for a few minutes), `booked`, and `past` (started without a booking; shown "
    "when the window reaches back, never bookable, never selected by `?status=`). Slot lists are bounded by "
    "their window (at most 92 days) and not paged."))


@blp.get("/doctors/<id:doctor_id>/slots")
@blp.doc(security=[{}, {"bearerAuth": []}, {"cookieSession": []}])  # anonymous too
@blp.arguments(DoctorSlotsArgsSchema, location="query")
@blp.response(200, envelope(SlotSchema, many=True))
@blp.fails_with(401, 404, 422)
def doctor_slots(args, doctor_id):
    """A doctor's slots starting in [from, to) (default the next 14 days, at most 92), in time order, with states.

    Not paged: the window bounds the list. Who holds a held slot is never shown. Anyone may read it; to
    patients and anonymous callers, free slots outside the booking rules (sooner than the doctor's minimum
    notice, beyond the horizon) are not shown at all, since they cannot book them. The doctor themself and
    admins (with a token or session) see every slot, as they book for patients outside the rules; an invalid
    token is 401.
    """
    window, viewer = (args.get("start"), args.get("end"), args.get("status")), auth.optional_actor().user
    written = slot_lists.listed_slots_json(doctor_id, *window, viewer, row_json(SlotSchema))
    if written is not None:  # PostgreSQL wrote each slot's JSON, its state added: no rows to load nor dump
        return ok_items(written, "Slots.")
    return ok(slot_lists.doctor_slots(doctor_id, *window, viewer=viewer), "Slots.")


@blp.post("/doctors/<id:doctor_id>/slots")
@blp.auth()
@blp.arguments(SlotCreationSchema)
@blp.response(201, envelope(SlotCreationResultSchema))
@blp.alt_response(200, schema=envelope(SlotCreationResultSchema),
                  description="A weekly plan of which every slot was skipped: nothing new exists.")
@blp.fails_with(403, 404, 409, 422)
def publish(body, doctor_id):
    """Publish slots (that doctor or an admin; 403 for anyone else): one slot, or a weekly plan.

    **One slot**: `{starts_at, duration}`; 409 `slot_overlap` when it overlaps a live slot of the doctor,
    422 when it is in the past or more than 730 days ahead. **Weekly plan**: `{from_date, to_date, weekdays,
    start_time, end_time, duration}` in clinic time, DST-correct (09:00 stays 09:00 on the wall clock;
    times that do not exist in the spring gap are left out), `to_date` at most 730 days ahead. Plan slots
    that overlap live ones, or have already started, are skipped and counted in `skipped`; the same plan
    sent twice at once (a double click) publishes each slot once, the later request counting them as
    skipped. 201 with the new slots; 200 when a plan made none. 422 lists every field problem at once,
    including a plan that could make nothing at all (none of its weekdays in the range: `weekdays`; a
    window shorter than one slot: `duration`).
    """
    actor = auth.actor()
    if "starts_at" in body:
        slot = availability.add_slot(actor, doctor_id, body["starts_at"], body["duration"])
        return created({"slots": [slot], "skipped": 0}, "Slot published.")
    result = availability.add_weekly_plan(actor, doctor_id, **body)
    answer = {"slots": result.created, "skipped": result.skipped}
    if not result.created:
        # an explicit 200: a bare dict would take the decorator's 201, which promises something new
        return ok(answer, "Every slot of the plan was skipped; nothing was published."), 200
    return created(answer, f"{len(result.created)} slots published, {result.skipped} skipped.")


@blp.delete("/slots/<id:slot_id>")
@blp.auth()
@blp.response(200, MessageEnvelopeSchema)
@blp.fails_with(403, 404, 409)
def withdraw(slot_id):
    """Withdraw a slot (its doctor or an admin; 403 for anyone else): it is no longer offered.

    409 `slot_booked` while an appointment takes it (cancel or move that first). A hold on it stops
    mattering: booking a withdrawn slot is 404.
    """
    availability.remove_slot(auth.actor(), slot_id)
    return deleted(None, "Slot withdrawn.")
