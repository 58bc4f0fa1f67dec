"""The doctor directory's live filter: the results as a fragment for htmx, the whole page for a plain GET."""
import re

from portal.services import clinic_time
from tests.fixtures import clinic


def doctors(app):
    with app.app_context():
        heart = clinic.department("Heart Centre")
        clinic.doctor(heart, full_name="Dr Adam Baker", speciality="Cardiology")
        clinic.doctor(heart, full_name="Dr Carla Diaz", speciality="Cardiology")
        skin = clinic.doctor(full_name="Dr Zoe Young", speciality="Dermatology")
        return skin.id


def test_the_search_form_filters_as_one_types_and_keeps_the_url(app, web):
    doctors(app)
    html = web.get("/doctors").get_data(as_text=True)
    assert 'hx-get="/doctors" hx-target="#doctor-results"' in html
    assert 'hx-push-url="true" hx-trigger="input changed delay:300ms, search, submit"' in html
    assert 'method="get" action="/doctors"' in html  # the same form works without JavaScript


def test_the_live_filter_gets_only_the_results(app, web):
    doctors(app)
    response = web.htmx_get("/doctors?q=carla&speciality=&department_id=", target="doctor-results")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith('<div id="doctor-results"')
    assert "Dr Carla Diaz" in html and "Dr Adam Baker" not in html and "1 doctor</p>" in html
    assert {"HX-Request", "HX-Target"} <= set(response.vary)


def test_a_boosted_or_plain_request_gets_the_whole_page(app, web):
    doctors(app)
    plain = web.get("/doctors?q=zoe").get_data(as_text=True)
    assert plain.lstrip().startswith("<!doctype html>") and "Dr Zoe Young" in plain and 'value="zoe"' in plain
    other_widget = web.htmx_get("/doctors?q=zoe", target="main").get_data(as_text=True)
    assert other_widget.lstrip().startswith("<!doctype html>")


def test_a_bad_range_is_explained_in_the_results_while_typing(app, web):
    response = web.htmx_get("/doctors?available_from=2030-05-10&available_to=2030-05-01", target="doctor-results")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" not in html
    assert "Available until: The end must come after the start." in html


def test_each_doctor_links_to_their_page_on_the_week_of_their_next_free_time(app, web):
    skin_id = doctors(app)
    with app.app_context():
        starts = clinic.soon(24 * 10)
        clinic.slot(skin_id, starts)
        day = clinic_time.to_local(starts).date()
    html = web.get("/doctors?speciality=dermatology").get_data(as_text=True)
    assert f'<a href="/doctors/{skin_id}">Dr Zoe Young</a>' in html
    assert f'href="/doctors/{skin_id}?week={day.isoformat()}">See free times' in html


def test_the_speciality_is_picked_from_the_specialities_that_exist(app, web):
    with app.app_context():
        clinic.doctor(full_name="Dr Adam Baker", speciality="Cardiology")
        clinic.doctor(full_name="Dr Zoe Young", speciality="Dermatology")
    html = web.get("/doctors").get_data(as_text=True)
    options = re.findall(r'<option (?:selected )?value="([^"]*)"', html[html.index('name="speciality"'):])
    assert options[:3] == ["", "Cardiology", "Dermatology"]
    filtered = web.get("/doctors?speciality=Dermatology").get_data(as_text=True)
    assert "Dr Zoe Young" in filtered and "Dr Adam Baker" not in filtered
