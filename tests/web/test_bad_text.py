"""Text the database cannot store (a NUL) in any portal form, posted or searched: refused next to its field
with the form kept, never a 500 and never a bare error page.

The same judge as the API's 422 (portal/input_rules.text_problem), applied by web.forms.PortalForm; a lone
surrogate cannot arrive here, since percent-encoded form bytes that are not UTF-8 are decoded as U+FFFD.
"""
import pytest

from portal.web.forms import NO_NUL


@pytest.mark.parametrize("path, form, field", [
    ("/login", {"login": "ali\x00ce", "password": "whatever it is"}, "login"),
    ("/forgot-password", {"email": "ali\x00ce@example.org"}, "email"),
    ("/register", {"full_name": "Alice\x00", "username": "alice", "email": "alice@example.org",
                   "password": "a long enough passphrase", "confirm": "a long enough passphrase"}, "full_name"),
])
def test_a_nul_in_a_form_is_refused_next_to_its_field(web, path, form, field):
    web.get(path)
    response = web.post(path, form)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and response.mimetype == "text/html"
    assert f'id="{field}-errors"' in html and NO_NUL in html


def test_a_nul_in_a_search_is_refused_next_to_the_search_box(web):
    response = web.get("/doctors?q=a%00b")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="q-errors"' in html and NO_NUL in html
