"""Anonymous reads of the public directory answer conditional requests (`ETag` → 304).

How long an answer may be reused is one table, by endpoint. Departments and specialities (names and
doctor counts) may be a minute old: nothing booked changes them. Doctors and free slots are `no-cache`:
a browser or proxy may keep them but must ask again every time, and the ETag (a hash of the body)
makes the asking cheap. A booking, a hold or a withdrawn slot changes the body, so the next request
gets the new answer with a new ETag, never a stale one. Credentialed requests keep `no-store`
(auth.no_store): what a signed-in caller reads may be personal.

The same anonymous answers are kept for a few seconds in the server itself (answer_reuse.py), which
is what makes a repeat cheap when the caller has no copy of its own.
"""
from flask import Response, request

from portal.api import answer_reuse, auth

CACHE_CONTROL = {
    "api_departments.list_departments": "public, max-age=60",
    "api_departments.show_department": "public, max-age=60",
    "api_specialities.list_specialities": "public, max-age=60",
    "api_departments.department_doctors": "public, no-cache",
    "api_specialities.speciality_slots": "public, no-cache",
    "api_doctors.search": "public, no-cache",
    "api_doctors.show": "public, no-cache",
    "api_slots.doctor_slots": "public, no-cache",
}


def conditional(response: Response) -> Response:
    """Cache-Control and an ETag on a public read; 304 without a body when the caller's copy is current."""
    policy = CACHE_CONTROL.get(request.endpoint or "")
    if policy is None or request.method not in ("GET", "HEAD") or response.status_code != 200 or auth.credentialed():
        return response
    response.headers["Cache-Control"] = policy
    response.add_etag()
    answer_reuse.keep(response)
    return response.make_conditional(request)


def reuse_answer() -> Response | None:
    """A before-request hook: a kept answer of one of these endpoints, when it is still valid."""
    return answer_reuse.reuse(CACHE_CONTROL)
