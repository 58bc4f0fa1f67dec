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
MAX_PAGE = 1_000_000
# Ids in page paths: an id beyond the database's integer is a plain 404, never a database error.
MAX_ID = 2_147_483_647
ID = f"int(min=1, max={MAX_ID})"


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


def id_arg(args, name: str) -> int | None:
    """An id from the query string; one no row can have (or not a number) filters nothing."""
    value = args.get(name, type=int)
    return value if value is not None and 1 <= value <= MAX_ID else None


def page_number(args, param: str = "page") -> int:
    """The ?page= (or another list's `param`) asked for, from 1 to MAX_PAGE (a larger one would overflow
    the database's OFFSET)."""
    return min(max(1, args.get(param, 1, type=int) or 1), MAX_PAGE)
