"""The OpenAPI document describes every endpoint we serve, and the docs page runs on local assets only."""
import re

import pytest
import schemathesis

from tests.fixtures.api_client import PREFIX

NOT_OPERATIONS = {f"{PREFIX}/openapi.json", f"{PREFIX}/docs"}
ASSET = re.compile(r'<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"')


@pytest.fixture
def document(client):
    response = client.get(f"{PREFIX}/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


def _served(app) -> dict[str, set[str]]:
    served: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(PREFIX) and rule.rule not in NOT_OPERATIONS:
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            served.setdefault(path, set()).update(m.lower() for m in rule.methods - {"HEAD", "OPTIONS"})
    return served


def test_the_document_is_valid_openapi_3_1(document):
    assert document["openapi"] == "3.1.0"
    schemathesis.openapi.from_dict(document).validate()


def test_every_served_path_and_method_is_documented(app, document):
    served = _served(app)
    assert {f"{PREFIX}/auth/login", f"{PREFIX}/me/picture", f"{PREFIX}/admin/users/{{user_id}}"} <= set(served)
    documented = {path: set(operations) - {"parameters"} for path, operations in document["paths"].items()}
    assert documented == served


def test_every_operation_documents_its_envelope_and_errors(document):
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            responses = operation["responses"]
            assert "500" in responses and "default" in responses, (method, path)
            successes = [code for code in responses if code.startswith("2")]
            assert successes, (method, path)
            if "security" in operation:
                assert "401" in responses, (method, path)
            if "requestBody" in operation:
                assert {"400", "422"} <= set(responses), (method, path)


def test_error_responses_use_the_error_envelope(document):
    for name in ("BAD_REQUEST", "UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "CONFLICT", "UNPROCESSABLE_ENTITY",
                 "TOO_MANY_REQUESTS", "INTERNAL_SERVER_ERROR"):
        response = document["components"]["responses"][name]
        assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorEnvelope"}
    assert "Retry-After" in document["components"]["responses"]["TOO_MANY_REQUESTS"]["headers"]
    envelope = document["components"]["schemas"]["ErrorEnvelope"]
    assert {"status", "message", "error"} <= set(envelope["required"])


def test_auth_schemes_and_open_choices_are_written_down(document):
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerAuth"]["scheme"] == "bearer"
    assert schemes["cookieSession"]["in"] == "cookie" and schemes["csrfToken"]["name"] == "X-CSRFToken"
    description = document["info"]["description"]
    assert "csrf_failed" in description and "415" in description
    me = document["paths"][f"{PREFIX}/me"]
    assert {"cookieSession": []} in me["get"]["security"]
    assert {"cookieSession": [], "csrfToken": []} in me["patch"]["security"]
    login = document["paths"][f"{PREFIX}/auth/login"]["post"]
    assert "security" not in login and "requestBody" in login


def test_request_bodies_and_parameters_are_described(document):
    register = document["paths"][f"{PREFIX}/auth/register"]["post"]["requestBody"]["content"]["application/json"]
    schema = document["components"]["schemas"][register["schema"]["$ref"].rsplit("/", 1)[1]]
    assert {"username", "email", "password", "full_name"} <= set(schema["required"])
    upload = document["paths"][f"{PREFIX}/me/picture"]["put"]["requestBody"]["content"]
    assert "multipart/form-data" in upload
    parameters = {p["name"] for p in document["paths"][f"{PREFIX}/admin/users"]["get"]["parameters"]}
    assert parameters == {"page", "per_page", "role", "pending"}


def test_the_docs_page_loads_only_local_assets_under_the_csp(client):
    response = client.get(f"{PREFIX}/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assets = ASSET.findall(html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets) and any(a.endswith(".css") for a in assets)
    assert "<script>" not in html  # no inline script: the CSP would block it
    for asset in assets:
        assert asset.startswith("/static/"), asset
        assert client.get(asset).status_code == 200, asset
    assert f'data-spec-url="{PREFIX}/openapi.json"' in html
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
