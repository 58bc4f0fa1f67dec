"""Absences as the API shows and accepts them: a range in clinic terms, and what it did to the slots."""
import marshmallow as ma
from marshmallow import fields, validate

from portal.api.schemas.booking import AppointmentSchema
from portal.api.schemas.common import PageArgsSchema
from portal.api.schemas.windows import WindowBound
from portal.services.scheduling.absences import MAX_DAYS, MAX_REASON

RANGE = (f"A date is a whole clinic day (both ends included); a timestamp needs its offset. At most {MAX_DAYS} "
         "days long; it may start in the past (a sick day marked at noon) but not have ended.")


class AbsenceCreateSchema(ma.Schema):
    starts_at = WindowBound("start", required=True, metadata={"description": "First moment or day away. " + RANGE,
                                                              "example": "2027-08-02"})
    ends_at = WindowBound("end", required=True, metadata={"description": "Last day away (included), or the moment "
                                                                         "the doctor is back (exclusive).",
                                                          "example": "2027-08-13"})
    reason = fields.String(allow_none=True, validate=validate.Length(max=MAX_REASON),
                           metadata={"description": "Optional short note for staff, e.g. 'Holiday'."})


class AbsenceSchema(ma.Schema):
    """An AbsenceView: the absence and how many free slots it keeps withdrawn."""

    id = fields.Integer(required=True, attribute="absence.id")
    doctor_id = fields.Integer(required=True, attribute="absence.doctor_id")
    starts_at = fields.DateTime(required=True, attribute="absence.starts_at")
    ends_at = fields.DateTime(required=True, attribute="absence.ends_at", metadata={
        "description": "Exclusive: the moment the doctor is back (a date given as the end becomes the next "
                       "clinic midnight)."})
    reason = fields.String(required=True, allow_none=True, attribute="absence.reason")
    created_at = fields.DateTime(required=True, attribute="absence.created_at")
    archived_at = fields.DateTime(required=True, allow_none=True, attribute="absence.archived_at", metadata={
        "description": "When it was deleted; listed only with include_archived=true."})
    withdrawn = fields.Integer(required=True, metadata={
        "description": "Free slots ahead that this absence withdrew and still keeps off offer (not deleted: "
                       "they return when the absence is deleted)."})


class AbsenceDetailSchema(AbsenceSchema):
    affected = fields.List(fields.Nested(AppointmentSchema), required=True, metadata={
        "description": "The upcoming booked appointments inside the range, soonest first: they stay booked "
                       "until staff move (PATCH /appointments/{id}) or cancel them (DELETE /appointments/{id})."})


class AbsenceDeletedSchema(ma.Schema):
    id = fields.Integer(required=True, attribute="absence.id")
    doctor_id = fields.Integer(required=True, attribute="absence.doctor_id")
    starts_at = fields.DateTime(required=True, attribute="absence.starts_at")
    ends_at = fields.DateTime(required=True, attribute="absence.ends_at")
    reason = fields.String(required=True, allow_none=True, attribute="absence.reason")
    archived_at = fields.DateTime(required=True, attribute="absence.archived_at")
    returned = fields.Integer(required=True, metadata={
        "description": "Free slots ahead in the range that are offered again."})
    still_withdrawn = fields.Integer(required=True, metadata={
        "description": "Slots in the range that another active absence of the doctor still withdraws."})


class AbsenceListArgsSchema(PageArgsSchema):
    include_archived = fields.Boolean(load_default=False, metadata={"description": "Also list deleted absences."})
