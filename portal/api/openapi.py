"""What the OpenAPI document says beyond the routes: conventions, auth schemes and error responses.

Choices API.md leaves open are written here, so the document is the place a client looks them up.
"""
from http import HTTPStatus

from apispec import BasePlugin
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from flask_smorest import Api
from marshmallow import fields

from portal.api.operation_ids import OPERATION_IDS, operation_key
from portal.api.schemas.common import ENUM_COMPONENT, ErrorEnvelopeSchema
from portal.services import image_files

DESCRIPTION = """\
JSON API of the clinic portal. Every JSON answer is one envelope
`{"status", "message", "data"}`; lists add `meta {page, per_page, total}` and take `?page=` (from 1) and
`?per_page=` (1 to 100, default 20); errors add `error {code, fields}` (`fields` for validation only).

**Authentication.** Apps send `Authorization: Bearer <access_token>` (a JWT from `/auth/login`, 15 minutes
by default; renew it with `/auth/token`). A browser that signed in through `POST /sessions` (or the portal)
may use its session cookie instead; then every unsafe method (POST, PUT, PATCH, DELETE) must carry the
`csrf_token` from that answer in an `X-CSRFToken` header. A cookie request without a valid one is
answered **401** with `error.code` `csrf_failed` and changes nothing. When an `Authorization` header is
present it alone decides: a bad token is 401 even if a session cookie is valid.

**Refresh tokens** rotate: each one can be spent once. Presenting a spent one again revokes its whole
family (every refresh and access token descended from that login). Two refreshes racing with the same
token at the same moment: exactly one gets new tokens and keeps working; the others are **401**
`token_in_use` and change nothing. A spent token presented within a grace window after its spend (10 s
by default) counts as such a lost race; presented later it is a replay: **401** `token_revoked`, and the
family is revoked. A revoked family (logout, a replay, a password reset) and a deactivated account end
their access tokens at the next request, on every server process; should the server's Redis fail at
that moment, within 30 s.

**Bodies.** JSON endpoints need `Content-Type: application/json`; another content type is **415**
`unsupported_media`. Invalid JSON, or JSON that is not an object, is **400** `malformed_json`; a missing
required field is **400** `missing_field`; a field that fails validation, or a field the endpoint does
not know, is **422** `validation_error`; so is text with a NUL or a lone UTF-16 surrogate (`"a\\ud800"`)
in any field (a bad key is reported as `body`). JSON bodies are capped at 1 MB: **413** `too_large`,
decided from `Content-Length` before reading, or while reading a chunked body. Uploads are
`multipart/form-data` with their own, larger limit; a file that is not a decodable JPEG, PNG, WebP or
GIF is **415** `unsupported_media`, one over the size limit **413** `too_large`.

**Ids in paths** are plain decimal integers: `/appointments/01` or a full-width digit is **404**.

**Caching.** Every answer to a request with credentials, and every answer of `/auth/*` and `/sessions`,
carries `Cache-Control: no-store`; image bytes carry `private` Anonymous reads of the public directory carry
an `ETag` and answer `If-None-Match` with **304**: departments and specialities with
`Cache-Control: public, max-age=60` (nothing booked changes them); doctors, a department's doctors and
free slots with `public, no-cache` (ask again every time: a booking or a hold is in the very next
answer, under a new ETag). A doctor's page without `from` starts its window "now", so its answer
(and ETag) changes every moment; send `from` to benefit. The server itself keeps these anonymous
answers for up to `DIRECTORY_CACHE_SECONDS` (default 5) and reuses one only while nothing it shows
has changed: a booking, a cancel, a hold placed or released, a slot, absence, doctor or department
change is in the very next answer from any server process. Only what changes with time alone (a
slot passing into the booking notice, the "now" of a default window) may be that many seconds late;
booking checks every rule again.

**Links in mails** (password reset) point at the portal's configured public address, never at the
request's `Host`.

**Time windows** (`from`/`to`): a date means a whole day in the clinic's time zone and a date range
includes both ends; a timestamp needs an offset and `to` as a timestamp is exclusive.

**Generated clients.** Every operation has a stable `operationId` (`login`, `listDoctors`, `createHold`,
`bookAppointment`, ...) that names its function in a generated client, and every set of choices is one
shared enum (`Gender`, `AppointmentStatus`, ...) used by bodies, answers and filters alike. A PATCH body
needs at least one field.

**Files.** Image bytes (`GET /me/picture`) come as `image/jpeg`, `image/png`, `image/webp` or
`image/gif`, calendars as `text/calendar`; neither is wrapped in the envelope. Client generators that only
know `application/octet-stream` for bytes can be told so, e.g. openapi-python-client's
`content_type_overrides: {"image/jpeg": "application/octet-stream", ...}`.

**Errors** you may meet anywhere: 404 `not_found` for objects you may not see (existence never leaks),
429 `rate_limited` with `Retry-After`, 500 `internal` (no details; quote the `X-Request-ID` header),
503 `service_unavailable` with `Retry-After` when a service the request needs is down (login,
`/sessions`, registration and reset requests cannot be rate-limited without Redis, so they wait for it).
"""

IMAGE_TYPES = tuple(media_type for media_type, _ in image_files.FORMATS.values())

SECURITY_SCHEMES = {
    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                   "description": "An access token from /auth/login or /auth/token."},
    "cookieSession": {"type": "apiKey", "in": "cookie", "name": "portal_session",
                      "description": "The portal session cookie set by POST /sessions or the portal's login."},
    "csrfToken": {"type": "apiKey", "in": "header", "name": "X-CSRFToken",
                  "description": "Needed with the session cookie on POST, PUT, PATCH and DELETE."},
    "reminderLinkToken": {"type": "apiKey", "in": "query", "name": "token",
                          "description": "The signed token of a reminder mail's link (its last path segment): "
                                         "good for that one appointment and action until its start, no sign-in "
                                         "needed. When present it alone decides."},
}
SECURITY = [{"bearerAuth": []}, {"cookieSession": [], "csrfToken": []}]
# The answers to a reminder (confirm, cancel) also take the signed token of its link instead of a sign-in.
LINK_SECURITY = [{"reminderLinkToken": []}, *SECURITY]
SAFE_METHODS = ("get", "head", "options")

ERROR_RESPONSES = {
    400: "Incomplete: the body is not valid JSON (`malformed_json`) or a required field is missing "
         "(`missing_field`, with `error.fields`).",
    401: "No or bad credentials: `unauthenticated`, `token_expired`, `token_revoked`, or `csrf_failed` "
         "(session cookie on an unsafe method without a valid X-CSRFToken).",
    403: "Authenticated, but this role may not do this (`forbidden`), or the account is deactivated "
         "(`account_inactive`) or waits for approval (`account_pending`).",
    404: "No such object, or one you may not see (`not_found`).",
    405: "The path exists but not with this method (`method_not_allowed`).",
    409: "The request conflicts with the current state; `error.code` names the conflict.",
    413: "The body is larger than allowed (`too_large`): 1 MB for JSON, the upload limit for multipart.",
    415: "Unsupported media (`unsupported_media`): a JSON endpoint got another content type, or an "
         "upload is not a JPEG, PNG, WebP or GIF image.",
    422: "A field failed validation or is unknown, or its text holds a NUL or a lone surrogate "
         "(`validation_error`, with `error.fields`).",
    429: "Too many attempts (`rate_limited`); retry after the seconds in `Retry-After`.",
    500: "A bug on our side (`internal`); the message and `X-Request-ID` carry the request id.",
    503: "A service this needs is down for a moment (`service_unavailable`); retry after `Retry-After` seconds.",
}
HEADERS = {
    429: {"Retry-After": {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}}},
    503: {"Retry-After": {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}}},
    500: {"X-Request-ID": {"description": "The id of this request in the server's logs.",
                           "schema": {"type": "string"}}},
}


def response_name(code: int) -> str:
    """The component name flask-smorest uses for a status code; we fill these with our envelope."""
    return HTTPStatus(code).name


class HouseRules(BasePlugin):
    """Per operation: its operationId from OPERATION_IDS, any endpoint may answer 500, safe methods need
    no CSRF token with the cookie. Per body schema: the keywords its `openapi_extra` adds."""

    def __init__(self, prefix: str):
        self.prefix = prefix

    def schema_helper(self, name, definition, schema=None, **kwargs):
        return getattr(resolve_schema_cls(schema), "openapi_extra", None) if schema is not None else None

    def operation_helper(self, path=None, operations=None, **kwargs):
        for method, operation in (operations or {}).items():
            operation_id = OPERATION_IDS.get(operation_key(method, path, self.prefix))
            if operation_id:  # a missing one fails tests/api/test_openapi.py, never the served document
                operation["operationId"] = operation_id
            operation.setdefault("responses", {}).setdefault(500, response_name(500))
            if method in SAFE_METHODS and "security" in operation:
                operation["security"] = [{name: scopes for name, scopes in requirement.items() if name != "csrfToken"}
                                         for requirement in operation["security"]]


def named_enum(converter, field, ret, **kwargs) -> dict:
    """A field made by schemas.common.enum_field becomes a $ref to one shared enum component (plus null
    when it may be null), so a generated client has one `Gender` class, not one per schema and field.
    A fields.Constant becomes a `const`. Mutates `ret`: apispec merges attribute functions' results."""
    if isinstance(field, fields.Constant):
        ret.pop("enum", None)
        return {"type": "string", "const": field.constant}
    name = field.metadata.get(ENUM_COMPONENT)
    if not name:
        return {}
    values = [value for value in ret.pop("enum") if value is not None]
    ret.pop("type", None)
    components = converter.spec.components
    if name not in components.schemas:
        components.schema(name, {"type": "string", "enum": values})
    elif components.schemas[name]["enum"] != values:
        raise ValueError(f"enum component {name} is declared with two different sets of values")
    reference = {"$ref": f"#/components/schemas/{name}"}
    return {"anyOf": [reference, {"type": "null"}]} if field.allow_none else reference


def image_response(description: str) -> dict:
    """For @blp.doc(responses=...): a 200 that is an image's bytes in one of the formats uploads are
    re-encoded to, each media type named, so a client knows what it may get (see **Files** in DESCRIPTION)."""
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {"200": {"description": description, "content": {media_type: binary for media_type in IMAGE_TYPES}}}


class SharedEnums(MarshmallowPlugin):
    """flask-smorest's marshmallow plugin plus named_enum, in place before the first schema is converted
    (init_app already documents the error envelope)."""

    def init_spec(self, spec):
        super().init_spec(spec)
        self.converter.add_attribute_function(named_enum)


def spec_kwargs(prefix: str) -> dict:
    return {"marshmallow_plugin": SharedEnums(), "extra_plugins": [HouseRules(prefix)],
            "info": {"description": DESCRIPTION}}


def prepare(api: Api) -> None:
    """Before init_app: flask-smorest documents its default error responses with this schema."""
    api.ERROR_SCHEMA = ErrorEnvelopeSchema


def document(api: Api) -> None:
    """After init_app: security schemes and our error responses (replacing flask-smorest's lazy ones)."""
    components = api.spec.components
    for name, scheme in SECURITY_SCHEMES.items():
        components.security_scheme(name, scheme)
    for code, description in ERROR_RESPONSES.items():
        response = {"description": description,
                    "content": {"application/json": {"schema": ErrorEnvelopeSchema}}}
        if code in HEADERS:
            response["headers"] = HEADERS[code]
        components.response(response_name(code), response, lazy=True)
    components.response("DEFAULT_ERROR", {
        "description": "Any other error, in the same envelope.",
        "content": {"application/json": {"schema": ErrorEnvelopeSchema}}}, lazy=True)
