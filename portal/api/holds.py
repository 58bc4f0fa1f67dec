"""/holds: a patient keeps a slot for a few minutes (HOLD_TTL_SECONDS) while confirming it.

Holds live in Redis. When Redis cannot be reached, the hold services say so (Unavailable, mapped to
503 `holds_unavailable` by errors.py, never 500): booking straight by slot id still works then,
because the database alone decides who gets a slot.
"""
from flask_smorest import Blueprint

from portal.api import auth
from portal.api.blueprint import ApiBlueprint
from portal.api.envelope import created, deleted
from portal.api.idempotency import idempotent
from portal.api.schemas.booking import HoldRequestSchema, HoldSchema
from portal.api.schemas.common import ErrorEnvelopeSchema, MessageEnvelopeSchema, envelope
from portal.models import Role
from portal.services.scheduling import holds

blp = ApiBlueprint("holds", __name__, url_prefix="/holds",
                   description="Holding a slot for a few minutes before booking it (patients).")

def may_need_holds(blueprint: Blueprint):
    """Document the 503 of an endpoint that cannot work without the hold store."""
    return blueprint.alt_response(503, schema=ErrorEnvelopeSchema, description=(
        "The hold store (Redis) cannot be reached (`holds_unavailable`), or, for a request with an "
        "Idempotency-Key, the key store (`service_unavailable`); retry after `Retry-After` seconds."))


@blp.post("")
@blp.auth(Role.PATIENT)
@idempotent(blp)
@blp.arguments(HoldRequestSchema)
@blp.response(201, envelope(HoldSchema))
@blp.fails_with(404, 409, 422)
@may_need_holds(blp)
def hold(body):
    """Hold a free slot for yourself (patients) until `expires_at`; book it with POST /appointments {hold_id}.

    409 `slot_held` "Slot is temporarily locked." (someone else holds it), 409 `slot_booked` "Slot is
    already booked.", 409 `too_many_holds` (a patient holds at most 3 slots at a time), 422 for a slot in
    the past, 404 for no such slot. Asking again for a slot you already hold gives your hold back.
    The booking rules apply as for booking (422, envelope status `invalid`): `too_soon`, `too_far`,
    `no_show_limit`.
    """
    placed = holds.place_hold(auth.actor(), body["slot_id"])
    return created(placed, "Slot held.")


@blp.delete("/<string:hold_id>")
@blp.auth(Role.PATIENT)
@blp.response(200, MessageEnvelopeSchema)
@blp.fails_with(404)
@may_need_holds(blp)
def release(hold_id):
    """Give your hold back at once; the slot is free for others. Someone else's or an expired hold is 404."""
    holds.release_hold(auth.actor(), hold_id)
    return deleted(None, "Hold released.")
