"""What every request's input must be, for the JSON API and the portal's pages alike.

- Ids in paths (`<id:appointment_id>`) are plain ASCII decimals without leading zeros, 1 to MAX_ID:
  "01", "１" (a full-width digit) or "+1" name no object, so they are 404 rather than object 1.
- Text is valid Unicode that PostgreSQL can store: no NUL, no lone UTF-16 surrogate ("a\\ud800" in
  JSON text decodes to one). `text_problem(s)` is the one judge; the API's parser turns its answer into
  422 `validation_error`, and every portal form (web.forms.PortalForm) shows it next to its field.
- Bodies that are not multipart uploads (JSON, form posts) stop at MAX_JSON_BYTES, checked from
  Content-Length before reading and while reading a chunked body; only uploads get MAX_CONTENT_LENGTH.
"""
from flask import Flask, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1  # ids are PostgreSQL integers: a larger one cannot exist, so it must not reach a query
MAX_JSON_DEPTH = 32  # far deeper than any body we accept; deeper ones would only exhaust the stack
NO_NUL = "Text may not contain NUL characters."
NOT_UNICODE = "Text must be valid Unicode (a lone UTF-16 surrogate is not)."
UPLOAD_TYPE = "multipart/form-data"


class TooDeep(ValueError):
    """A body nested deeper than MAX_JSON_DEPTH."""


class IdConverter(IntegerConverter):
    """`<id:name>` in a route: an ASCII decimal from 1 to MAX_ID without leading zeros (werkzeug's int
    takes any Unicode digit and "01"); documented as an integer with those bounds."""

    regex = r"[1-9][0-9]{0,9}"

    def __init__(self, url_map, *args, **kwargs):
        super().__init__(url_map, min=1, max=MAX_ID)


def text_problem(text: str) -> str | None:
    """Why PostgreSQL could not store this text, or None."""
    if "\x00" in text:
        return NO_NUL
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return NOT_UNICODE
    return None


def text_problems(value, prefix: str = "", depth: int = 0) -> dict[str, list[str]]:
    """{field: [problem]} for every string (keys too) in a decoded body or form that cannot be stored.

    The walk bounds the nesting (TooDeep), so no later recursive step can run out of stack.
    """
    if depth > MAX_JSON_DEPTH:
        raise TooDeep()
    if isinstance(value, str):
        problem = text_problem(value)
        return {prefix or "body": [problem]} if problem else {}
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    found: dict[str, list[str]] = {}
    for key, item in items:
        name = f"{prefix}.{key}" if prefix else str(key)
        key_problem = text_problem(key) if isinstance(key, str) else None
        if key_problem:
            found["body"] = [key_problem]
            continue
        found.update(text_problems(item, name, depth + 1))
    return found


def _cap_plain_bodies() -> None:
    """Everything but an upload is read at most MAX_JSON_BYTES deep. A declared length over the cap is
    refused before reading a byte; a chunked body is read here up to one byte past the cap (werkzeug
    would stop at the cap silently and hand on a cut body), and the parsers then use what was read."""
    if request.mimetype == UPLOAD_TYPE:
        return
    cap = int(current_app.config["MAX_JSON_BYTES"])
    request.max_content_length = cap
    if (request.content_length or 0) > cap:
        raise RequestEntityTooLarge()
    if request.content_length is None and "chunked" in request.headers.get("Transfer-Encoding", "").lower():
        request.max_content_length = cap + 1
        if len(request.get_data(cache=True)) > cap:
            raise RequestEntityTooLarge()


def init_app(app: Flask) -> None:
    """Register before any other hook, so no extension (CSRF checks read the form) reads a body first."""
    app.url_map.converters["id"] = IdConverter
    app.before_request(_cap_plain_bodies)
