"""The doctor list the home page's search leads to: by name, paged, filtered, with clinic times."""
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tests.fixtures import clinic


def test_doctors_are_listed_by_name_with_speciality_and_department(web, ctx):
    heart = clinic.department("Heart Centre")
    clinic.doctor(full_name="Dr Zoe Young", speciality="Dermatology")
    clinic.doctor(heart, full_name="Dr Adam Baker", speciality="Cardiology")
    clinic.doctor(full_name="Dr Gone Away", archived_at=datetime.now(UTC))
    html = web.get("/doctors").get_data(as_text=True)
    assert html.index("Dr Adam Baker") < html.index("Dr Zoe Young")
    assert "Cardiology · Heart Centre" in html and "<p>Dermatology</p>" in html
    assert "Dr Gone Away" not in html and "2 doctors" in html


def test_the_home_search_filters_by_speciality_department_and_name(web, ctx):
    heart, skin = clinic.department("Heart Centre"), clinic.department("Skin Clinic")
    clinic.doctor(heart, full_name="Dr Adam Baker", speciality="Cardiology")
    clinic.doctor(heart, full_name="Dr Carla Diaz", speciality="Cardiology")
    clinic.doctor(skin, full_name="Dr Zoe Young", speciality="Dermatology")
    home = web.get("/").get_data(as_text=True)
    assert f'<option value="{heart.id}">Heart Centre</option>' in home

    html = web.get("/doctors", query_string={"speciality": "cardiology", "department_id": heart.id,
                                             "q": "carla"}).get_data(as_text=True)
    assert "Dr Carla Diaz" in html and "Dr Adam Baker" not in html and "Dr Zoe Young" not in html
    assert 'value="carla"' in html and f'<option selected value="{heart.id}">' in html


def test_the_next_free_time_is_shown_in_clinic_time_with_the_zone(web, ctx):
    doctor = clinic.doctor(full_name="Dr Adam Baker")
    starts = clinic.soon(48)
    clinic.slot(doctor.id, starts)
    html = web.get("/doctors").get_data(as_text=True)
    local = starts.astimezone(ZoneInfo(ctx.config["CLINIC_TZ"]))
    assert f"Next free time: {local:%a %d %b %Y, %H:%M} {local.tzname()}" in html


def test_a_date_range_keeps_only_doctors_free_in_it(web, ctx):
    busy, free = clinic.doctor(full_name="Dr Busy"), clinic.doctor(full_name="Dr Free")
    clinic.slot(free.id, clinic.soon(24 * 3))
    clinic.slot(busy.id, clinic.soon(24 * 20))
    day = (clinic.soon(24 * 3)).astimezone(ZoneInfo(ctx.config["CLINIC_TZ"])).date()
    html = web.get("/doctors", query_string={"available_from": day.isoformat(),
                                             "available_to": (day + timedelta(days=1)).isoformat()}
                   ).get_data(as_text=True)
    assert "Dr Free" in html and "Dr Busy" not in html


def test_a_reversed_date_range_is_explained_next_to_the_field(web, ctx):
    response = web.get("/doctors", query_string={"available_from": "2030-05-10", "available_to": "2030-05-01"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<ul class="field-errors" id="available_to-errors">' in html
    assert "The end must come after the start." in html


def test_the_list_is_paged(web, ctx):
    for n in range(25):
        clinic.doctor(full_name=f"Dr {n:02d}")
    first = web.get("/doctors").get_data(as_text=True)
    assert "Dr 19" in first and "Dr 20" not in first and "Page 1 of 2" in first
    second = web.get("/doctors?page=2").get_data(as_text=True)
    assert "Dr 20" in second and "Dr 24" in second and "Dr 19" not in second
