"""The forms of the patient-record pages: patients, medical records, images, emergency access, assignments,
and the admin's audit filters and review notes.

As in forms.py they check only what a browser form can get wrong by itself (a missing value, a malformed
date); every rule about patients and records (who may see, a stale version, a reason too short) is the
records services', whose Invalid/Conflict errors land next to these fields by name: the field names are
the services' argument names.
"""
from flask_wtf.file import MultipleFileField
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, NumberRange, Optional

from portal.services import clinic_time
from portal.services.accounts import user_accounts
from portal.web.forms import REQUIRED, PortalForm

GENDER_CHOICES = [SelectChoice("", "Not given"), *(SelectChoice(g, g.title()) for g in user_accounts.GENDERS)]
ACTION_CHOICES = [SelectChoice("", "Any action"),
                  *(SelectChoice(a, a.title()) for a in ("read", "create", "update", "delete"))]
ID_RANGE = NumberRange(min=1, max=2_147_483_647, message="No such number.")
EMERGENCY_CHOICES = [SelectChoice("", "All"), SelectChoice("true", "Emergency only"),
                     SelectChoice("false", "Not emergency")]


def _optional_int(value):
    return int(value) if value not in (None, "") else None


def _blank_to_none(values: dict) -> dict:
    return {name: (value.strip() or None) if isinstance(value, str) else value for name, value in values.items()}


class PatientSearchForm(PortalForm):
    class Meta:
        csrf = False  # a GET search: nothing changes

    q = StringField("Name, date of birth or phone", validators=[Optional()])


class ContactForm(PortalForm):
    """The contact fields of a patient profile: all a patient may change on their own."""

    phone = StringField("Phone", validators=[Optional()])
    email = StringField("Email", validators=[Optional()])
    address = StringField("Address", validators=[Optional()])
    city = StringField("City", validators=[Optional()])

    FIELDS = ("phone", "email", "address", "city")

    def values(self) -> dict:
        return _blank_to_none({name: self[name].data for name in self.FIELDS})


class PatientForm(ContactForm):
    full_name = StringField("Full name", validators=[REQUIRED])
    gender = SelectField("Gender", choices=GENDER_CHOICES, validators=[Optional()])
    dob = DateField("Date of birth", validators=[Optional()])

    FIELDS = ("full_name", "gender", "dob", *ContactForm.FIELDS)


class RecordForm(PortalForm):
    """A medical record; `version` is the one the writer started from, so a later edit by someone else
    is a conflict (both texts shown) instead of a silent overwrite."""

    diagnostics = TextAreaField("Diagnostics", validators=[REQUIRED])
    observations = TextAreaField("Observations", validators=[Optional()])
    treatments = TextAreaField("Treatments", validators=[Optional()])
    misc = TextAreaField("Other notes", validators=[Optional()])
    department_id = SelectField("Department", coerce=_optional_int, validators=[Optional()])
    recorded_at = DateTimeLocalField("Recorded at (clinic time)", format="%Y-%m-%dT%H:%M", validators=[Optional()])
    version = HiddenField()

    TEXTS = ("diagnostics", "observations", "treatments", "misc")

    def with_departments(self, departments) -> "RecordForm":
        self.department_id.choices = [SelectChoice("", "No department"),
                                      *(SelectChoice(str(d.id), d.name) for d in departments)]
        return self

    def values(self) -> dict:
        values = {name: self[name].data or None for name in self.TEXTS}
        values["department_id"] = self.department_id.data
        if self.recorded_at.data is not None:  # typed as the clinic's wall clock
            values["recorded_at"] = self.recorded_at.data.replace(tzinfo=clinic_time.zone())
        return values

    def edited_version(self) -> int | None:
        """The version the writer started from (None when the form lost it: the service says so)."""
        raw = (self.version.data or "").strip()
        return int(raw) if raw.isdigit() else None

    @classmethod
    def of(cls, record, departments) -> "RecordForm":
        """The form filled in from a record, its time shown on the clinic's wall clock."""
        form = cls(formdata=None, obj=record, version=record.version)
        form.recorded_at.data = clinic_time.to_local(record.recorded_at).replace(tzinfo=None)
        return form.with_departments(departments)


class ImagesForm(PortalForm):
    files = MultipleFileField("Images (JPEG, PNG, WebP or GIF; up to 10 at once)")


class EmergencyForm(PortalForm):
    reason = TextAreaField("Why do you need this patient's record now?", validators=[REQUIRED])


class AssignmentForm(PortalForm):
    doctor_id = SelectField("Doctor", coerce=_optional_int, validators=[DataRequired("Choose a doctor to assign.")])

    def with_doctors(self, doctors) -> "AssignmentForm":
        self.doctor_id.choices = [SelectChoice("", "Choose a doctor"),
                                  *(SelectChoice(str(d.id), f"{d.full_name} ({d.speciality})") for d in doctors)]
        return self


class AuditFilterForm(PortalForm):
    """The audit log's filters; their names are the API's query parameters, so a filtered page's URL
    is also the CSV export's."""

    class Meta:
        csrf = False

    patient_id = IntegerField("Patient id", validators=[Optional(), ID_RANGE])
    actor_id = IntegerField("User id", validators=[Optional(), ID_RANGE])
    action = SelectField("Action", choices=ACTION_CHOICES, validators=[Optional()])
    emergency = SelectField("Emergency", choices=EMERGENCY_CHOICES, validators=[Optional()])
    from_ = DateField("From", validators=[Optional()], name="from")
    to = DateField("To", validators=[Optional()])
    sort = HiddenField()

    def filters(self) -> dict:
        emergency = {"true": True, "false": False}.get(self.emergency.data or "")
        return {"patient_id": self.patient_id.data, "actor_id": self.actor_id.data,
                "action": self.action.data or None, "emergency": emergency,
                "start": clinic_time.parse_bound(self.from_.data, end=False),
                "end": clinic_time.parse_bound(self.to.data, end=True), "sort": self.sort.data or "-at"}


class ReviewForm(PortalForm):
    note = TextAreaField("Review note", validators=[Optional()])
    reviewed = BooleanField("Reviewed", default=True)
