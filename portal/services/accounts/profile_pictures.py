"""A user's profile picture: kept under the image rules of image_files, one per account."""
from typing import BinaryIO

from portal.extensions import db
from portal.models import User
from portal.services import image_files
from portal.services.errors import NotFound


def replace(user: User, stream: BinaryIO) -> User:
    """Check and keep a new picture (image_files' rules), then forget the old one."""
    stored = image_files.store(stream)
    old_key, user.profile_pic_key = user.profile_pic_key, stored.key
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        image_files.delete(stored.key)
        raise
    image_files.delete(old_key)
    return user


def remove(user: User) -> User:
    old_key, user.profile_pic_key = user.profile_pic_key, None
    db.session.commit()
    image_files.delete(old_key)
    return user


def picture_of(user: User) -> tuple[BinaryIO, str]:
    """The picture's bytes (an open stream) and content type; NotFound when the account has none."""
    if not user.profile_pic_key:
        raise NotFound("There is no profile picture.")
    return image_files.open_image(user.profile_pic_key)
