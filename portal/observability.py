"""Request ids and structured logs: one JSON object a line, each with the request id."""
import json
import logging
import secrets
import time
from datetime import UTC, datetime

from flask import Flask, g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-ID"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if has_request_context():
            entry["request_id"] = getattr(g, "request_id", None)
        for key in ("method", "path", "status", "ms", "user_id"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def _incoming_request_id() -> str:
    """Accept a caller's id when it is short and plain, so traces join up across a load balancer."""
    given = request.headers.get(REQUEST_ID_HEADER, "")
    if 8 <= len(given) <= 64 and all(c.isalnum() or c in "-_" for c in given):
        return given
    return secrets.token_hex(12)


def init_app(app: Flask) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    app.logger.handlers[:] = [handler]
    app.logger.setLevel(logging.INFO)
    app.logger.propagate = False
    log = app.logger

    @app.before_request
    def _start() -> None:
        g.request_id = _incoming_request_id()
        g.started = time.perf_counter()
        g.received_at = datetime.now(UTC)  # wall clock, for rules that ask "what happened first"

    @app.after_request
    def _finish(response):
        response.headers[REQUEST_ID_HEADER] = g.get("request_id", "")
        if not app.testing:
            elapsed = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
            log.info("request", extra={"method": request.method, "path": request.path,
                                       "status": response.status_code, "ms": round(elapsed, 1)})
        return response
