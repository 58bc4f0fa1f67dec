"""Uploaded images: the one set of rules for profile pictures and patient images.

An upload is trusted only after Pillow has decoded it; what is stored is a fresh encoding of the
pixels, so EXIF (GPS, camera, names) and any other metadata or trailing bytes never reach the disk.
Files are kept through file_store under a random key that says nothing about their owner; lists
show a small thumbnail made at upload, so a page of images never sends the full-size files.
"""
import re
import secrets
import warnings
from dataclasses import dataclass
from io import BytesIO
from typing import BinaryIO

from flask import current_app
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from portal.services import file_store
from portal.services.errors import Invalid, NotFound, TooLarge

# Pillow format name -> (content type, file extension)
FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
    "GIF": ("image/gif", "gif"),
}
CONTENT_TYPES = {ext: content_type for content_type, ext in FORMATS.values()}
KEY_RE = re.compile(r"^[0-9a-f]{32}\.(jpg|png|webp|gif)$")
NOT_AN_IMAGE = "Upload a JPEG, PNG, WebP or GIF image."
TOO_MANY_PIXELS = "The image has too many pixels."
THUMBNAIL_BOX = (256, 256)
JPEG_QUALITY = 85
WEBP_QUALITY = 85
WEBP_METHOD = 2  # libwebp's effort, 0-6: a third of the default 4's time for files a few per cent larger
PNG_COMPRESS_LEVEL = 3  # zlib: a quarter of the default 6's time on photos, files about 13 % larger


@dataclass(frozen=True)
class StoredImage:
    key: str
    content_type: str
    size: int


def _max_bytes() -> int:
    return int(current_app.config.get("MAX_IMAGE_BYTES", 10 * 1024 * 1024))


def _max_pixels() -> int:
    return int(current_app.config["MAX_IMAGE_PIXELS"])


def _unsupported(field: str) -> Invalid:
    error = Invalid({field: [NOT_AN_IMAGE]}, message=NOT_AN_IMAGE)
    error.code = "unsupported_media"
    return error


def _human(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB" if size >= 1024 * 1024 else f"{size} bytes"


def _read_bounded(stream: BinaryIO, field: str) -> bytes:
    limit = _max_bytes()
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"An image may be at most {_human(limit)}.")
    if not data:
        raise Invalid.field(field, "The file is empty.")
    return data


def _too_many_pixels(field: str, width: int, height: int, frames: int) -> Invalid:
    canvas = f"{width}×{height} pixels" + (f" in {frames} frames" if frames > 1 else "")
    return Invalid({field: [TOO_MANY_PIXELS]}, message=(
        f"The image has {canvas}; send one of at most {_max_pixels() / 1_000_000:g} megapixels in all."))


def _decoded(data: bytes, field: str) -> Image.Image:
    """The fully decoded image, or Invalid.

    Bombs (more than MAX_IMAGE_PIXELS in all frames together) are refused from the header, before a
    single pixel is decoded: a few kilobytes can claim a canvas that takes seconds of a worker and a
    gigabyte to decode. Only then is the file checked (verify) and decoded.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(BytesIO(data)) as probe:
                if probe.format not in FORMATS:
                    raise _unsupported(field)
                frames = getattr(probe, "n_frames", 1)
                if probe.width * probe.height * frames > _max_pixels():
                    raise _too_many_pixels(field, probe.width, probe.height, frames)
                probe.verify()
            image = Image.open(BytesIO(data))
            image.load()
            return image
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Invalid({field: [TOO_MANY_PIXELS]}, message=TOO_MANY_PIXELS) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):  # Pillow's "not an image"
        raise _unsupported(field) from None


def _kept_info(frame: Image.Image) -> dict:
    """Of the info dict, only what the format needs to draw the pixels (no EXIF, comments, text)."""
    return {k: frame.info[k] for k in ("transparency", "duration") if k in frame.info}


def _clean_frame(frame: Image.Image) -> Image.Image:
    """A frame of a sequence as its own image (frames share one object), with the pixels only."""
    clean = frame.copy()
    clean.info = _kept_info(frame)
    return clean


def _encode(image: Image.Image) -> bytes:
    """A fresh encoding in the upload's own format, at settings that cost one pass.

    The decoded image is ours alone, so it is turned upright and stripped in place rather than copied.
    Effort is bounded: PNG without `optimize` (which took 74 s instead of 4 for a 9-megapixel photo) at a
    light zlib level, WebP at a light method; JPEG and WebP at a quality that keeps a photo faithful.
    Modes change only where JPEG cannot store them.
    """
    fmt = image.format
    out = BytesIO()
    frames = getattr(image, "n_frames", 1)
    if fmt in ("GIF", "WEBP") and frames > 1:
        sequence = [_clean_frame(f) for f in ImageSequence.Iterator(image)]
        durations = [f.info.get("duration", 100) for f in sequence]
        sequence[0].save(out, format=fmt, save_all=True, append_images=sequence[1:],
                         duration=durations, loop=image.info.get("loop", 0))
        return out.getvalue()
    if fmt != "GIF":
        ImageOps.exif_transpose(image, in_place=True)
    image.info = _kept_info(image)
    if fmt == "JPEG":
        upright = image if image.mode in ("RGB", "L") else image.convert("RGB")
        upright.save(out, format="JPEG", quality=JPEG_QUALITY)
    elif fmt == "WEBP":
        image.save(out, format="WEBP", quality=WEBP_QUALITY, method=WEBP_METHOD)
    elif fmt == "PNG":
        image.save(out, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    else:
        image.save(out, format=fmt)
    return out.getvalue()


def _key_checked(key: str | None) -> str:
    if not KEY_RE.match(key or ""):
        raise NotFound("No such image.")
    return key


def _keep(encoded: bytes, content_type: str, ext: str) -> StoredImage:
    key = f"{secrets.token_hex(16)}.{ext}"
    file_store.current().put(key, encoded)
    return StoredImage(key=key, content_type=content_type, size=len(encoded))


def _thumbnail(image: Image.Image) -> bytes:
    """The first frame, upright, shrunk to fit THUMBNAIL_BOX, in the original's format."""
    image.seek(0)
    small = ImageOps.exif_transpose(image) if image.format in ("JPEG", "WEBP", "PNG") else image.copy()
    small.thumbnail(THUMBNAIL_BOX)
    small.info = {k: v for k, v in small.info.items() if k == "transparency"}
    if image.format == "JPEG" and small.mode not in ("RGB", "L"):
        small = small.convert("RGB")
    out = BytesIO()
    small.save(out, format=image.format)
    return out.getvalue()


def store(stream: BinaryIO, field: str = "file") -> StoredImage:
    """Check an upload, re-encode it without metadata and keep it; the caller records the key.

    TooLarge above MAX_IMAGE_BYTES, Invalid (code unsupported_media) for anything that is not a
    decodable JPEG, PNG, WebP or GIF. Storage failures propagate: they are the server's fault.
    """
    return store_with_thumbnail(stream, field, thumbnail=False)[0]


def store_with_thumbnail(stream: BinaryIO, field: str = "file",
                         thumbnail: bool = True) -> tuple[StoredImage, StoredImage | None]:
    """As store(), and also keep a thumbnail (same format, at most THUMBNAIL_BOX) for lists."""
    image = _decoded(_read_bounded(stream, field), field)
    content_type, ext = FORMATS[image.format]
    stored = _keep(_encode(image), content_type, ext)
    if not thumbnail:
        return stored, None
    try:
        return stored, _keep(_thumbnail(image), content_type, ext)
    except BaseException:
        delete(stored.key)
        raise


def open_image(key: str) -> tuple[BinaryIO, str]:
    """The stored file as an open stream (the caller closes it) and its content type; NotFound when
    the key names nothing."""
    key = _key_checked(key)
    return file_store.current().open(key), CONTENT_TYPES[key.rsplit(".", 1)[1]]


def delete(key: str | None) -> None:
    """Remove a stored file; a key that names nothing is already gone."""
    if key and KEY_RE.match(key):
        file_store.current().delete(key)
