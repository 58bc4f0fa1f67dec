"""Emergency access ("break the glass") as a doctor opens it and as admins review it."""
import marshmallow as ma
from marshmallow import fields, validate

from portal.api.schemas.common import PageArgsSchema, json_boolean
from portal.models import utcnow
from portal.services.records.emergency import MAX_REASON


class EmergencyStartSchema(ma.Schema):
    reason = fields.String(required=True, metadata={
        "description": "Why you need this patient's record now: at least 10 characters. Shown to admins only."})


class EmergencyGrantSchema(ma.Schema):
    id = fields.Integer(required=True)
    patient_id = fields.Integer(required=True)
    started_at = fields.DateTime(required=True)
    expires_at = fields.DateTime(required=True, metadata={"description": "After this the patient is 404 again."})


class PersonSchema(ma.Schema):
    id = fields.Integer(required=True)
    full_name = fields.String(required=True)


class EmergencyReviewItemSchema(EmergencyGrantSchema):
    doctor = fields.Nested(PersonSchema, attribute="doctor_user", required=True,
                           metadata={"description": "The doctor's user account."})
    patient = fields.Nested(PersonSchema, required=True)
    reason = fields.String(required=True)
    active = fields.Method("_active", required=True, metadata={"type": "boolean"})
    reviewed_at = fields.DateTime(allow_none=True)
    reviewed_by = fields.Nested(PersonSchema, allow_none=True)
    review_note = fields.String(allow_none=True)

    def _active(self, grant) -> bool:
        return grant.expires_at > utcnow()


class EmergencyListArgsSchema(PageArgsSchema):
    reviewed = fields.Boolean(metadata={"description": "false: only those still to review; true: only reviewed ones."})


class EmergencyReviewSchema(ma.Schema):
    openapi_extra = {"minProperties": 1}

    reviewed = json_boolean(required=True, validate=validate.Equal(True, error="Only `true` can be set."))
    note = fields.String(allow_none=True, validate=validate.Length(max=MAX_REASON))
