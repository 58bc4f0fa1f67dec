"""Emergency access ("break the glass"): a doctor opens a patient they cannot see; admins review every case.

While a grant lasts (EMERGENCY_ACCESS_MINUTES, default 60) the patient, their records, images and
appointments are visible to that doctor as if assigned; every read is flagged `emergency` in the audit
log and the patient's access log. The patient (when they have an email) and every admin get a mail.
"""
from portal.api import auth
from portal.api.blueprint import ApiBlueprint
from portal.api.envelope import created, updated
from portal.api.paging import page_of
from portal.api.schemas.common import envelope
from portal.api.schemas.emergency import (
    EmergencyGrantSchema,
    EmergencyListArgsSchema,
    EmergencyReviewItemSchema,
    EmergencyReviewSchema,
    EmergencyStartSchema,
)
from portal.models import Role
from portal.services.records import emergency

blp = ApiBlueprint("emergency_access", __name__, url_prefix="", description=(
    "Break the glass: emergency access to a patient for a limited time, always recorded, mailed and reviewed."))


@blp.post("/patients/<id:patient_id>/emergency-access")
@blp.auth(Role.DOCTOR)
@blp.arguments(EmergencyStartSchema)
@blp.response(201, envelope(EmergencyGrantSchema))
@blp.fails_with(404, 422)
def start(body, patient_id):
    """Open a patient for EMERGENCY_ACCESS_MINUTES (doctors only); give the reason (10+ characters).

    400 `missing_field` without a reason, 422 for a shorter one; 404 for an unknown or archived patient.
    A doctor who already sees the patient may open it too: the reads are then flagged all the same.
    """
    grant = emergency.start(auth.actor(), patient_id, body["reason"])
    return created(grant, "Emergency access granted; everything you open is recorded.")


@blp.get("/admin/emergency-access")
@blp.auth(Role.ADMIN)
@blp.arguments(EmergencyListArgsSchema, location="query")
@blp.response(200, envelope(EmergencyReviewItemSchema, many=True, paged=True))
def review_queue(args):
    """Every emergency access, newest first (admins); `reviewed=false` shows the ones still to review."""
    return page_of(emergency.grants_query(auth.actor(), args.get("reviewed")), args, "Emergency accesses.")


@blp.patch("/admin/emergency-access/<id:grant_id>")
@blp.auth(Role.ADMIN)
@blp.arguments(EmergencyReviewSchema)
@blp.response(200, envelope(EmergencyReviewItemSchema))
@blp.fails_with(404, 409, 422)
def review(body, grant_id):
    """Mark an emergency access reviewed: `{"reviewed": true, "note": "..."}` (note optional, up to 2000
    characters). 409 `already_reviewed` for one reviewed before: the first review stays on record."""
    grant = emergency.review(auth.actor(), grant_id, body.get("note"))
    return updated(grant, "The emergency access was marked reviewed.")
