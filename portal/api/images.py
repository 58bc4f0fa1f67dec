"""Patient images: upload (doctor, admin, the patient), list, read, fetch the bytes, archive.

Images of a patient the caller may not see are 404 whatever they try. The bytes are served only to an
authenticated caller who may see the patient, with `Cache-Control: private`; every read is audited.
"""
from flask import send_file

from portal.api import auth
from portal.api.blueprint import ApiBlueprint
from portal.api.envelope import created, deleted, ok, paged
from portal.api.openapi import image_response
from portal.api.schemas.common import PageArgsSchema, envelope
from portal.api.schemas.images import ImageFileArgsSchema, ImageSchema, ImageUploadSchema
from portal.services.records import images

blp = ApiBlueprint("images", __name__, url_prefix="", description=(
    "Patient images. Upload up to 10 at once; each is decoded and re-encoded without metadata (EXIF and "
    "the like are dropped), and a thumbnail is made for lists. Bytes only with credentials. DELETE "
    "archives: the image leaves every list and read (404) but is kept. Staff may archive any image of a "
    "patient they see; a patient only the images they uploaded themselves (403 otherwise)."))

IMAGE_CACHE = "private, no-cache"


@blp.post("/patients/<id:patient_id>/images")
@blp.auth()
@blp.arguments(ImageUploadSchema, location="files")
@blp.response(201, envelope(ImageSchema, many=True))
@blp.fails_with(403, 404, 413, 422)
def upload(files, patient_id):
    """Upload 1 to 10 images (multipart, each as a `files` part) for a patient you see; all or none are kept.

    A doctor or admin for a patient they see, a patient for themselves. 415 `unsupported_media` for a
    file that is not a decodable JPEG, PNG, WebP or GIF; 413 `too_large` for one above 10 MB; 422
    `validation_error` for more than 10 files, an empty file or an image with too many pixels (a
    decompression bomb). `error.fields` names the bad part as `files.<n>` (counting from 0).
    """
    uploads = [images.Upload(part.stream, part.filename) for part in files["files"]]
    return created(images.upload(auth.actor(), patient_id, uploads), f"{len(uploads)} image(s) uploaded.")


@blp.get("/patients/<id:patient_id>/images")
@blp.auth()
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, envelope(ImageSchema, many=True, paged=True))
@blp.fails_with(403, 404)
def patient_images(args, patient_id):
    """A visible patient's images, newest first, paged."""
    result = images.list_images(auth.actor(), patient_id, page=args["page"], per_page=args["per_page"])
    return paged(result.items, result.page, result.per_page, result.total, "Images.")


@blp.get("/images")
@blp.auth()
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, envelope(ImageSchema, many=True, paged=True))
@blp.fails_with(403)
def all_images(args):
    """Every image of every patient you see, newest first, paged (a patient: their own)."""
    result = images.list_images(auth.actor(), page=args["page"], per_page=args["per_page"])
    return paged(result.items, result.page, result.per_page, result.total, "Images.")


@blp.get("/images/<id:image_id>")
@blp.auth()
@blp.response(200, envelope(ImageSchema))
@blp.fails_with(403, 404)
def show(image_id):
    """One image's metadata and the URLs of its bytes."""
    return ok(images.get(auth.actor(), image_id), "Image.")


@blp.get("/images/<id:image_id>/file")
@blp.auth()
@blp.arguments(ImageFileArgsSchema, location="query")
@blp.doc(responses=image_response("The image's bytes (JPEG, PNG, WebP or GIF) with `Cache-Control: private`."))
@blp.fails_with(403, 404, 422)
def image_file(args, image_id):
    """The bytes of an image you see; `?size=thumb` for its thumbnail."""
    stream, content_type, key = images.open_file(auth.actor(), image_id, thumbnail=args["size"] == "thumb")
    response = send_file(stream, mimetype=content_type, conditional=True, etag=key)
    response.headers["Cache-Control"] = IMAGE_CACHE
    return response


@blp.delete("/images/<id:image_id>")
@blp.auth()
@blp.response(200, envelope(ImageSchema))
@blp.fails_with(403, 404)
def archive(image_id):
    """Archive an image: gone from lists and reads (404), kept in the database and storage. Of
    simultaneous deletes one archives it; the others are 404, as a later delete is."""
    return deleted(images.archive(auth.actor(), image_id), "The image was deleted.")
