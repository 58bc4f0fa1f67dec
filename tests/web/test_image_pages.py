"""Patient images in the portal: several uploaded at once into the gallery, refusals next to the field,
viewing one, private bytes, deleting, and who may do which (a foreign patient's image is 404)."""
import io

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import PatientImage
from tests.api.images import bmp_bytes, jpeg_bytes, png_bytes
from tests.web.record_pages import patient_of


def files(*blobs, names=None):
    return [(io.BytesIO(data), (names or [])[n] if names else f"scan{n}.png") for n, data in enumerate(blobs)]


def upload(client, patient_id, *blobs, names=None, htmx=True):
    return client.post(f"/patients/{patient_id}/images", {"files": files(*blobs, names=names)},
                       htmx_target="patient-images" if htmx else None, content_type="multipart/form-data")


def image_ids(app, patient_id):
    with app.app_context():
        return list(db.session.scalars(select(PatientImage.id).where(PatientImage.patient_id == patient_id,
                                                                     PatientImage.archived_at.is_(None))))


def test_a_doctor_uploads_several_images_and_the_gallery_shows_them(app, web_as):
    client, me = web_as("doctor")
    patient_id = patient_of(app, me.id)
    client.get(f"/patients/{patient_id}")
    response = upload(client, patient_id, png_bytes(), jpeg_bytes(), names=["xray.png", "skin.jpg"])
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith('<div id="patient-images"')
    assert "2 images uploaded." in html
    ids = image_ids(app, patient_id)
    assert len(ids) == 2
    for image_id in ids:
        assert f"/images/{image_id}/thumbnail" in html
    thumb = client.get(f"/images/{ids[0]}/thumbnail")
    assert thumb.status_code == 200 and thumb.mimetype.startswith("image/")
    assert thumb.headers["Cache-Control"].startswith("private")


def test_eleven_files_or_a_non_image_are_refused_next_to_the_field_and_nothing_is_kept(app, web_as):
    client, me = web_as("doctor")
    patient_id = patient_of(app, me.id)
    client.get(f"/patients/{patient_id}")
    response = upload(client, patient_id, *[png_bytes()] * 11)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="files-errors"' in html and "at most 10" in html
    response = upload(client, patient_id, png_bytes(), bmp_bytes(), names=["fine.png", "old.bmp"])
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "old.bmp: Upload a JPEG, PNG, WebP or GIF image." in html
    assert image_ids(app, patient_id) == []


def test_viewing_and_deleting_an_image(app, web_as):
    client, me = web_as("doctor")
    patient_id = patient_of(app, me.id)
    client.get(f"/patients/{patient_id}")
    upload(client, patient_id, png_bytes(), names=["xray.png"])
    [image_id] = image_ids(app, patient_id)
    page = client.get(f"/images/{image_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store" and "xray.png" in html
    assert f'src="/images/{image_id}/file"' in html and 'hx-confirm="Delete this image?' in html
    full = client.get(f"/images/{image_id}/file")
    assert full.status_code == 200 and full.mimetype == "image/png"
    response = client.post(f"/images/{image_id}/delete", follow_redirects=True)
    assert "The image is deleted." in response.get_data(as_text=True)
    assert image_ids(app, patient_id) == [] and client.get(f"/images/{image_id}").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PatientImage)) == 1  # archived, kept


def test_a_patient_uploads_to_my_images_but_never_sees_anothers(app, web_as, factories):
    client, me = web_as("patient")
    stranger = factories.user("patient")
    page = client.get("/my/images")
    assert page.status_code == 200 and "No images yet." in page.get_data(as_text=True)
    response = upload(client, me.patient_id, png_bytes(), htmx=False)
    assert response.status_code == 302 and response.headers["Location"] == "/my/images"
    assert "1 image uploaded." in client.get("/my/images").get_data(as_text=True)
    assert upload(client, stranger.patient_id, png_bytes()).status_code == 404
    doctor, doc = web_as("doctor")
    other_id = patient_of(app, doc.id)
    doctor.get(f"/patients/{other_id}")
    upload(doctor, other_id, png_bytes())
    [foreign] = image_ids(app, other_id)
    for url in (f"/images/{foreign}", f"/images/{foreign}/file", f"/images/{foreign}/thumbnail"):
        assert client.get(url).status_code == 404
    assert client.post(f"/images/{foreign}/delete").status_code == 404
    assert image_ids(app, other_id) == [foreign]
