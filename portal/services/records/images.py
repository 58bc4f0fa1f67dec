"""Patient images: uploaded by staff or the patient, decoded and re-encoded by image_files, kept through
file_store, shown in lists by their thumbnail, archived (never destroyed) on delete.

Who sees an image is who sees its patient (policy); every read of a list, an image or its bytes, and
every upload and archive, leaves an audit row (one insert per request).
"""
import unicodedata
from dataclasses import dataclass
from typing import BinaryIO

from flask import current_app
from sqlalchemy import Select, select

from portal.extensions import db
from portal.models import PatientImage, Role, utcnow
from portal.services import audit, image_files, policy
from portal.services.actor import Actor
from portal.services.errors import Forbidden, Invalid, NotFound
from portal.services.persistence import Page, archive_once, commit_keeping_loaded, paginate

ROLES = (Role.PATIENT, Role.DOCTOR, Role.ADMIN)
OBJECT = "patient_image"


@dataclass(frozen=True)
class Upload:
    stream: BinaryIO
    filename: str | None = None


def _max_files() -> int:
    return int(current_app.config["MAX_IMAGES_PER_UPLOAD"])


def _clean_name(name: str | None) -> str | None:
    """The file's own name, for people: no directories, no control characters, at most 255 characters."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    return base[:255] or None


def upload(actor: Actor, patient_id: int, files: list[Upload]) -> list[PatientImage]:
    """Keep 1 to MAX_IMAGES_PER_UPLOAD images for a visible patient, all or none.

    Each file passes image_files' rules (field `files.<n>` names a bad one); if one fails, those
    already stored are removed again and nothing is recorded.
    """
    user = policy.require_role(actor.user, *ROLES)
    patient = policy.get_visible_patient(user, patient_id)
    if not files:
        raise Invalid.field("files", "Choose at least one image.")
    if len(files) > _max_files():
        raise Invalid.field("files", f"Upload at most {_max_files()} images at once.")
    kept: list[str] = []
    try:
        rows = []
        for index, item in enumerate(files):
            stored, thumb = image_files.store_with_thumbnail(item.stream, f"files.{index}")
            kept += [stored.key, thumb.key]
            rows.append(PatientImage(patient_id=patient.id, uploaded_by_id=user.id, storage_key=stored.key,
                                     thumbnail_key=thumb.key, content_type=stored.content_type,
                                     size=stored.size, original_name=_clean_name(item.filename)))
        db.session.add_all(rows)
        db.session.flush()
        audit.record_many(actor, "create", OBJECT, [(row.id, row.patient_id) for row in rows])
        commit_keeping_loaded()
    except BaseException:
        db.session.rollback()
        for key in kept:
            image_files.delete(key)
        raise
    return rows


def visible_images(actor: Actor) -> Select:
    """The unarchived images of the patients the actor may see, newest first."""
    user = policy.require_role(actor.user, *ROLES)
    return (select(PatientImage)
            .where(PatientImage.archived_at.is_(None), PatientImage.patient_id.in_(policy.visible_patient_ids(user)))
            .order_by(PatientImage.created_at.desc(), PatientImage.id.desc()))


def list_images(actor: Actor, patient_id: int | None = None, page: int = 1, per_page: int = 20) -> Page[PatientImage]:
    """A page of visible images, of one visible patient when `patient_id` is given (NotFound for one the
    actor may not see); one query (the page with its total) and one audit insert whatever the page size."""
    query = visible_images(actor)
    if patient_id is not None:
        policy.get_visible_patient(actor.user, patient_id)
        query = query.where(PatientImage.patient_id == patient_id)
    result = paginate(query, page, per_page)
    _audit_read(actor, result.items)
    return result


def _audit_read(actor: Actor, images: list[PatientImage]) -> None:
    audit.record_many(actor, "read", OBJECT, [(image.id, image.patient_id) for image in images])
    commit_keeping_loaded()


def _visible(actor: Actor, image_id: int) -> PatientImage:
    image = db.session.scalar(visible_images(actor).where(PatientImage.id == image_id))
    if image is None:
        raise NotFound("No such image.")
    return image


def get(actor: Actor, image_id: int) -> PatientImage:
    """One visible image's metadata; the read is audited."""
    image = _visible(actor, image_id)
    _audit_read(actor, [image])
    return image


def open_file(actor: Actor, image_id: int, thumbnail: bool = False) -> tuple[BinaryIO, str, str]:
    """The bytes of a visible image (or its thumbnail) as an open stream, its content type and its
    key (an ETag: keys are never reused); the read is audited."""
    image = _visible(actor, image_id)
    key = (image.thumbnail_key or image.storage_key) if thumbnail else image.storage_key
    stream, content_type = image_files.open_image(key)
    _audit_read(actor, [image])
    return stream, content_type, key


def archive(actor: Actor, image_id: int) -> PatientImage:
    """Take an image out of every list and read; the row and its files stay for the record.

    Staff may archive any image of a visible patient, a patient only what they uploaded (403 otherwise).
    """
    image = _visible(actor, image_id)
    if not policy.can_archive_image(actor.user, image):
        raise Forbidden("Only staff or whoever uploaded it may delete this image.")
    if not archive_once(PatientImage, image.id, utcnow()):
        db.session.rollback()
        raise NotFound("No such image.")
    audit.record(actor, "delete", OBJECT, image.id, image.patient_id)
    commit_keeping_loaded()
    return image
