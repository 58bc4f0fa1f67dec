"""The one storage interface: put/open/delete by key in a local directory, keys that cannot climb out,
and the thumbnails image_files keeps through it."""
import io

import pytest
from PIL import Image

from portal.services import file_store, image_files
from portal.services.errors import NotFound
from tests.api.images import gif_bytes, jpeg_bytes, png_bytes

KEY = "0123456789abcdef0123456789abcdef.png"


@pytest.fixture
def store(ctx, tmp_path, monkeypatch):
    monkeypatch.setitem(ctx.config, "UPLOAD_DIR", str(tmp_path / "files"))
    return file_store.current()


def test_put_open_delete(store, tmp_path):
    store.put(KEY, b"pixels")
    with store.open(KEY) as stream:
        assert stream.read() == b"pixels"
    assert [p.name for p in (tmp_path / "files").iterdir()] == [KEY]  # no temporary file left behind
    store.delete(KEY)
    store.delete(KEY)
    with pytest.raises(NotFound):
        store.open(KEY)


def test_keys_cannot_leave_the_directory(store, tmp_path):
    (tmp_path / "secret.txt").write_text("x")
    for key in ("../secret.txt", "secret.txt", "", "/etc/passwd", KEY + "/.."):
        with pytest.raises(NotFound):
            store.open(key)
        with pytest.raises(NotFound):
            store.put(key, b"x")
        store.delete(key)
    assert (tmp_path / "secret.txt").read_text() == "x"


@pytest.mark.parametrize("data, size, frames", [
    (png_bytes(size=(1000, 500)), (256, 128), 1),
    (jpeg_bytes(orientation=6, size=(600, 300)), (128, 256), 1),
    (gif_bytes(frames=3), (40, 20), 1),
])
def test_a_thumbnail_is_one_small_upright_frame_in_the_same_format(store, data, size, frames):
    stored, thumb = image_files.store_with_thumbnail(io.BytesIO(data))
    assert thumb.content_type == stored.content_type and thumb.key != stored.key
    stream, _ = image_files.open_image(thumb.key)
    with stream:
        image = Image.open(stream)
        assert image.size == size and getattr(image, "n_frames", 1) == frames and not image.getexif()
