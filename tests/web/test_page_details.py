"""Small things people noticed on the pages: the login's focus, the doctor's nav, the admin's dashboard,
fees with their currency, and a doctor's speciality and department said once when they are the same."""
import re

from tests.fixtures import clinic


def test_the_login_page_puts_the_cursor_in_its_first_field(web):
    html = web.get("/login").get_data(as_text=True)
    first = re.search(r"<input[^>]*\bid=\"login\"[^>]*>", html).group(0)
    assert "autofocus" in first
    assert html.count("autofocus") == 1


def test_the_doctors_navigation_has_availability(web_as):
    client, _ = web_as("doctor")
    nav = re.search(r'<nav class="site-nav".*?</nav>', client.get("/dashboard").get_data(as_text=True), re.S).group(0)
    assert '<a href="/doctor/availability">Availability</a>' in nav
    page = client.get("/doctor/availability").get_data(as_text=True)
    assert '<a href="/doctor/availability" aria-current="page">Availability</a>' in page


def test_the_admin_dashboard_links_what_exists_and_promises_nothing(web_as):
    client, _ = web_as("admin")
    html = client.get("/dashboard").get_data(as_text=True)
    assert "will be managed here" not in html and "will be listed here" not in html
    for href in ('href="/admin/departments"', 'href="/admin/doctors"', 'href="/doctor/availability"',
                 'href="/admin/users"', 'href="/api/v1/docs"'):
        assert href in html
    for href in re.findall(r'href="(/[^"]*)"', html):
        assert client.get(href).status_code == 200, href


def test_fees_show_the_clinics_currency(app, web):
    with app.app_context():
        doctor_id = clinic.doctor(full_name="Dr Fee Shown", fees=1250).id
    assert "Fee per visit: 1,250.00 EUR" in web.get(f"/doctors/{doctor_id}").get_data(as_text=True)
    assert "Fee per visit: 1,250.00 EUR" in web.get("/doctors?q=Fee").get_data(as_text=True)
    app.config["CLINIC_CURRENCY"] = "CHF"
    try:
        assert "Fee per visit: 1,250.00 CHF" in web.get(f"/doctors/{doctor_id}").get_data(as_text=True)
    finally:
        app.config["CLINIC_CURRENCY"] = "EUR"


def test_a_card_names_speciality_and_department_only_when_they_differ(app, web):
    with app.app_context():
        heart = clinic.department("Cardiology")
        general = clinic.department("General practice")
        same = clinic.doctor(heart, speciality="Cardiology", full_name="Dr Same Name").id
        other = clinic.doctor(general, speciality="Diagnostics", full_name="Dr Other Name").id
    results = web.get("/doctors").get_data(as_text=True)
    assert "Cardiology · Cardiology" not in results
    assert "<p>Cardiology</p>" in results and "<p>Diagnostics · General practice</p>" in results
    assert '<p class="lead">Cardiology</p>' in web.get(f"/doctors/{same}").get_data(as_text=True)
    assert '<p class="lead">Diagnostics · General practice</p>' in web.get(f"/doctors/{other}").get_data(as_text=True)
