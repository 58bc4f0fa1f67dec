"""Emergency access ("break the glass"): a doctor opens a patient who is not theirs, for a limited time.

The page says plainly that the access is recorded, how long it lasts and who is told; the reason is
required (the emergency service decides how long it must be and answers Invalid next to the field).
Once started, the doctor lands on the patient page, which then shows the access's end.
"""
from flask import Blueprint, current_app, redirect, render_template, request, url_for
from wtforms import IntegerField
from wtforms.validators import InputRequired

from portal.models import Role
from portal.services.errors import Invalid, NotFound
from portal.services.records import emergency
from portal.web import patient_pages as pages
from portal.web.access import role_required
from portal.web.forms import show_error
from portal.web.record_forms import ID_RANGE, EmergencyForm

bp = Blueprint("emergency", __name__, url_prefix="/emergency-access")


class StartForm(EmergencyForm):
    patient_id = IntegerField("Patient number", validators=[InputRequired(message="Give the patient's number."),
                                                            ID_RANGE])


def _page(form: StartForm, status: int = 200):
    minutes = current_app.config["EMERGENCY_ACCESS_MINUTES"]
    return render_template("emergency/start.html", form=form, minutes=minutes), status


@bp.get("")
@role_required(Role.DOCTOR)
def start():
    form = StartForm(formdata=None, patient_id=request.args.get("patient_id", type=int))
    return _page(form)


@bp.post("")
@role_required(Role.DOCTOR)
def open_record():
    """Start the access and open the patient; an unknown or archived patient is said next to the number."""
    form = StartForm()
    if form.validate_on_submit():
        try:
            emergency.start(pages.actor(), form.patient_id.data, form.reason.data)
        except NotFound:
            form.patient_id.errors = ["There is no patient with this number."]
        except Invalid as error:
            show_error(form, error)
        else:  # the patient page says it is open, until when, and that it is recorded: no flash repeating it
            return redirect(url_for("patients.show", patient_id=form.patient_id.data))
    return _page(form, 422)
