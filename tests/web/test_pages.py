"""Public pages, dashboards by role and the navigation each role sees."""
import re


def nav_links(html: str) -> list[str]:
    nav = re.search(r'<nav class="site-nav".*?</nav>', html, re.S).group(0)
    labels = re.findall(r"<(?:a|button)[^>]*>(.*?)</(?:a|button)>", nav, re.S)
    return [re.sub(r"\s+", " ", label).strip() for label in labels]


def test_home_shows_the_clinic_and_a_doctor_search(web, app):
    response = web.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert app.config["CLINIC_NAME"] in html
    assert 'role="search"' in html and 'action="/doctors"' in html
    for label in ("Speciality", "Department", "Doctor&#39;s name", "Available from", "Available until"):
        assert label in html
    assert nav_links(html) == ["Home", "Find a doctor", "Log in", "Register"]


def test_layout_is_accessible_and_loads_only_static_scripts(web):
    html = web.get("/").get_data(as_text=True)
    assert 'href="#main"' in html and 'id="main"' in html
    assert '<nav class="site-nav" aria-label="Main">' in html
    assert 'id="messages" class="messages" role="status"' in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert '<script src="/static/vendor/htmx.min.js" defer></script>' in html
    assert '<script src="/static/js/portal.js" defer></script>' in html
    assert "<script>" not in html and "style=" not in html and "<style" not in html


def test_static_assets_are_served(web):
    assert b"X-CSRFToken" in web.get("/static/js/portal.js").data
    assert b".htmx-indicator" in web.get("/static/css/portal.css").data
    assert web.get("/static/vendor/htmx.min.js").status_code == 200


def test_each_role_sees_its_own_navigation_and_dashboard(web_as):
    expected = {
        "patient": (["Dashboard", "Find a doctor", "My records", "Profile", "Log out"], "Your dashboard",
                    "Upcoming appointments"),
        "doctor": (["Dashboard", "Availability", "My patients", "My department", "My doctor profile", "Profile",
                    "Log out"], "Doctor's dashboard", "Today and the coming days"),
        "admin": (["Dashboard", "Users", "Departments", "Doctors", "Patients", "Audit log", "Profile", "Log out"],
                  "Administration", "Doctors waiting for approval"),
    }
    for role, (links, heading, panel) in expected.items():
        client, _user = web_as(role)
        html = client.get("/dashboard").get_data(as_text=True)
        assert nav_links(html) == links, role
        assert f"<h1>{heading}</h1>" in html and panel in html


def test_the_dashboard_needs_a_login(web):
    response = web.get("/dashboard")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/dashboard"


def test_patient_pages_keep_no_htmx_history_copy(web_as):
    client, _user = web_as("patient")
    html = client.get("/dashboard").get_data(as_text=True)
    assert '<body hx-history="false">' in html
    assert '"historyCacheSize": 0' in html
