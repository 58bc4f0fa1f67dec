"""Patient images as the API shows them: metadata with the URLs of their bytes, never the bytes themselves."""
import marshmallow as ma
from flask import url_for
from flask_smorest.fields import Upload
from marshmallow import fields, validate

URL = {"type": "string", "format": "uri"}


class ImageUploadSchema(ma.Schema):
    files = fields.List(Upload(), required=True, metadata={
        "description": "1 to 10 JPEG, PNG, WebP or GIF images (repeat the `files` part), each at most 10 MB."})


class ImageFileArgsSchema(ma.Schema):
    size = fields.String(load_default="full", validate=validate.OneOf(("full", "thumb")), metadata={
        "description": "`thumb`: the small copy made at upload (at most 256×256 pixels, same format), for lists."})


class ImageSchema(ma.Schema):
    id = fields.Integer(required=True)
    patient_id = fields.Integer(required=True)
    content_type = fields.String(required=True, metadata={"enum": ["image/jpeg", "image/png", "image/webp",
                                                                   "image/gif"]})
    size = fields.Integer(required=True, metadata={"description": "Bytes of the stored (re-encoded) image."})
    original_name = fields.String(allow_none=True, metadata={"description": "The uploaded file's name, cleaned."})
    uploaded_by_id = fields.Integer(allow_none=True, metadata={"description": "The user who uploaded it."})
    created_at = fields.DateTime(required=True)
    url = fields.Method("_url", required=True, metadata={**URL, "description": "The bytes; send your credentials."})
    thumbnail_url = fields.Method("_thumbnail_url", required=True, metadata=URL)

    def _url(self, image) -> str:
        return url_for("api_images.image_file", image_id=image.id, _external=True)

    def _thumbnail_url(self, image) -> str:
        return url_for("api_images.image_file", image_id=image.id, size="thumb", _external=True)
