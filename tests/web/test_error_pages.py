"""Friendly error pages with the request id, never a stack trace; API paths keep their JSON."""
import pytest

from portal import create_app


def test_an_unknown_page_is_a_friendly_404_with_the_request_id(web):
    response = web.get("/no/such/page")
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "Page not found" in html and response.headers["X-Request-ID"] in html
    assert "Traceback" not in html and '<nav class="site-nav"' in html


def test_a_wrong_method_is_a_friendly_405(web):
    response = web.client.put("/login")
    assert response.status_code == 405
    assert "That action is not available here" in response.get_data(as_text=True)


def test_a_too_large_upload_is_a_friendly_413(web, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_JSON_BYTES", 1024)  # a form post: not an upload
    response = web.post("/login", {"login": "x" * 4096, "password": "y"})
    html = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "That upload is too large" in html and response.headers["X-Request-ID"] in html


def test_an_unknown_api_path_answers_json_not_a_page(web):
    response = web.get("/api/v1/no-such-endpoint")
    assert response.status_code == 404
    assert response.is_json and response.get_json()["status"] == "failed"


@pytest.fixture
def failing_app(app):
    """A separate app with a route that raises, and exceptions handled as in production."""
    failing = create_app("test", PROPAGATE_EXCEPTIONS=False)

    @failing.get("/boom")
    def boom():
        raise RuntimeError("secret internals: do not show")

    return failing


def test_a_server_error_is_a_friendly_500_with_the_request_id_and_no_traceback(failing_app):
    response = failing_app.test_client().get("/boom")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong on our side" in html
    assert response.headers["X-Request-ID"] in html
    assert "Traceback" not in html and "secret internals" not in html and "RuntimeError" not in html
