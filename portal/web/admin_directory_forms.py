"""The forms of the clinic directory pages (departments, doctor profiles) and how their answers reach the services.

The forms only check what a browser form can get wrong by itself (a missing name); every rule about
departments and doctors (unique names, fees, which account may be linked) is the directory service's,
and its Invalid/Conflict errors are shown next to the field they name here.
"""
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from portal.services.accounts import user_accounts
from portal.services.errors import Conflict, DomainError, Invalid
from portal.web.forms import REQUIRED, PortalForm, show_error

# The services name some problems after their own fields; the forms show them on the field a person typed in.
FIELD_ALIASES = {"department_name": "name", "user_id": "account", "doctor_account": "account"}
GENDER_CHOICES = [SelectChoice("", "Not given"), *(SelectChoice(g, g.title()) for g in user_accounts.GENDERS)]
NO_ACCOUNT = "No account has that username or email."


def _optional_int(value):
    return int(value) if value not in (None, "") else None


def show_directory_error(form: FlaskForm, error: DomainError) -> None:
    """show_error, after renaming the service's field names to the form's."""
    if isinstance(error, Conflict) and error.code.endswith("_taken"):
        error = Invalid.field(error.code.removesuffix("_taken"), error.message)
    if isinstance(error, Invalid):
        error = Invalid({FIELD_ALIASES.get(name, name): messages for name, messages in error.fields.items()})
    show_error(form, error)


class DepartmentForm(PortalForm):
    name = StringField("Name", validators=[REQUIRED])
    description = TextAreaField("Description", validators=[Optional()])

    def values(self) -> dict:
        return {"name": self.name.data, "description": self.description.data or ""}


class DoctorProfileForm(PortalForm):
    """What a doctor keeps up to date about themself; the admin's form adds the rest."""

    speciality = StringField("Speciality", validators=[REQUIRED])
    department_id = SelectField("Department", coerce=_optional_int, validators=[Optional()])
    fees = StringField("Fee per visit", validators=[Optional()])
    email = StringField("Email for patients", validators=[Optional()])
    phone = StringField("Phone", validators=[Optional()])
    description = TextAreaField("About", validators=[Optional()])

    EDITABLE = ("speciality", "department_id", "fees", "email", "phone", "description")

    @classmethod
    def of(cls, doctor, departments, **kwargs):
        """The form filled in from a doctor's profile (nothing posted yet)."""
        return cls(formdata=None, data=cls.initial(doctor), **kwargs).with_departments(departments)

    @classmethod
    def initial(cls, doctor) -> dict:
        data = {name: getattr(doctor, name) for name in cls.EDITABLE}
        data["fees"] = "" if doctor.fees is None else str(doctor.fees)
        return data

    def with_departments(self, departments):
        """Department choices; the empty choice only while no department is chosen yet."""
        choices = [SelectChoice(str(d.id), d.name) for d in departments]
        if self.department_id.data is None:
            choices.insert(0, SelectChoice("", "Choose a department"))
        self.department_id.choices = choices
        return self

    def changes(self) -> dict:
        """The fields for directory.update_doctor; a department left unchosen stays as it is."""
        values = {name: self[name].data for name in self.EDITABLE}
        for name in ("fees", "email", "phone"):
            values[name] = (values[name] or "").strip() or None
        if values["department_id"] is None:
            del values["department_id"]
        return values


class DoctorForm(DoctorProfileForm):
    """An admin's view of a doctor: also the name, gender and the account the doctor signs in with."""

    full_name = StringField("Full name", validators=[REQUIRED])
    gender = SelectField("Gender", choices=GENDER_CHOICES, validators=[Optional()])
    account = StringField("Doctor account (username or email)", validators=[Optional()])

    EDITABLE = ("full_name", "speciality", "department_id", "gender", "fees", "email", "phone", "description")

    @classmethod
    def initial(cls, doctor) -> dict:
        data = super().initial(doctor)
        data.update(gender=doctor.gender or "", account=doctor.user.username if doctor.user else "")
        return data

    def changes(self) -> dict:
        """The fields for create_doctor/update_doctor, with the account as its user id.

        Raises Invalid (on the account field) when no account has that username or email; an empty
        field unlinks. Whether the account may be linked is the service's to say.
        """
        values = super().changes()
        values["gender"] = values["gender"] or None
        login = (self.account.data or "").strip()
        user = user_accounts.find_by_login(login) if login else None
        if login and user is None:
            raise Invalid.field("account", NO_ACCOUNT)
        values["user_id"] = user.id if user else None
        return values
