"""`@idempotent(blp)`: the one line that makes a create endpoint honour the `Idempotency-Key` header.

Place it right under `@blp.auth(...)`, so the caller is known and the body not yet parsed:

    @blp.post("")
    @blp.auth(Role.PATIENT)
    @idempotent(blp)
    @blp.arguments(...)

A request with a key runs once; its answer is kept (services/idempotency.py) when it is a success or a
4xx the domain gave (a slot already booked stays the answer to that key), and a repeat gets it again
with `Idempotent-Replayed: true`. A body that did not parse (400/415/422 from the parser) and any 5xx or
429 are not kept: the claim is given up, so the retry a client will make runs the request afresh.
"""
import json
from functools import wraps

from flask import Response, current_app, request

from portal.api import auth, errors
from portal.api.openapi import response_name
from portal.api.schemas.common import ErrorEnvelopeSchema
from portal.services import idempotency
from portal.services.errors import DomainError, RateLimited, Unavailable

REPLAYED = "Idempotent-Replayed"
KEPT_HEADERS = ("Content-Type", "Location")

PARAMETER = {
    "in": "header", "name": idempotency.HEADER, "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x20-\\x7E]+$"},
    "description": (
        "Makes a retry safe. A repeat with the same key, caller and request (method, path and body; JSON "
        "compared by content, not spacing or key order) within 24 hours returns the first answer again, "
        "status and body, with the header `Idempotent-Replayed: true`, and does nothing twice. Successes "
        "and 4xx answers of the request itself are kept; 400/415/422 for a body that does not parse, 429 "
        "and 5xx are not, so a retry runs afresh. The same key with another request is **422** "
        "`idempotency_mismatch`; a repeat while the first still runs is **409** `request_in_progress` "
        "(retry shortly); a malformed key (1-255 printable ASCII characters) is **422** `validation_error`. "
        "Keys belong to the caller: two callers never share an answer. When keys cannot be checked (the "
        "store is down) a request with a key is **503** `service_unavailable`; without the key it runs."),
}
UNAVAILABLE = "A service this needs is down: `service_unavailable` (the idempotency store) and the like."


def _canonical_body() -> bytes:
    """The body as compared between repeats: JSON by content; anything else byte for byte."""
    raw = request.get_data(cache=True)
    try:
        return json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, RecursionError):  # not JSON, or nested too deeply: the parser will say so
        return raw


def _kept(response: Response, error: Exception | None) -> bool:
    if error is not None:
        return isinstance(error, DomainError) and not isinstance(error, (RateLimited, Unavailable))
    return 200 <= response.status_code < 300


def _replay(answer: idempotency.Answer) -> Response:
    response = current_app.response_class(answer.body, status=answer.status, headers=answer.headers)
    response.headers[REPLAYED] = "true"
    return response


def _run_once(func, args, kwargs) -> Response:
    key = request.headers.get(idempotency.HEADER)
    if key is None:
        return func(*args, **kwargs)
    found = idempotency.begin(auth.actor().user_id, key,
                              idempotency.fingerprint(request.method, request.path, _canonical_body()))
    if isinstance(found, idempotency.Answer):
        return _replay(found)
    error = None
    try:
        response = current_app.make_response(func(*args, **kwargs))
    except DomainError as raised:  # answered here as the blueprint would, so a 4xx can be kept
        error, response = raised, errors.to_envelope(raised)
    except BaseException:
        idempotency.abandon(found)
        raise
    if _kept(response, error):
        headers = {name: response.headers[name] for name in KEPT_HEADERS if name in response.headers}
        idempotency.finish(found, idempotency.Answer(response.status_code, response.get_data(as_text=True), headers))
    else:
        idempotency.abandon(found)
    return response


def idempotent(blp):
    """Honour Idempotency-Key on this endpoint, and document the header and its 409/422/503 answers."""
    def decorator(func):
        @wraps(func)
        def wrapper(*args, **kwargs):
            return _run_once(func, args, kwargs)

        documented = blp.doc(parameters=[PARAMETER])(wrapper)
        known = documented._apidoc.get("response", {}).get("responses", {})
        for code in (409, 422):
            if code not in known:
                documented = blp.alt_response(code, response=response_name(code))(documented)
        if 503 not in known:
            documented = blp.alt_response(503, schema=ErrorEnvelopeSchema, description=UNAVAILABLE)(documented)
        return documented
    return decorator
