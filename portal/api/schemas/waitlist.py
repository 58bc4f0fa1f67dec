"""Waitlist entries as the API accepts and shows them.

The shape is checked here (a doctor or a speciality, the window's bounds present); the rules - a
listed doctor, a window still ahead, at most WAITLIST_MAX_ENTRIES live entries - are the service's.
"""
import marshmallow as ma
from marshmallow import fields, validate

from portal.api.schemas.common import enum_field, id_field
from portal.api.schemas.windows import WindowBound
from portal.models import WaitlistStatus

REQUIRED = fields.Field.default_error_messages["required"]
STATUSES = tuple(status.value for status in WaitlistStatus)


class WaitlistJoinSchema(ma.Schema):
    """{doctor_id or speciality, from, to; optional weekdays, earliest_time, latest_time}."""

    doctor_id = id_field(metadata={"description": "Wait for this doctor (or give `speciality`, not both)."})
    speciality = fields.String(validate=validate.Length(min=1, max=120), metadata={
        "description": "Wait for any doctor of this speciality (any case), as GET /specialities names it."})
    start = WindowBound("start", data_key="from", required=True, metadata={
        "description": "From when: a date (the whole clinic day) or an ISO timestamp with offset."})
    end = WindowBound("end", data_key="to", required=True, metadata={
        "description": "Until when: a date (that clinic day included) or an ISO timestamp with offset (exclusive); "
                       "it must be ahead, at most 730 days."})
    weekdays = fields.List(fields.Integer(strict=True, validate=validate.Range(min=0, max=6)),
                           validate=validate.Length(min=1, max=7), allow_none=True,
                           metadata={"description": "Only these days: 0 = Monday ... 6 = Sunday (clinic days)."})
    earliest_time = fields.Time(allow_none=True, metadata={
        "description": "Only times starting at or after this clinic wall-clock time (HH:MM).", "example": "09:00"})
    latest_time = fields.Time(allow_none=True, metadata={
        "description": "Only times ending by this clinic wall-clock time (HH:MM); after earliest_time.",
        "example": "12:00"})

    @ma.validates_schema
    def _doctor_or_speciality(self, data, **kwargs):
        if "doctor_id" not in data and "speciality" not in data:
            raise ma.ValidationError({"doctor_id": [REQUIRED], "speciality": [REQUIRED]})
        if "doctor_id" in data and "speciality" in data:
            raise ma.ValidationError("Give doctor_id or speciality, not both.", "doctor_id")


class WaitlistOfferSchema(ma.Schema):
    hold_id = fields.String(required=True, metadata={
        "description": "The hold on the offered slot, yours until `expires_at`: book it with POST /appointments "
                       "{hold_id}."})
    slot_id = fields.Integer(required=True)
    starts_at = fields.DateTime(required=True, attribute="slot.starts_at")
    expires_at = fields.DateTime(required=True, metadata={
        "description": "Unbooked by then, the offer passes to the next patient waiting; the entry waits again."})


class WaitlistEntrySchema(ma.Schema):
    """An EntryView: the entry, its open offer and how many wait for the same doctor or speciality."""

    id = fields.Integer(required=True, attribute="entry.id")
    doctor_id = fields.Integer(required=True, allow_none=True, attribute="entry.doctor_id")
    speciality = fields.String(required=True, allow_none=True, attribute="entry.speciality",
                               metadata={"description": "In lower case, as it is compared."})
    start = fields.DateTime(required=True, data_key="from", attribute="entry.window_from")
    end = fields.DateTime(required=True, data_key="to", attribute="entry.window_to",
                          metadata={"description": "Exclusive."})
    weekdays = fields.List(fields.Integer(), required=True, allow_none=True,
                           metadata={"description": "0 = Monday ... 6 = Sunday; null: any day."})
    earliest_time = fields.Time(required=True, allow_none=True, attribute="entry.earliest_time")
    latest_time = fields.Time(required=True, allow_none=True, attribute="entry.latest_time")
    status = enum_field("WaitlistStatus", STATUSES, required=True, attribute="entry.status", metadata={
        "description": "`waiting`; `offered` (see `offer`); `booked` (you booked the offer); `expired` (the window "
                       "passed); `cancelled` (you left)."})
    created_at = fields.DateTime(required=True, attribute="entry.created_at")
    ended_at = fields.DateTime(required=True, allow_none=True, attribute="entry.ended_at")
    offer = fields.Nested(WaitlistOfferSchema, required=True, allow_none=True,
                          metadata={"description": "The slot held for you now, or null."})
    waiting_ahead = fields.Integer(required=True, allow_none=True, metadata={
        "description": "How many entries for the same doctor (or speciality) wait and were made before yours; "
                       "null once yours has ended. Never who."})
    waiting = fields.Integer(required=True, allow_none=True, metadata={
        "description": "How many entries wait for the same doctor (or speciality) in all; null once yours has ended."})
