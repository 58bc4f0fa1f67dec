"""A patient's own pages: the records timeline (read only), who looked (emergency marked), and the download
as a JSON file and as a printable page; none of it open to another role or showing another patient."""
import json

from tests.web.record_pages import assign, is_patient_page, patient_of, record


def test_a_patient_reads_their_records_without_edit_buttons(app, web_as, factories):
    client, me = web_as("patient")
    doctor = factories.user("doctor", full_name="Dr Rita Reader")
    record(app, me.patient_id, doctor.doctor_id, "Hay fever", earlier=["Sneezing"])
    record(app, patient_of(app, doctor.id, "Someone Else"), doctor.doctor_id, "Not mine")
    response = client.get("/my/records")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and is_patient_page(response)
    assert "Hay fever" in html and "Dr Rita Reader" in html and "Not mine" not in html
    assert "/edit" not in html and "Archive" not in html and "Earlier versions" in html
    dashboard = client.get("/dashboard").get_data(as_text=True)
    for link in ("/my/records", "/my/images", "/my/access-log", "/my/download"):
        assert f'href="{link}"' in dashboard


def test_who_looked_lists_the_doctor_who_read_the_record(app, web_as, factories):
    client, me = web_as("patient")
    doctor, doc = web_as("doctor", full_name="Dr Lena Looker")
    assign(app, me.patient_id, doc.doctor_id)
    record(app, me.patient_id, doc.doctor_id, "Checked")
    assert doctor.get(f"/patients/{me.patient_id}").status_code == 200
    response = client.get("/my/access-log")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and is_patient_page(response)
    assert "Dr Lena Looker" in html and "(doctor)" in html and "Read" in html and "Emergency access</span>" not in html


def test_download_my_record_as_a_file_and_a_printable_page(app, web_as, factories):
    client, me = web_as("patient", full_name="Paula Printer")
    doctor = factories.user("doctor")
    record(app, me.patient_id, doctor.doctor_id, "Migraine", earlier=["Headache"])
    page = client.get("/my/download").get_data(as_text=True)
    link = f'href="/api/v1/patients/{me.patient_id}/export" download="my-medical-record.json"'
    assert link in page  # the API's own export, which takes the browser's session for a GET
    response = client.get(f"/api/v1/patients/{me.patient_id}/export")
    assert response.status_code == 200 and response.mimetype == "application/json"
    document = json.loads(response.get_data(as_text=True))["data"]
    assert document["patient"]["full_name"] == "Paula Printer"
    [filed] = document["records"]
    assert filed["diagnostics"] == "Migraine" and [v["diagnostics"] for v in filed["versions"]] == ["Headache"]
    printable = client.get("/my/record")
    html = printable.get_data(as_text=True)
    assert printable.status_code == 200 and "Medical record of Paula Printer" in html
    assert "Migraine" in html and "Headache" in html


def test_staff_may_not_open_a_patients_own_pages(web_as):
    for role in ("doctor", "admin"):
        client, _me = web_as(role)
        for url in ("/my/records", "/my/images", "/my/access-log", "/my/download", "/my/record"):
            assert client.get(url).status_code == 403, (role, url)
