"""Medical records, their versions and the filters of record lists, as the API shows and accepts them."""
import marshmallow as ma
from marshmallow import fields, validate

from portal.api.schemas.booking import PartySchema
from portal.api.schemas.common import MAX_ID, ErrorEnvelopeSchema, PageArgsSchema, id_field, query_id_field
from portal.api.schemas.directory import DepartmentRefSchema

MAX_TEXT = 20_000
VERSION = "The version this change is based on (or send `If-Match: \"<version>\"`); an older one is 409 `stale_record`."


def _text(**kwargs) -> fields.String:
    return fields.String(allow_none=True, validate=validate.Length(max=MAX_TEXT), **kwargs)


class RecordContentSchema(ma.Schema):
    diagnostics = fields.String(required=True)
    observations = fields.String(required=True, allow_none=True)
    treatments = fields.String(required=True, allow_none=True)
    misc = fields.String(required=True, allow_none=True)
    department_id = fields.Integer(required=True, allow_none=True)
    recorded_at = fields.DateTime(required=True)


class RecordSchema(RecordContentSchema):
    id = fields.Integer(required=True)
    patient_id = fields.Integer(required=True)
    doctor = fields.Nested(PartySchema, required=True, allow_none=True, metadata={
        "description": "The doctor who filed it; null when an admin did."})
    department = fields.Nested(DepartmentRefSchema, required=True, allow_none=True)
    author_id = fields.Integer(required=True, allow_none=True, metadata={"description": "The account that filed it."})
    version = fields.Integer(required=True, metadata={"description": "Send it back with a change."})
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class StaleRecordEnvelopeSchema(ErrorEnvelopeSchema):
    """409 `stale_record`: the error envelope with the record as it is now in `data`."""

    data = fields.Nested(RecordSchema, required=True, metadata={"description": "The current record."})


class WriterSchema(PartySchema):
    role = fields.String(required=True)


class RecordVersionSchema(RecordContentSchema):
    version = fields.Integer(required=True)
    written_by = fields.Nested(WriterSchema, required=True, allow_none=True, metadata={
        "description": "Who wrote this version (filed the record, or made the edit that produced it)."})
    written_at = fields.DateTime(required=True)
    current = fields.Boolean(required=True, metadata={"description": "True for the version the record has now."})


class RecordChangesSchema(ma.Schema):
    """PATCH or PUT: fields left out stay; `version` (or If-Match) is required."""

    openapi_extra = {"minProperties": 1}

    version = fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ID), metadata={"description": VERSION})
    diagnostics = fields.String(validate=validate.Length(min=1, max=MAX_TEXT))
    observations = _text()
    treatments = _text()
    misc = _text()
    department_id = id_field(allow_none=True)
    recorded_at = fields.AwareDateTime(metadata={"description": "When it was recorded; not in the future."})

    @ma.validates_schema
    def _something_to_change(self, data, **kwargs):
        if not set(data) - {"version"}:
            raise ma.ValidationError("Give at least one field to change.", "body")


class RecordCreateSchema(ma.Schema):
    patient_id = id_field(required=True)
    diagnostics = fields.String(required=True, validate=validate.Length(min=1, max=MAX_TEXT))
    observations = _text()
    treatments = _text()
    misc = _text()
    department_id = id_field(allow_none=True, metadata={"description": "Default: the filing doctor's department."})
    recorded_at = fields.AwareDateTime(metadata={"description": "Default: now; not in the future."})


class RecordListArgsSchema(PageArgsSchema):
    patient_id = query_id_field()
    doctor_id = query_id_field()
    department_id = query_id_field()
    year = fields.Integer(validate=validate.Range(min=1900, max=2200), metadata={
        "description": "Recorded in this year of the clinic's time zone."})
    month = fields.Integer(validate=validate.Range(min=1, max=12), metadata={
        "description": "With `year`: recorded in this month (clinic time); without a year it is 422."})

    @ma.validates_schema
    def _month_needs_year(self, data, **kwargs):
        if "month" in data and "year" not in data:
            raise ma.ValidationError("Give the year with the month.", "month")
