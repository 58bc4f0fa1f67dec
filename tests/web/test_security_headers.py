"""Security headers on HTML pages, and no caching of pages that may hold personal data."""


def test_pages_carry_the_security_headers(web):
    for path in ("/", "/login", "/register", "/no-such-page"):
        headers = web.get(path).headers
        csp = dict(part.strip().split(" ", 1) for part in headers["Content-Security-Policy"].split(";"))
        assert "'unsafe-inline'" not in csp["script-src"] and csp["script-src"] == "'self'"
        assert csp["frame-ancestors"] == "'none'"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] in ("same-origin", "no-referrer", "strict-origin-when-cross-origin")
        assert headers["Cache-Control"] == "no-store"


def test_signed_in_pages_are_not_stored(web_as):
    client, _user = web_as("patient")
    for path in ("/dashboard", "/profile"):
        assert client.get(path).headers["Cache-Control"] == "no-store"
