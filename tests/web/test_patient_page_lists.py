"""The patient page's appointments and images page like its records timeline: past the first 20 a pager
leads on, each list swapping only itself under htmx; the gallery's pager also on "My images" and after an
upload (which answers with the gallery) leads to the page the gallery is on, never to the upload's URL."""
from portal.extensions import db
from tests.api.images import png_bytes
from tests.fixtures import clinic
from tests.web.record_pages import patient_of
from tests.web.test_image_pages import image_ids, upload


def _visits(app, patient_id: int, doctor_id: int, count: int, reasons: str) -> None:
    with app.app_context():
        for n, slot in enumerate(clinic.future_slots(doctor_id, count)):
            clinic.appointment(patient_id, slot, reason=f"{reasons} {n}")
        db.session.remove()


def test_the_appointments_page_by_themselves(app, web_as):
    client, me = web_as("doctor")
    patient_id = patient_of(app, me.id)
    _visits(app, patient_id, me.doctor_id, 21, "Visit")
    html = client.get(f"/patients/{patient_id}").get_data(as_text=True)
    assert 'aria-label="Appointment pages"' in html and "Page 1 of 2" in html
    assert "Visit 20<" in html and "Visit 0<" not in html  # newest first
    assert f'href="/patients/{patient_id}?visits_page=2"' in html
    second = client.htmx_get(f"/patients/{patient_id}?visits_page=2", "patient-visits")
    part = second.get_data(as_text=True)
    assert second.status_code == 200 and part.lstrip().startswith('<div id="patient-visits"')
    assert "Visit 0<" in part and "Visit 20<" not in part and "Page 2 of 2" in part and 'rel="prev"' in part
    full = client.get(f"/patients/{patient_id}?visits_page=2").get_data(as_text=True)
    assert "Visit 0<" in full and "Medical records" in full


def test_the_gallery_pages_on_the_patient_page_on_my_images_and_after_an_upload(app, web_as):
    client, me = web_as("doctor")
    patient, mine = web_as("patient")
    patient_id = mine.patient_id
    _visits(app, patient_id, me.doctor_id, 1, "Seen")  # the doctor treats them, so sees their page
    client.get(f"/patients/{patient_id}")
    for count in (10, 10):
        assert upload(client, patient_id, *[png_bytes()] * count).status_code == 200
    answer = upload(client, patient_id, png_bytes()).get_data(as_text=True)
    assert f'href="/patients/{patient_id}?images_page=2"' in answer and "/images?" not in answer
    oldest = min(image_ids(app, patient_id))
    page = client.get(f"/patients/{patient_id}").get_data(as_text=True)
    assert 'aria-label="Image pages"' in page and f"/images/{oldest}/thumbnail" not in page
    second = client.htmx_get(f"/patients/{patient_id}?images_page=2", "patient-images")
    part = second.get_data(as_text=True)
    assert second.status_code == 200 and part.lstrip().startswith('<div id="patient-images"')
    assert f"/images/{oldest}/thumbnail" in part and "Page 2 of 2" in part
    own = patient.get("/my/images").get_data(as_text=True)
    assert 'href="/my/images?images_page=2"' in own and f"/images/{oldest}/thumbnail" not in own
    assert f"/images/{oldest}/thumbnail" in patient.get("/my/images?images_page=2").get_data(as_text=True)
