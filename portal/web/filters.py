"""Jinja filters and globals the pages share: clinic time with its zone named, fees with their currency,
and page links."""
from datetime import datetime
from decimal import Decimal

from flask import Flask, current_app, request, url_for

from portal import auth_context
from portal.services import clinic_time as clock
from portal.services.scheduling import appointments, booking_rules

DEFAULT_TIME_FORMAT = "%a %d %b %Y, %H:%M %Z"


def clinic_time(value: datetime | None, fmt: str = DEFAULT_TIME_FORMAT) -> str:
    """An aware UTC datetime as the clinic's wall clock shows it, with the zone abbreviation (CET, CEST).

    People read times in the clinic's zone whatever their own, so the zone is always named.
    """
    if value is None:
        return ""
    if value.tzinfo is None:
        raise ValueError("clinic_time needs an aware datetime")
    return clock.to_local(value).strftime(fmt)


def money(amount: Decimal | float | int | None) -> str:
    """A fee as people read it, with the clinic's currency (CLINIC_CURRENCY): "1,250.00 EUR"; empty for none."""
    if amount is None:
        return ""
    return f"{Decimal(amount):,.2f} {current_app.config['CLINIC_CURRENCY']}"


def page_url(page: int, param: str = "page", endpoint: str | None = None, **values) -> str:
    """The current page's URL with another page number in `param` (a page with several lists pages each by
    its own), keeping every filter in the query string; or `endpoint`'s URL, for a list a POST also shows."""
    if endpoint is not None:
        return url_for(endpoint, **values, **{param: page})
    args = request.args.to_dict(flat=False)
    args[param] = [str(page)]
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def too_late_to_change(appointment) -> str | None:
    """Why the signed-in patient may no longer cancel or move it online (the change cut-off, with the clinic's
    phone), or None: staff, and patients before the cut-off."""
    refusal = booking_rules.change_refusal(auth_context.actor_for(auth_context.session_user()), appointment)
    return refusal.message if refusal is not None else None


def init_app(app: Flask) -> None:
    app.add_template_filter(clinic_time)
    app.add_template_filter(money)
    app.add_template_global(page_url)
    app.add_template_global(too_late_to_change)
    # Which buttons an appointment gets: the services' own rules, so a page never offers what they refuse.
    app.add_template_test(lambda appointment: appointments.change_refusal(appointment) is None, "changeable")
    app.add_template_test(lambda appointment: appointments.closing_refusal(appointment) is None, "closable")

    @app.context_processor
    def _clinic():
        return {"clinic_name": app.config["CLINIC_NAME"]}
