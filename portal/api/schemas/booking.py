"""Slots, holds and appointments as the API shows and accepts them.

Times go out as ISO 8601 in UTC with their offset; durations are whole minutes. Which body shape
an endpoint got (one slot or a weekly plan; a reschedule or a closing status) is decided here, as a
matter of shape; whether the change is allowed is the services' business.
"""
import marshmallow as ma
from marshmallow import fields, validate

from portal.api.schemas.common import PageArgsSchema, enum_field, id_field
from portal.api.schemas.windows import WindowBound
from portal.models import AppointmentStatus
from portal.services.scheduling.appointments import CLOSING_STATUSES, MAX_REASON
from portal.services.scheduling.availability import MAX_DURATION, MIN_DURATION
from portal.services.scheduling.slot_lists import STATES

REQUIRED = fields.Field.default_error_messages["required"]
SLOT_STATES = (*STATES, "past")
PLAN_FIELDS = ("from_date", "to_date", "weekdays", "start_time", "end_time")
APPOINTMENT_STATUSES = tuple(status.value for status in AppointmentStatus)


def _duration(**kwargs) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(min=MIN_DURATION, max=MAX_DURATION),
                          metadata={"description": f"Minutes, {MIN_DURATION} to {MAX_DURATION}."}, **kwargs)


class WindowArgsSchema(ma.Schema):
    start = WindowBound("start", data_key="from", metadata={"description": "Default: now."})
    end = WindowBound("end", data_key="to", metadata={"description": "Default: 14 clinic days after `from`; "
                                                                     "at most 92 days after it."})


class DoctorSlotsArgsSchema(WindowArgsSchema):
    status = enum_field("SlotStateFilter", STATES, metadata={
        "description": "Only slots in this state; without it every slot of the window, `past` ones included."})


class SlotSchema(ma.Schema):
    """A SlotView: the slot and its state as seen from outside."""

    id = fields.Integer(required=True, attribute="slot.id")
    doctor_id = fields.Integer(required=True, attribute="slot.doctor_id")
    starts_at = fields.DateTime(required=True, attribute="slot.starts_at")
    ends_at = fields.DateTime(required=True, attribute="slot.ends_at")
    duration = fields.Integer(required=True, attribute="slot.duration", metadata={"description": "Minutes."})
    status = enum_field("SlotState", SLOT_STATES, required=True, attribute="state", metadata={
        "description": "`free`: bookable; `held`: a patient holds it for a few minutes; `booked`: an appointment "
                       "(not cancelled) takes it; `past`: it started without a booking (no longer bookable)."})


class NewSlotSchema(ma.Schema):
    id = fields.Integer(required=True)
    doctor_id = fields.Integer(required=True)
    starts_at = fields.DateTime(required=True)
    ends_at = fields.DateTime(required=True)
    duration = fields.Integer(required=True)
    status = fields.Constant("free", required=True, metadata={"description": "New slots are free."})


class SlotCreationSchema(ma.Schema):
    """One slot (starts_at, duration) or a weekly plan (from_date .. end_time, duration), not both."""

    starts_at = fields.AwareDateTime(metadata={"description": "One slot: its start, with offset."})
    duration = _duration(required=True)
    from_date = fields.Date(metadata={"description": "Plan: first day (clinic date), included."})
    to_date = fields.Date(metadata={"description": "Plan: last day, included; at most 366 days after from_date."})
    weekdays = fields.List(fields.Integer(strict=True, validate=validate.Range(min=0, max=6)),
                           validate=validate.Length(min=1, max=7),
                           metadata={"description": "Plan: 0 = Monday ... 6 = Sunday."})
    start_time = fields.Time(metadata={"description": "Plan: clinic wall-clock time of the first slot (HH:MM).",
                                       "example": "09:00"})
    end_time = fields.Time(metadata={"description": "Plan: no slot runs past this clinic wall-clock time (HH:MM).",
                                     "example": "12:00"})

    @ma.validates_schema
    def _one_shape(self, data, **kwargs):
        planned = [name for name in PLAN_FIELDS if name in data]
        if "starts_at" in data and planned:
            raise ma.ValidationError("Give starts_at for one slot or a weekly plan, not both.", "starts_at")
        if "starts_at" in data:
            return
        if not planned:
            raise ma.ValidationError(REQUIRED, "starts_at")
        missing = [name for name in PLAN_FIELDS if name not in data]
        if missing:
            raise ma.ValidationError({name: [REQUIRED] for name in missing})


class SlotCreationResultSchema(ma.Schema):
    slots = fields.List(fields.Nested(NewSlotSchema), required=True, metadata={"description": "The new slots."})
    skipped = fields.Integer(required=True, metadata={
        "description": "Plan slots left out because they overlap a live slot or have already started."})


class HoldRequestSchema(ma.Schema):
    slot_id = id_field(required=True)


class HoldSchema(ma.Schema):
    hold_id = fields.String(required=True, metadata={"description": "Send it to POST /appointments or "
                                                                    "DELETE /holds/{hold_id}."})
    slot_id = fields.Integer(required=True)
    expires_at = fields.DateTime(required=True)


class BookingSchema(ma.Schema):
    hold_id = fields.String(validate=validate.Length(min=1, max=64), metadata={"description": "Your hold."})
    slot_id = id_field(metadata={"description": "Or a free slot: held and booked in one step."})
    patient_id = id_field(metadata={"description": "Desk booking (the doctor of the slot or an admin): the "
                                                   "patient to book `slot_id` for. Patients leave it out (403)."})
    reason = fields.String(allow_none=True, validate=validate.Length(max=MAX_REASON))


class PartySchema(ma.Schema):
    id = fields.Integer(required=True)
    full_name = fields.String(required=True)


class DoctorPartySchema(PartySchema):
    speciality = fields.String(required=True)


class AppointmentSchema(ma.Schema):
    id = fields.Integer(required=True)
    status = enum_field("AppointmentStatus", APPOINTMENT_STATUSES, required=True)
    starts_at = fields.DateTime(required=True)
    ends_at = fields.DateTime(required=True)
    duration = fields.Integer(required=True, attribute="slot.duration", metadata={"description": "Minutes."})
    reason = fields.String(required=True, allow_none=True)
    slot_id = fields.Integer(required=True)
    rescheduled_from_slot_id = fields.Integer(required=True, allow_none=True, metadata={
        "description": "The slot it had before its last reschedule."})
    patient = fields.Nested(PartySchema, required=True)
    doctor = fields.Nested(DoctorPartySchema, required=True)
    created_at = fields.DateTime(required=True)
    cancelled_at = fields.DateTime(required=True, allow_none=True)
    confirmed_at = fields.DateTime(required=True, allow_none=True, metadata={
        "description": "When the patient said they will come (\"I'll come\" in a reminder mail, or POST "
                       "/appointments/{id}/confirm); null until then. Confirming again keeps the first time."})


class LinkAnswerSchema(AppointmentSchema):
    """The appointment as answered to a reminder link's `?token=`: without health information.

    The token travels in a plain mail that may be read or forwarded by others, and the mail itself
    leaves out the reason, speciality and department; so does the answer to whoever holds its link.
    """

    class Meta:
        exclude = ("reason",)

    doctor = fields.Nested(PartySchema, required=True)


class AppointmentListArgsSchema(PageArgsSchema):
    status = enum_field("AppointmentStatus", APPOINTMENT_STATUSES)
    start = WindowBound("start", data_key="from", metadata={"description": "Appointments starting from then."})
    end = WindowBound("end", data_key="to", metadata={"description": "Appointments starting before then."})

    @ma.validates_schema
    def _ordered(self, data, **kwargs):
        if data.get("start") and data.get("end") and data["start"] >= data["end"]:
            raise ma.ValidationError("`from` must come before `to`.", "to")


class AppointmentChangeSchema(ma.Schema):
    """PATCH /appointments/{id}: a new slot_id (reschedule) or a closing status, one of the two."""

    openapi_extra = {"minProperties": 1, "maxProperties": 1}

    slot_id = id_field(metadata={"description": "Move it to this free slot of the same doctor."})
    status = enum_field("ClosingStatus", CLOSING_STATUSES, metadata={
        "description": "completed or no_show: the doctor or an admin, once it has started."})

    @ma.validates_schema
    def _one_change(self, data, **kwargs):
        if not data:  # nothing to do is a missing field (400 missing_field), as for POST /appointments
            raise ma.ValidationError({"slot_id": [REQUIRED], "status": [REQUIRED]})
        if len(data) != 1:
            raise ma.ValidationError("Give slot_id (to reschedule) or status (to close it), one of the two.", "body")
