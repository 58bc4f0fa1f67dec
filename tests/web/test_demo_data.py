"""The demo doctor can try closing visits at once: the demo data has visits earlier today and on the last
few days, still open, and the portal offers to mark them completed or no-show."""
import re

import time_machine

from portal.services import demo_data
from tests.fixtures.api_client import uploads  # noqa: F401, F811 (fixture)
from tests.fixtures.web_client import WebClient

NOON_IN_BERLIN = "2026-12-02 11:00:00+00:00"


def test_the_demo_doctor_has_visits_to_close_today_and_on_the_last_days(app):
    with time_machine.travel(NOON_IN_BERLIN, tick=True), app.app_context():
        logins = {role: (username, password) for role, username, password in demo_data.load()}
        doctor = WebClient(app.test_client())
        assert doctor.login(*logins["doctor"]).status_code == 302
        html = doctor.get("/dashboard").get_data(as_text=True)
    earlier = html[html.index('id="earlier-visits"'):html.index('id="todays-appointments"')]
    today = html[html.index('id="todays-appointments"'):html.index('id="availability"')]
    assert len(re.findall(r"Mark completed", earlier)) == 6  # two on each of the last three days
    assert "Mon 30 Nov, 10:00" in earlier and "Tue 1 Dec, 11:00" in earlier
    assert re.findall(r"<strong>(\d\d:\d\d)–\d\d:\d\d CET</strong>", today)[:2] == ["10:30", "11:30"]
    assert len(re.findall(r"Mark no-show", today)) == 2
    assert "Pat Smith" in html


def test_the_demo_patient_sees_records_in_two_versions_and_images(app, uploads):  # noqa: F811
    with app.app_context():
        logins = {role: (username, password) for role, username, password in demo_data.load()}
    api = app.test_client()
    token = api.post("/api/v1/auth/login", json=dict(zip(("username", "password"), logins["patient"], strict=True)))
    headers = {"Authorization": f"Bearer {token.get_json()['data']['access_token']}"}
    me = api.get("/api/v1/me", headers=headers).get_json()["data"]
    records = api.get(f"/api/v1/patients/{me['patient_id']}/records", headers=headers).get_json()["data"]
    assert len(records) == 2 and all(record["version"] == 2 for record in records)
    images = api.get(f"/api/v1/patients/{me['patient_id']}/images", headers=headers).get_json()["data"]
    assert [image["content_type"] for image in images] == ["image/png", "image/png"]
    picture = api.get(images[0]["url"], headers=headers)
    assert picture.status_code == 200 and picture.mimetype.startswith("image/")
