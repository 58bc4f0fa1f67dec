"""The Flask side of the directory answer cache (services/directory/answer_cache.py).

Only anonymous GET/HEAD requests of the public directory (the endpoints of caching.CACHE_CONTROL) take
part: a request with credentials may see more (a doctor sees every slot) and is never answered from,
nor kept in, the cache. The key is the endpoint, its path arguments and the query string exactly as
sent. A reused answer skips the view (no SQL at all); the after-request hooks still run, so it gets the
same Cache-Control and ETag as a fresh one, and a caller's current ETag is answered 304 (caching.py).
"""
from flask import Response, current_app, g, request

from portal.api import auth
from portal.services.directory import answer_cache


def _key() -> tuple:
    return request.endpoint, tuple(sorted((request.view_args or {}).items())), request.query_string


def reuse(endpoints) -> Response | None:
    """Before the view: the kept answer when it is still valid; otherwise remember to keep the fresh one."""
    if (request.endpoint not in endpoints or request.method not in ("GET", "HEAD") or auth.credentialed()
            or not answer_cache.enabled()):
        return None
    key = _key()
    answer, version = answer_cache.begin(key)
    if answer is not None:
        response = current_app.response_class(answer.body, mimetype="application/json")
        response.set_etag(answer.etag)
        return response
    if version is not None:
        g.answer_to_keep = key, version
    return None


def keep(response: Response) -> None:
    """After the view, once the ETag is set: keep a fresh 200 that reuse() asked for."""
    pending = g.pop("answer_to_keep", None)
    if pending is not None and response.status_code == 200:
        answer_cache.keep(*pending, response.get_data(), response.get_etag()[0])
