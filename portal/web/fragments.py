"""One template serves a full page and its fragment: the fragment goes only to htmx requests from its widget.

`hx-boost` also sends HX-Request, so the widget is recognised by its target (HX-Target, the id of the
element being swapped), never by HX-Request alone; responses say so in `Vary`.
"""
from flask import make_response, render_template, request

VARY = ("HX-Request", "HX-Target")


def from_widget(element_id: str) -> bool:
    """True for an htmx request whose swap target is the element with this id."""
    return bool(request.htmx) and request.htmx.target == element_id


def render(page: str, fragment: str, element_id: str, status: int = 200, /, **context):
    """The fragment for its widget's own requests, the full page for everything else."""
    template = fragment if from_widget(element_id) else page
    response = make_response(render_template(template, **context), status)
    for header in VARY:
        response.vary.add(header)
    return response
