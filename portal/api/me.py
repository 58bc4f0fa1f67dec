"""/me: one's own account, profile changes (password too) and profile picture."""
from flask import send_file

from portal.api import auth
from portal.api.blueprint import ApiBlueprint
from portal.api.envelope import deleted, ok, updated
from portal.api.openapi import image_response
from portal.api.schemas.common import envelope
from portal.api.schemas.users import PictureUploadSchema, ProfileChangesSchema, UserSchema
from portal.services.accounts import profile_pictures, user_accounts

blp = ApiBlueprint("me", __name__, url_prefix="/me", description="The caller's own account.")

PICTURE_CACHE = "private, no-cache"


@blp.get("")
@blp.auth()
@blp.response(200, envelope(UserSchema))
def show():
    """The caller's account."""
    return ok(auth.current_user(), "Your account.")


@blp.route("", methods=["PATCH", "PUT"])
@blp.auth()
@blp.arguments(ProfileChangesSchema)
@blp.response(200, envelope(UserSchema))
@blp.fails_with(409, 422)
def change(body):
    """Change username, email, full_name, phone (also gender, dob); PUT is the same as PATCH.

    Fields left out stay as they are. A new `password` or a different `email` needs `current_password`
    (422 naming `current_password` when it is missing or wrong). A new password ends every other session
    and token family of the account (the one making the change stays signed in); after an email change
    the old address gets a mail saying so.
    """
    caller = auth.caller()
    user = user_accounts.update_profile(caller.user, changes=body, keep_session=caller.session_id,
                                   keep_family=caller.family_id)
    return updated(user, "Your account was updated.")


@blp.put("/picture")
@blp.auth()
@blp.arguments(PictureUploadSchema, location="files")
@blp.response(200, envelope(UserSchema))
@blp.fails_with(413)
def upload_picture(files):
    """Set the profile picture (multipart field `file`): JPEG, PNG, WebP or GIF, at most 10 MB by default.

    The image is decoded and re-encoded without metadata; 415 `unsupported_media` for anything else,
    413 `too_large` above the limit.
    """
    user = profile_pictures.replace(auth.current_user(), files["file"].stream)
    return updated(user, "Your picture was saved.")


@blp.get("/picture")
@blp.auth()
@blp.doc(responses=image_response("The picture's bytes (JPEG, PNG, WebP or GIF), with `Cache-Control: private`."))
@blp.fails_with(404)
def picture():
    """The profile picture's bytes; 404 when there is none."""
    user = auth.current_user()
    stream, content_type = profile_pictures.picture_of(user)
    response = send_file(stream, mimetype=content_type, conditional=True, etag=user.profile_pic_key)
    response.headers["Cache-Control"] = PICTURE_CACHE
    return response


@blp.delete("/picture")
@blp.auth()
@blp.response(200, envelope(UserSchema))
def remove_picture():
    """Remove the profile picture (also fine when there is none)."""
    return deleted(profile_pictures.remove(auth.current_user()), "Your picture was removed.")
