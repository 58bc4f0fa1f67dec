"""/patients/{id}/images and /images: uploads under the image rules, thumbnails, private bytes, archiving."""
import io

import pytest
from PIL import Image

from tests.api.clinic_api import caller, steady_query_count
from tests.api.images import SECRET, bmp_bytes, bomb_png, gif_bytes, jpeg_bytes, png_bytes, webp_bytes
from tests.api.records_helpers import assign, audit_rows, upload
from tests.fixtures.api_client import envelope, error_of

pytestmark = pytest.mark.laptop  # the rules and error paths hold on SQLite too


@pytest.fixture
def carol(app, factories):
    """A patient with a doctor assigned (the `doctor` fixture)."""
    return caller(app, factories.user(full_name="Carol Patient"))


@pytest.fixture
def seen(app, carol, doctor):
    assign(app, carol.patient_id, doctor.doctor_id)
    return carol


def test_a_doctor_uploads_several_images_and_gets_their_metadata(api, app, seen, doctor, uploads):
    response = upload(api, doctor.token, seen.patient_id, jpeg_bytes(), png_bytes(), webp_bytes(), gif_bytes(3),
                      names=["x-ray.jpg", "scan.png", "a.webp", "b.gif"])
    body = envelope(response)
    assert (response.status_code, body["status"]) == (201, "created")
    assert [i["content_type"] for i in body["data"]] == ["image/jpeg", "image/png", "image/webp", "image/gif"]
    first = body["data"][0]
    assert set(first) >= {"id", "url", "content_type", "size", "created_at", "thumbnail_url"}
    assert first["url"].endswith(f"/api/v1/images/{first['id']}/file")
    assert first["thumbnail_url"].endswith(f"/api/v1/images/{first['id']}/file?size=thumb")
    assert first["original_name"] == "x-ray.jpg" and first["patient_id"] == seen.patient_id
    assert [r[1:3] for r in audit_rows(app, patient_id=seen.patient_id)] == [("create", "patient_image")] * 4
    stored = [p for p in uploads.iterdir() if not p.name.startswith(".")]
    assert len(stored) == 8  # each image and its thumbnail


def test_the_stored_bytes_carry_no_metadata_and_are_private(api, seen, doctor, uploads):
    image = envelope(upload(api, doctor.token, seen.patient_id, jpeg_bytes(orientation=6)))["data"][0]
    response = api.get(f"/images/{image['id']}/file", token=doctor.token)
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert response.headers["Cache-Control"].startswith("private")
    assert SECRET.encode() not in response.data and len(response.data) == image["size"]
    assert not Image.open(io.BytesIO(response.data)).getexif()
    assert Image.open(io.BytesIO(response.data)).size == (20, 40)  # turned upright, then EXIF dropped
    for path in uploads.iterdir():
        assert SECRET.encode() not in path.read_bytes()


def test_the_thumbnail_is_small_and_served_like_the_image(api, seen, doctor, uploads):
    image = envelope(upload(api, doctor.token, seen.patient_id, png_bytes(size=(1200, 600))))["data"][0]
    thumb = api.get(f"/images/{image['id']}/file?size=thumb", token=doctor.token)
    assert thumb.status_code == 200 and thumb.mimetype == "image/png"
    assert thumb.headers["Cache-Control"].startswith("private")
    assert Image.open(io.BytesIO(thumb.data)).size == (256, 128)
    full = api.get(f"/images/{image['id']}/file", token=doctor.token)
    assert Image.open(io.BytesIO(full.data)).size == (1200, 600)
    error_of(api.get(f"/images/{image['id']}/file?size=huge", token=doctor.token), 422, "validation_error")


def test_the_patient_uploads_their_own_and_reads_them(api, carol, uploads):
    image = envelope(upload(api, carol.token, carol.patient_id, png_bytes()))["data"][0]
    listed = envelope(api.get(f"/patients/{carol.patient_id}/images", token=carol.token))
    assert [i["id"] for i in listed["data"]] == [image["id"]] and listed["meta"]["total"] == 1
    assert [i["id"] for i in envelope(api.get("/images", token=carol.token))["data"]] == [image["id"]]
    assert envelope(api.get(f"/images/{image['id']}", token=carol.token))["data"]["size"] == image["size"]


def test_eleven_files_are_422_and_nothing_is_kept(api, seen, doctor, uploads):
    body = error_of(upload(api, doctor.token, seen.patient_id, *[png_bytes()] * 11), 422, "validation_error")
    assert "files" in body["error"]["fields"]
    assert envelope(api.get(f"/patients/{seen.patient_id}/images", token=doctor.token))["meta"]["total"] == 0
    assert not uploads.exists() or not list(uploads.iterdir())


def test_ten_files_are_fine(api, seen, doctor, uploads):
    assert len(envelope(upload(api, doctor.token, seen.patient_id, *[png_bytes()] * 10))["data"]) == 10


def test_no_files_is_400(api, seen, doctor, uploads):
    error_of(api.post(f"/patients/{seen.patient_id}/images", token=doctor.token, content_type="multipart/form-data",
                      data={}), 400, "missing_field")


@pytest.mark.parametrize("bad, status, code", [
    (b"plain text, not an image", 415, "unsupported_media"),
    (bmp_bytes(), 415, "unsupported_media"),
    (bomb_png(30000, 30000), 422, "validation_error"),
])
def test_a_bad_file_fails_the_whole_upload(api, seen, doctor, uploads, bad, status, code):
    body = error_of(upload(api, doctor.token, seen.patient_id, png_bytes(), bad), status, code)
    assert "files.1" in body["error"].get("fields", {"files.1": []})
    assert envelope(api.get(f"/patients/{seen.patient_id}/images", token=doctor.token))["meta"]["total"] == 0
    assert not [p for p in uploads.iterdir() if not p.name.startswith(".")]


def test_a_file_above_the_limit_is_413(api, app, seen, doctor, uploads, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_IMAGE_BYTES", 1000)
    error_of(upload(api, doctor.token, seen.patient_id, png_bytes(size=(400, 400))), 413, "too_large")


def test_a_patient_archives_only_what_they_uploaded(api, app, seen, doctor, uploads):
    mine = envelope(upload(api, seen.token, seen.patient_id, png_bytes()))["data"][0]
    staff = envelope(upload(api, doctor.token, seen.patient_id, png_bytes()))["data"][0]
    error_of(api.delete(f"/images/{staff['id']}", token=seen.token), 403, "forbidden")
    body = envelope(api.delete(f"/images/{mine['id']}", token=seen.token))
    assert body["status"] == "deleted" and body["data"]["id"] == mine["id"]
    error_of(api.get(f"/images/{mine['id']}", token=seen.token), 404, "not_found")
    error_of(api.get(f"/images/{mine['id']}/file", token=doctor.token), 404, "not_found")
    assert [i["id"] for i in envelope(api.get("/images", token=seen.token))["data"]] == [staff["id"]]
    assert ("delete", "patient_image", mine["id"]) in [r[1:4] for r in audit_rows(app)]
    envelope(api.delete(f"/images/{staff['id']}", token=doctor.token))
    error_of(api.delete(f"/images/{staff['id']}", token=doctor.token), 404, "not_found")


def test_every_read_is_audited(api, app, seen, doctor, uploads):
    image = envelope(upload(api, doctor.token, seen.patient_id, png_bytes()))["data"][0]
    api.get(f"/patients/{seen.patient_id}/images", token=doctor.token)
    api.get("/images", token=doctor.token)
    api.get(f"/images/{image['id']}", token=doctor.token)
    api.get(f"/images/{image['id']}/file", token=doctor.token)
    api.get(f"/images/{image['id']}/file?size=thumb", token=doctor.token)
    reads = audit_rows(app, action="read")
    assert reads == [(doctor.user_id, "read", "patient_image", image["id"], seen.patient_id, False)] * 5


def test_images_need_credentials(api, seen):
    for path in (f"/patients/{seen.patient_id}/images", "/images", "/images/1", "/images/1/file"):
        error_of(api.get(path), 401, "unauthenticated")
    error_of(api.delete("/images/1"), 401, "unauthenticated")


def test_foreign_images_are_404_and_unchanged_for_everyone_else(api, app, factories, seen, doctor, uploads):
    image = envelope(upload(api, doctor.token, seen.patient_id, png_bytes()))["data"][0]
    stranger_doctor = caller(app, factories.user(role="doctor"))
    other_patient = caller(app, factories.user())
    for outsider in (stranger_doctor, other_patient):
        for path in (f"/images/{image['id']}", f"/images/{image['id']}/file",
                     f"/images/{image['id']}/file?size=thumb", f"/patients/{seen.patient_id}/images"):
            error_of(api.get(path, token=outsider.token), 404, "not_found")
        error_of(api.delete(f"/images/{image['id']}", token=outsider.token), 404, "not_found")
        error_of(upload(api, outsider.token, seen.patient_id, png_bytes()), 404, "not_found")
        assert envelope(api.get("/images", token=outsider.token))["data"] == []
    assert envelope(api.get(f"/images/{image['id']}", token=doctor.token))["data"]["id"] == image["id"]
    assert envelope(api.get(f"/patients/{seen.patient_id}/images", token=doctor.token))["meta"]["total"] == 1
    error_of(api.get("/images/999999", token=doctor.token), 404, "not_found")


def test_an_admin_sees_every_image(api, app, factories, seen, doctor, admin, uploads):
    image = envelope(upload(api, doctor.token, seen.patient_id, png_bytes()))["data"][0]
    assert [i["id"] for i in envelope(api.get("/images", token=admin.token))["data"]] == [image["id"]]
    assert api.get(f"/images/{image['id']}/file", token=admin.token).status_code == 200
    envelope(upload(api, admin.token, seen.patient_id, gif_bytes()))


@pytest.mark.production_only("query counts: the laptop harness commits the shared test session per request")
def test_listing_images_costs_the_same_whatever_their_number(api, app, seen, doctor, uploads):
    envelope(upload(api, doctor.token, seen.patient_id, png_bytes()))
    small = steady_query_count(app, lambda: api.get("/images", token=doctor.token))
    envelope(upload(api, doctor.token, seen.patient_id, *[png_bytes()] * 10))
    large = steady_query_count(app, lambda: api.get("/images", token=doctor.token))
    per_patient = steady_query_count(app, lambda: api.get(f"/patients/{seen.patient_id}/images", token=doctor.token))
    assert small == large and per_patient <= large + 2
