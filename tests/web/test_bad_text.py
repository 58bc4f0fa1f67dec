"""Text the database cannot store (a NUL) in a portal form or query string: a clear 400 page, never a 500.

The same judge as the API's 422 (portal/input_rules.py); a lone surrogate cannot arrive here, since
percent-encoded form bytes that are not UTF-8 are decoded as U+FFFD.
"""
import pytest


@pytest.mark.parametrize("path, form", [
    ("/login", {"login": "ali\x00ce", "password": "whatever it is"}),
    ("/forgot-password", {"email": "ali\x00ce@example.org"}),
    ("/register", {"full_name": "Alice\x00", "username": "alice", "email": "alice@example.org",
                   "password": "a long enough passphrase", "confirm": "a long enough passphrase"}),
])
def test_a_nul_in_a_form_is_a_400_page(web, path, form):
    web.get(path)
    response = web.post(path, form)
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert "characters we cannot store" in response.get_data(as_text=True)


def test_a_nul_in_a_query_string_is_a_400_page(web):
    response = web.get("/doctors?q=a%00b")
    assert response.status_code == 400 and "characters we cannot store" in response.get_data(as_text=True)
