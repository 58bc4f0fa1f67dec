"""The JSON API under /api/v1: one list of blueprints, each an ApiBlueprint from its own module.

To add endpoints, write portal/api/<topic>.py with `blp = ApiBlueprint("<topic>", __name__,
url_prefix="/<topic>")` and append `<topic>.blp` to BLUEPRINTS; the envelope, error mapping, CSRF
exemption and OpenAPI document come with it.
"""
from flask import Flask

from portal.api import (
    absences,
    admin,
    appointments,
    assignments,
    auth,
    caching,
    directory,
    docs,
    doctors,
    emergency,
    errors,
    holds,
    images,
    me,
    openapi,
    patient_reports,
    patients,
    records,
    sessions,
    signin,
    slots,
    waitlist,
)
from portal.api.blueprint import ApiBlueprint
from portal.extensions import api, csrf

PREFIX = "/api/v1"

BLUEPRINTS = [
    signin.blp,
    sessions.blp,
    me.blp,
    admin.blp,
    directory.departments,
    directory.specialities,
    doctors.blp,
    slots.blp,
    absences.blp,
    holds.blp,
    appointments.blp,
    waitlist.blp,
    patients.blp,
    assignments.blp,
    records.blp,
    records.department_records,
    images.blp,
    emergency.blp,
    patient_reports.blp,
]


def init_app(app: Flask) -> None:
    openapi.prepare(api)
    api.init_app(app, spec_kwargs=openapi.spec_kwargs(PREFIX))
    errors.init_app(app, api.handle_http_exception)
    openapi.document(api)
    app.after_request(auth.no_store)
    app.after_request(caching.conditional)
    app.before_request(caching.reuse_answer)
    for blueprint in BLUEPRINTS:
        # Bearer clients send no CSRF token; auth.py checks it for cookie callers instead.
        csrf.exempt(blueprint)
        _register(app, blueprint)
    docs.init_app(app, PREFIX)


def _register(app: Flask, blueprint: ApiBlueprint) -> None:
    """What api.register_blueprint does, except that the document's tag is the topic ("me"), not the
    unique Flask name ("api_me") that keeps clear of the portal's blueprints."""
    app.extensions["flask-smorest"]["blp_name_to_api"][blueprint.name] = api
    app.register_blueprint(blueprint, url_prefix=PREFIX + blueprint.url_prefix)
    blueprint.register_views_in_doc(api, app, api.spec, name=blueprint.name, parameters=None)
    api.spec.tag({"name": blueprint.topic, "description": blueprint.description})
