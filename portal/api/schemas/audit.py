"""The audit log as an admin reads it: who read or changed which patient's data, when, from where."""
import marshmallow as ma
from marshmallow import fields

from portal.api.schemas.common import PageArgsSchema, query_id_field
from portal.api.schemas.windows import WindowBound
from portal.services.audit import ACTIONS
from portal.services.records.access_log import SORTABLE


class AuditQuerySchema(PageArgsSchema):
    patient_id = query_id_field(metadata={"description": "Only events about this patient."})
    actor_id = query_id_field(metadata={"description": "Only events by this user."})
    action = fields.String(metadata={"enum": list(ACTIONS), "description": "Only this action (422 for others)."})
    emergency = fields.Boolean(metadata={"description": "true: only reads and changes under emergency access."})
    start = WindowBound("start", data_key="from")
    end = WindowBound("end", data_key="to")
    sort = fields.String(load_default="-at", metadata={
        "description": f"One of {', '.join(SORTABLE)}; prefix `-` for descending (ties: by id the same way). "
                       "Default `-at`, newest first. 422 for another field."})

    @ma.validates_schema
    def _ordered(self, data, **kwargs):
        if data.get("start") and data.get("end") and data["start"] >= data["end"]:
            raise ma.ValidationError("`from` must come before `to`.", "to")


class AuditActorSchema(ma.Schema):
    id = fields.Integer(required=True, metadata={"description": "The user id."})
    full_name = fields.String(required=True)
    role = fields.String(required=True)


class AccessLogEntrySchema(ma.Schema):
    """What a patient sees of an event about them."""

    at = fields.DateTime(required=True)
    actor = fields.Nested(AuditActorSchema, allow_none=True,
                          metadata={"description": "Who acted (null: the system, or an account since removed)."})
    action = fields.String(required=True, metadata={"enum": list(ACTIONS)})
    object_type = fields.String(required=True, metadata={"example": "medical_record"})
    object_id = fields.Integer(allow_none=True)
    emergency = fields.Boolean(required=True, metadata={"description": "Made under emergency access."})


class AuditEventSchema(AccessLogEntrySchema):
    id = fields.Integer(required=True)
    actor_id = fields.Integer(allow_none=True, metadata={"description": "The user who acted (null: the system)."})
    patient_id = fields.Integer(allow_none=True)
    ip = fields.String(allow_none=True)
    request_id = fields.String(allow_none=True)
