"""Image rules without HTTP: only decodable JPEG/PNG/WebP/GIF, re-encoded without metadata, bounded."""
import io

import pytest
from PIL import Image, ImageFile

from portal.services import image_files
from portal.services.errors import Invalid, NotFound, TooLarge
from tests.api.images import SECRET, bmp_bytes, bomb_png, gif_bytes, jpeg_bytes, png_bytes, webp_bytes
from tests.fixtures.image_bombs import RECIPES, bomb


@pytest.fixture
def store(ctx, tmp_path, monkeypatch):
    monkeypatch.setitem(ctx.config, "UPLOAD_DIR", str(tmp_path))
    return lambda data: image_files.store(io.BytesIO(data))


@pytest.mark.parametrize("data, content_type", [
    (jpeg_bytes(), "image/jpeg"), (png_bytes(), "image/png"), (webp_bytes(), "image/webp"), (gif_bytes(), "image/gif"),
])
def test_allowed_formats_are_kept_without_their_metadata(store, tmp_path, data, content_type):
    assert SECRET.encode() in data
    stored = store(data)
    assert stored.content_type == content_type
    stream, served_type = image_files.open_image(stored.key)
    with stream:
        kept = stream.read()
    assert served_type == content_type and (tmp_path / stored.key).read_bytes() == kept
    assert len(kept) == stored.size and SECRET.encode() not in kept
    image = Image.open(io.BytesIO(kept))
    assert not image.getexif() and "comment" not in image.info and "Author" not in image.info


def test_keys_are_random_and_say_nothing_of_the_upload(store):
    keys = {store(png_bytes()).key for _ in range(3)}
    assert len(keys) == 3 and all(image_files.KEY_RE.match(key) for key in keys)


def test_the_jpeg_orientation_is_applied_before_exif_is_dropped(store):
    stored = store(jpeg_bytes(orientation=6, size=(40, 20)))
    stream, _ = image_files.open_image(stored.key)
    assert Image.open(stream).size == (20, 40)


def test_an_animated_gif_keeps_its_frames(store):
    stream, _ = image_files.open_image(store(gif_bytes(frames=3)).key)
    assert Image.open(stream).n_frames == 3


@pytest.mark.parametrize("data", [b"", b"plain text, not an image", bmp_bytes(), png_bytes()[:80],
                                  b"\x89PNG\r\n\x1a\n" + b"\x00" * 64])
def test_anything_else_is_refused_and_nothing_is_stored(store, tmp_path, data):
    with pytest.raises(Invalid) as caught:
        store(data)
    assert "file" in caught.value.fields
    assert list(tmp_path.iterdir()) == []


def test_a_non_image_is_unsupported_media(store):
    with pytest.raises(Invalid) as caught:
        store(bmp_bytes())
    assert caught.value.code == "unsupported_media"


def test_too_many_bytes_is_too_large(store, ctx, monkeypatch):
    monkeypatch.setitem(ctx.config, "MAX_IMAGE_BYTES", 100)
    with pytest.raises(TooLarge) as caught:
        store(png_bytes(size=(200, 200)))
    assert caught.value.code == "too_large" and "100 bytes" in caught.value.message


def test_a_decompression_bomb_is_refused_before_decoding(store, ctx, monkeypatch):
    with pytest.raises(Invalid) as caught:
        store(bomb_png(20_000, 20_000))  # 400 megapixels in a few kilobytes
    assert caught.value.fields == {"file": [image_files.TOO_MANY_PIXELS]}
    monkeypatch.setitem(ctx.config, "MAX_IMAGE_PIXELS", 1000)
    with pytest.raises(Invalid) as caught:
        store(png_bytes(size=(100, 100)))
    assert caught.value.fields == {"file": [image_files.TOO_MANY_PIXELS]}


def test_the_pixel_limit_counts_every_frame(store, ctx, monkeypatch):
    monkeypatch.setitem(ctx.config, "MAX_IMAGE_PIXELS", 40 * 20 * 2)
    store(gif_bytes(frames=2))
    with pytest.raises(Invalid) as caught:
        store(gif_bytes(frames=3))
    assert caught.value.fields == {"file": [image_files.TOO_MANY_PIXELS]}


def test_open_and_delete_accept_only_real_keys(store, tmp_path):
    (tmp_path / "secret.txt").write_text("x")
    for key in ("../secret.txt", "secret.txt", "", "a" * 32 + ".exe"):
        with pytest.raises(NotFound):
            image_files.open_image(key)
        image_files.delete(key)
    assert (tmp_path / "secret.txt").exists()
    stored = store(png_bytes())
    image_files.delete(stored.key)
    image_files.delete(stored.key)
    with pytest.raises(NotFound):
        image_files.open_image(stored.key)


@pytest.fixture
def decoding_forbidden(monkeypatch):
    """Fail the test if any pixel data is decoded (Pillow decodes in ImageFile.load)."""
    def load(image):
        raise AssertionError(f"the {image.format} image was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)


@pytest.mark.parametrize("fmt", sorted(RECIPES))
def test_a_bomb_of_each_format_is_refused_from_its_header(store, tmp_path, decoding_forbidden, fmt):
    with pytest.raises(Invalid) as caught:
        store(bomb(fmt))
    assert caught.value.fields == {"file": [image_files.TOO_MANY_PIXELS]}
    assert caught.value.message == ("The image has 9400×9400 pixels; send one of at most 25 megapixels in all.")
    assert list(tmp_path.iterdir()) == []


def test_the_pixel_budget_is_a_setting_and_an_image_within_it_is_kept(store, ctx, monkeypatch):
    assert ctx.config["MAX_IMAGE_PIXELS"] == 25_000_000
    monkeypatch.setitem(ctx.config, "MAX_IMAGE_PIXELS", 5000 * 5000)
    stored = store(bomb("PNG", (5000, 5000)))
    path, _ = image_files.open_image(stored.key)
    assert Image.open(path).size == (5000, 5000)
    with pytest.raises(Invalid) as caught:
        store(bomb("PNG", (5000, 5001)))
    assert "at most 25 megapixels" in caught.value.message


@pytest.mark.parametrize("mode, fmt", [("RGBA", "PNG"), ("P", "PNG"), ("L", "JPEG"), ("RGBA", "WEBP"), ("P", "GIF")])
def test_re_encoding_keeps_the_pixels_mode(store, mode, fmt):
    out = io.BytesIO()
    Image.new(mode, (64, 32)).save(out, fmt)
    path, _ = image_files.open_image(store(out.getvalue()).key)
    assert Image.open(path).mode == mode
