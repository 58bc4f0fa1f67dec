"""The one shape of every JSON answer: {"status", "message", "data"[, "meta"][, "error"]}.

Views return ok()/created()/updated()/deleted()/paged() and let their response schema (made by
schemas.common.envelope) dump `data`, or ok_items() when PostgreSQL wrote the items (database_json.py);
errors.py builds failures with failure(). 204 answers have no body.
"""
from typing import Any

from flask import Response, current_app, jsonify


def _body(status: str, message: str, data: Any = None, **extra: Any) -> dict:
    return {"status": status, "message": message, "data": data, **extra}


def ok(data: Any, message: str = "OK.") -> dict:
    return _body("success", message, data)


def ok_items(items_json: list[str], message: str = "OK.", **extra: Any) -> Response:
    """ok() of a list whose items are JSON text already (api/database_json.py): the envelope around them."""
    head = current_app.json.dumps({"status": "success", "message": message, **extra})
    return current_app.response_class(f'{head[:-1]}, "data": [{",".join(items_json)}]}}',
                                      mimetype=current_app.json.mimetype)


def created(data: Any, message: str = "Created.") -> tuple[dict, int]:
    return _body("created", message, data), 201


def updated(data: Any, message: str = "Updated.") -> dict:
    return _body("updated", message, data)


def deleted(data: Any = None, message: str = "Deleted.") -> dict:
    return _body("deleted", message, data)


def accepted(message: str) -> tuple[dict, int]:
    return _body("success", message), 202


def paged(items: list, page: int, per_page: int, total: int, message: str = "OK.") -> dict:
    return _body("success", message, items, meta=_meta(page, per_page, total))


def paged_items(items_json: list[str], page: int, per_page: int, total: int, message: str = "OK.") -> Response:
    """paged() of a page whose items are JSON text already (ok_items)."""
    return ok_items(items_json, message, meta=_meta(page, per_page, total))


def _meta(page: int, per_page: int, total: int) -> dict:
    return {"page": page, "per_page": per_page, "total": total}


def no_content() -> Response:
    return current_app.response_class(status=204)


def failure(http_status: int, status: str, code: str, message: str,
            fields: dict[str, list[str]] | None = None, headers: dict[str, str] | None = None,
            data: Any = None) -> Response:
    """An error envelope as a finished response (used by the error mapping; by views only for a
    conflict that shows the current state in `data`, such as stale_record)."""
    error: dict[str, Any] = {"code": code}
    if fields:
        error["fields"] = fields
    response = jsonify(_body(status, message, data, error=error))
    response.status_code = http_status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response
