"""The OpenAPI document describes every endpoint we serve as a client generator needs it (ids, constraints,
shared enums, file responses), and the docs page runs on local assets only."""
import re
from collections import Counter

import pytest
import schemathesis

from portal.api.operation_ids import OPERATION_IDS, operation_key
from tests.fixtures.api_client import PREFIX, error_of

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


def _operations(document):
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method != "parameters":
                yield method, path, operation


def _resolve(document, schema: dict) -> dict:
    return document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]] if "$ref" in schema else schema


def _body_schema(document, operation) -> dict:
    return _resolve(document, operation["requestBody"]["content"]["application/json"]["schema"])


def _suggested_id(method: str, path: str) -> str:
    """A name in the house style for a missing operationId, for the failure message to propose."""
    nouns = [part for part in re.split(r"[/_.-]", re.sub(r"{\w+}", "", path.removeprefix(PREFIX))) if part]
    verb = {"post": "create", "patch": "update", "put": "put", "delete": "delete"}.get(method)
    verb = verb or ("get" if path.endswith("}") else "list")
    return verb + "".join(noun.title() for noun in nouns)


def test_every_operation_has_a_unique_operation_id_and_a_tag(document):
    missing = [f'"{operation_key(method, path, PREFIX)}": "{_suggested_id(method, path)}",'
               for method, path, operation in _operations(document) if "operationId" not in operation]
    assert not missing, ("Add an operationId for each new operation to OPERATION_IDS in "
                         "portal/api/operation_ids.py, for example:\n" + "\n".join(missing))
    ids = Counter(operation["operationId"] for _, _, operation in _operations(document))
    assert [name for name, count in ids.items() if count > 1] == []
    assert all(re.fullmatch(r"[a-z][A-Za-z]+", name) for name in ids), ids
    tags = {tag["name"] for tag in document["tags"]}
    for method, path, operation in _operations(document):
        assert len(operation["tags"]) == 1 and operation["tags"][0] in tags, (method, path)
    login = document["paths"][f"{PREFIX}/auth/login"]["post"]
    assert (login["operationId"], login["tags"]) == ("login", ["auth"])


def test_the_operation_id_map_has_no_stale_entries(document):
    documented = {operation_key(method, path, PREFIX) for method, path, _ in _operations(document)}
    stale = set(OPERATION_IDS) - documented
    assert not stale, f"These endpoints are gone: remove them from portal/api/operation_ids.py: {sorted(stale)}"


def test_passwords_and_login_names_are_described_as_the_code_checks_them(document):
    schemas = document["components"]["schemas"]
    for name in ("Register", "Reset", "ProfileChanges"):
        password = schemas[name]["properties"]["password"]
        assert (password["minLength"], password["maxLength"]) == (12, 128), name
    login = schemas["Login"]
    assert login["required"] == ["password"]
    assert login["if"]["not"]["required"] == ["username"] and login["then"]["required"] == ["email"]


def test_time_window_bounds_are_a_date_or_a_date_time(document):
    bounds = {"from", "to", "start", "end", "available_from", "available_to"}
    seen = set()
    for method, path, operation in _operations(document):
        for parameter in operation.get("parameters", []):
            if parameter["name"] in bounds:
                seen.add(f"{path}?{parameter['name']}")
                formats = [choice["format"] for choice in parameter["schema"]["anyOf"]]
                assert formats == ["date", "date-time"], (method, path, parameter)
    assert {f"{PREFIX}/appointments?from", f"{PREFIX}/specialities/{{name}}/slots?end",
            f"{PREFIX}/doctors?available_to"} <= seen


def test_patch_bodies_must_not_be_empty(document, api, factories):
    for method, path, operation in _operations(document):
        if method == "patch" and "requestBody" in operation:
            assert _body_schema(document, operation).get("minProperties", 0) >= 1, (
                f"PATCH {path}: refuse an empty body and say so with openapi_extra = {{'minProperties': 1}}")
    token = api.token_for(factories.user())
    error_of(api.patch("/me", token=token, json={}), 422, "validation_error")


def _enums(node):
    if isinstance(node, dict):
        yield from ([node["enum"]] if "enum" in node else [])
        node = list(node.values())
    for child in node if isinstance(node, list) else ():
        yield from _enums(child)


def test_enums_are_shared_components_and_a_nullable_one_is_one_type(document):
    schemas = document["components"]["schemas"]
    assert schemas["Gender"] == {"type": "string", "enum": ["female", "male", "other", "unspecified"]}
    genders = [schemas[name]["properties"]["gender"] for name in ("Register", "User", "DoctorSummary",
                                                                  "DoctorChanges", "ProfileChanges")]
    assert all(gender["anyOf"] == [{"$ref": "#/components/schemas/Gender"}, {"type": "null"}] for gender in genders)
    status = next(p for p in document["paths"][f"{PREFIX}/appointments"]["get"]["parameters"] if p["name"] == "status")
    assert status["schema"] == {"$ref": "#/components/schemas/AppointmentStatus"}
    assert schemas["Appointment"]["properties"]["status"] == status["schema"]
    assert [enum for enum in _enums(document) if None in enum] == []  # null goes beside the $ref, not in the enum
    assert schemas["TokenPair"]["properties"]["token_type"]["const"] == "Bearer"
    assert schemas["ErrorEnvelope"]["properties"]["status"] == {"$ref": "#/components/schemas/ErrorStatus"}


def test_file_responses_name_their_media_types(document):
    picture = document["paths"][f"{PREFIX}/me/picture"]["get"]["responses"]["200"]["content"]
    assert set(picture) == {"image/jpeg", "image/png", "image/webp", "image/gif"}
    assert all(media["schema"] == {"type": "string", "format": "binary"} for media in picture.values())
    calendar = document["paths"][f"{PREFIX}/appointments/{{appointment_id}}.ics"]["get"]["responses"]["200"]
    assert calendar["content"] == {"text/calendar": {"schema": {"type": "string"}}}


@pytest.mark.parametrize("query", ["/admin/audit?to=", "/appointments?from=", "/doctors?available_from=%202027-01-04",
                                   "/doctors/1/slots?to=2027-01-04%20", "/specialities/Neurology/slots?start=&end="])
def test_a_window_bound_is_a_date_or_a_date_time_not_an_empty_or_padded_text(api, factories, query):
    """Found by schemathesis: `to=` was read as no bound (200), where the document allows only the two formats."""
    token = api.token_for(factories.user(role="admin"))
    body = error_of(api.get(query, token=token), 422, "validation_error")
    assert set(body["error"]["fields"]) & {"from", "to", "start", "end", "available_from"}, body
