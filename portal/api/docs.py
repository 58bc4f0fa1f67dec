"""GET /api/v1/docs: Swagger UI over our OpenAPI document, from vendored assets only.

The page is plain HTML plus an external init script (static/js/api-docs.js), because the portal's CSP
allows no inline script. It is not an API operation, so it sits on a plain blueprint outside the document.
"""
from flask import Blueprint, Flask, render_template, url_for

bp = Blueprint("api_docs_ui", __name__, template_folder="templates")


@bp.get("/docs")
def swagger_ui():
    return render_template("api/docs.html", spec_url=url_for("api-docs.openapi_json"))


def init_app(app: Flask, prefix: str) -> None:
    app.register_blueprint(bp, url_prefix=prefix)
