"""The audit log as an admin reads it: who read or changed which patient's data, when, from where."""
import marshmallow as ma
from marshmallow import fields

from portal.api.schemas.common import PageArgsSchema, query_id_field
from portal.api.schemas.windows import WindowBound


class AuditQuerySchema(PageArgsSchema):
    patient_id = query_id_field(metadata={"description": "Only events about this patient."})
    actor_id = query_id_field(metadata={"description": "Only events by this user."})
    start = WindowBound("start", data_key="from")
    end = WindowBound("end", data_key="to")

    @ma.validates_schema
    def _ordered(self, data, **kwargs):
        if data.get("start") and data.get("end") and data["start"] >= data["end"]:
            raise ma.ValidationError("`from` must come before `to`.", "to")


class AuditEventSchema(ma.Schema):
    id = fields.Integer(required=True)
    at = fields.DateTime(required=True)
    actor_id = fields.Integer(allow_none=True, metadata={"description": "The user who acted (null: the system)."})
    action = fields.String(required=True, metadata={"enum": ["read", "create", "update", "delete"]})
    object_type = fields.String(required=True, metadata={"example": "medical_record"})
    object_id = fields.Integer(allow_none=True)
    patient_id = fields.Integer(allow_none=True)
    ip = fields.String(allow_none=True)
    request_id = fields.String(allow_none=True)
