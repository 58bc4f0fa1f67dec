"""ApiBlueprint: a flask-smorest blueprint that parses bodies our way and answers errors with the envelope.

Every module of the API makes one (`blp = ApiBlueprint("doctors", __name__, url_prefix="/doctors")`)
and portal/api/__init__.py registers it under /api/v1. Its Flask name is "api_<topic>" (the portal's
blueprints own the plain names: url_for("api_doctors.show")); its OpenAPI tag is the topic.
On top of flask-smorest it offers:
- `@blp.auth()` / `@blp.auth(Role.ADMIN)`: find the caller before anything else (auth.py);
- `@blp.fails_with(404, 409)`: document error answers with the envelope;
- body parsing that turns bad input into 400 / 415 / 422 envelopes (see ApiParser);
- `<id:name>` in routes (portal.input_rules.IdConverter), and schemas.common.id_field for ids in queries and bodies.
"""
from functools import wraps

from flask_smorest import Blueprint
from marshmallow import ValidationError
from marshmallow.fields import Field
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

from portal import input_rules
from portal.api import auth, errors
from portal.api.openapi import SECURITY, response_name
from portal.models import Role

REQUIRED = Field.default_error_messages["required"]
NOT_AN_OBJECT = "Invalid input type."
BODY_LOCATIONS = ("json", "form", "files")
TOO_DEEP = "The body is nested too deeply."


def _has_body(req) -> bool:
    return bool(req.content_length) or "chunked" in req.headers.get("Transfer-Encoding", "").lower()


def _refuse_bad_text(value) -> None:
    """NUL and lone surrogates, which PostgreSQL cannot store, are 422 for every endpoint (input_rules)."""
    try:
        found = input_rules.text_problems(value)
    except input_rules.TooDeep:
        raise errors.malformed_json(TOO_DEEP) from None
    if found:
        raise errors.invalid_fields(found)


def _flatten(messages, prefix: str = "") -> dict[str, list[str]]:
    """{"a": {"0": ["x"]}} -> {"a.0": ["x"]}: one flat field map for clients and forms."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        flat[prefix or "body"] = list(messages)
    elif isinstance(messages, list):
        for index, value in enumerate(messages):
            flat.update(_flatten(value, f"{prefix}.{index}" if prefix else str(index)))
    else:
        flat[prefix or "body"] = [str(messages)]
    return flat


class ApiParser(FlaskParser):
    """webargs, with the API's answers for bodies that are not JSON, not valid JSON or incomplete."""

    def _raw_load_json(self, req):
        if not is_json_request(req):
            if _has_body(req):
                raise errors.unsupported_media("Send the body as application/json.")
            return core.missing
        try:
            data = core.parse_json(req.get_data(cache=True))
        except RecursionError:  # the decoder gives up on thousands of nested brackets: bad input, not a bug
            raise errors.malformed_json(TOO_DEEP) from None
        _refuse_bad_text(data)
        return data

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        raise errors.malformed_json()

    def load_querystring(self, req, schema):
        _refuse_bad_text({key: " ".join(req.args.getlist(key)) for key in req.args})
        return super().load_querystring(req, schema)

    def load_form(self, req, schema):
        _refuse_bad_text({key: " ".join(req.form.getlist(key)) for key in req.form})
        return super().load_form(req, schema)

    def load_files(self, req, schema):
        if req.mimetype != "multipart/form-data" and _has_body(req):
            raise errors.unsupported_media("Send the upload as multipart/form-data.")
        return super().load_files(req, schema)

    def handle_error(self, error: ValidationError, req, schema, *, error_status_code, error_headers):
        messages = error.messages
        if isinstance(messages, dict) and len(messages) == 1:  # webargs nests them under the location
            (location, inner), = messages.items()
            if location in self.__location_map__:
                messages = inner
        fields = _flatten(messages)
        if NOT_AN_OBJECT in fields.get("_schema", []):
            raise errors.malformed_json("The body must be a JSON object.")
        if any(REQUIRED in problems for problems in fields.values()):
            raise errors.missing_fields(fields)
        raise errors.invalid_fields(fields)


class ApiBlueprint(Blueprint):
    ARGUMENTS_PARSER = ApiParser()

    def __init__(self, topic: str, import_name: str, **kwargs):
        super().__init__(f"api_{topic}", import_name, **kwargs)
        self.topic = topic
        errors.attach(self)

    def route(self, rule, *, parameters=None, tags=None, **options):
        return super().route(rule, parameters=parameters, tags=tags or [self.topic], **options)

    def fails_with(self, *codes: int):
        """Document error answers (all in the error envelope) of an endpoint. flask-smorest's alt_response adds
        the documentation to a wrapper of its own, which then runs on every request with Flask's check for a
        coroutine (about ten Python calls a code, eight codes an endpoint); only its documentation is kept here,
        on one plain wrapper."""
        def decorator(func):
            documented = func
            for code in codes:
                documented = self.alt_response(code, response=response_name(code))(documented)

            @wraps(func)
            def wrapper(*args, **kwargs):
                return func(*args, **kwargs)
            wrapper._apidoc = documented._apidoc
            return wrapper
        return decorator

    def arguments(self, schema, *, location="json", **kwargs):
        """flask-smorest's arguments, also documenting the 400/415 answers our parser gives. A schema class
        is made an instance here, once: webargs would otherwise build one (deep-copying its fields) on
        every request. Our schemas keep no state between loads."""
        schema = schema() if isinstance(schema, type) else schema
        parse = super().arguments(schema, location=location, **kwargs)
        codes = (400, 415) if location in BODY_LOCATIONS else (400,)
        return lambda func: self.fails_with(*codes)(parse(func))

    def auth(self, *roles: Role):
        """Require a signed-in caller (Bearer token, or session cookie + CSRF on unsafe methods),
        optionally with one of `roles`; runs before the body is parsed, so strangers learn nothing."""
        def decorator(func):
            @wraps(func)
            def wrapper(*args, **kwargs):
                auth.identify(*roles)
                return func(*args, **kwargs)
            documented = self.doc(security=SECURITY)(wrapper)
            return self.fails_with(401, 403)(documented) if roles else self.fails_with(401)(documented)
        return decorator
