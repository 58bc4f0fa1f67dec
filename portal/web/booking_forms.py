"""The booking pages' forms: confirming a hold, booking at the desk and a doctor's weekly plan.

As in forms.py, they check only what a browser form can get wrong by itself (a missing or malformed
value); whether a slot may be booked or a plan makes sense is the services' call, and their Invalid
errors land next to these fields by name (the field names are the services' argument names).
"""
from datetime import time, timedelta

from wtforms import DateField, HiddenField, IntegerField, SelectField, SelectMultipleField, TextAreaField, TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.services import clinic_time
from portal.web.forms import PortalForm

REQUIRED = InputRequired(message="Fill this in.")
SLOT_LENGTHS = range(10, 125, 5)  # minutes: a sensible set, not any number from 5 to 240
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


class ConfirmForm(PortalForm):
    """Books the slot a patient holds; `week` keeps the grid on the week the patient was looking at."""

    reason = TextAreaField("Reason for the visit (optional)", validators=[Optional()])
    week = HiddenField()


class DeskBookingForm(PortalForm):
    """Staff book the picked time for the picked patient; the hidden fields keep the page's place."""

    reason = TextAreaField("Reason for the visit (optional)", validators=[Optional()])
    patient_id = HiddenField()
    slot_id = HiddenField()
    doctor_id = HiddenField()
    week = HiddenField()


class OptionalWholeNumber(IntegerField):
    """A whole number, or nothing: empty means the clinic's setting (the service checks the range)."""

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip()
        self.data = None
        if text:
            try:
                self.data = int(text)
            except ValueError:
                self.data = None
                raise ValueError("Give a whole number, or leave it empty for the clinic's setting.") from None


class DoctorRulesForm(PortalForm):
    """One doctor's booking-rule overrides on the admin's rules page (prefixed per doctor)."""

    min_notice_minutes = OptionalWholeNumber("Minimum notice (minutes)", validators=[Optional()])
    horizon_days = OptionalWholeNumber("Horizon (days)", validators=[Optional()])
    change_cutoff_hours = OptionalWholeNumber("Change cut-off (hours)", validators=[Optional()])

    def values(self) -> dict:
        return {name: self[name].data for name in ("min_notice_minutes", "horizon_days", "change_cutoff_hours")}


class CheckboxesField(SelectMultipleField):
    """Several choices as a list of checkboxes, each with its own label."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class WeeklyPlanForm(PortalForm):
    from_date = DateField("From", validators=[REQUIRED])
    to_date = DateField("Until (inclusive)", validators=[REQUIRED])
    weekdays = CheckboxesField("Weekdays", coerce=int,
                               choices=[SelectChoice(str(number), name) for number, name in enumerate(WEEKDAYS)],
                               validators=[InputRequired(message="Pick at least one weekday.")])
    start_time = TimeField("Start time", validators=[REQUIRED])
    end_time = TimeField("End time", validators=[REQUIRED])
    duration = SelectField("Slot length (minutes)", coerce=int, validators=[REQUIRED],
                           choices=[SelectChoice(str(minutes), f"{minutes} minutes") for minutes in SLOT_LENGTHS])
    doctor_id = HiddenField()
    week = HiddenField()

    @classmethod
    def with_defaults(cls, **hidden) -> "WeeklyPlanForm":
        """An empty plan that suggests the usual: next seven days, weekdays, mornings, half-hour slots."""
        today = clinic_time.today()
        return cls(formdata=None, data={"from_date": today, "to_date": today + timedelta(days=6),
                                        "weekdays": [0, 1, 2, 3, 4], "start_time": time(9), "end_time": time(12),
                                        "duration": 30, **hidden})

    def plan(self) -> dict:
        return {name: self[name].data for name in ("from_date", "to_date", "weekdays", "start_time", "end_time",
                                                    "duration")}
