"""The booking pages' forms: confirming a hold and a doctor's weekly plan.

As in forms.py, they check only what a browser form can get wrong by itself (a missing or malformed
value); whether a slot may be booked or a plan makes sense is the services' call, and their Invalid
errors land next to these fields by name (the field names are the services' argument names).
"""
from datetime import time, timedelta

from wtforms import DateField, HiddenField, SelectField, SelectMultipleField, TextAreaField, TimeField
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
