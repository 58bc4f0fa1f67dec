"""What every patient-record page shares: the actor of the request, 404 for what policy hides, and
answers that never leave patient data in a cache.

Pages of patient data are rendered with `patient_data` set, so base.html adds hx-history="false" (htmx
keeps no copy for its history) and access.py sends Cache-Control: no-store with every HTML page.
"""
from collections.abc import Callable
from typing import TypeVar

from flask import abort

from portal import auth_context
from portal.services.actor import Actor
from portal.services.errors import NotFound
from portal.web import fragments

T = TypeVar("T")


def actor() -> Actor:
    return auth_context.actor_for(auth_context.session_user())


def visible(read: Callable[..., T], *args, **kwargs) -> T:
    """The service's answer for the signed-in user, or a 404 page when policy hides the object."""
    try:
        return read(actor(), *args, **kwargs)
    except NotFound:
        abort(404)


def render(page: str, fragment: str, element_id: str, status: int = 200, /, **context):
    """fragments.render for a page that shows patient data."""
    return fragments.render(page, fragment, element_id, status, patient_data=True, **context)


def page_number(args) -> int:
    return max(1, args.get("page", 1, type=int) or 1)
