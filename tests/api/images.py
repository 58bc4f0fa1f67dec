"""Small real images for upload tests, made with Pillow, some carrying metadata that must not survive."""
from io import BytesIO

from PIL import Image, ImageDraw
from PIL.PngImagePlugin import PngInfo

SECRET = "Secret-Camera-Owner-4711"  # planted in metadata; must never appear in what is stored
ORIENTATION = 0x0112
ARTIST = 0x013B


def _picture(size=(40, 20), mode="RGB") -> Image.Image:
    image = Image.new(mode, size, "white")
    ImageDraw.Draw(image).rectangle((0, 0, size[0] // 2, size[1] // 2), fill="red")
    return image


def _exif(orientation: int | None = None) -> bytes:
    exif = Image.Exif()
    exif[ARTIST] = SECRET
    if orientation:
        exif[ORIENTATION] = orientation
    return exif.tobytes()


def jpeg_bytes(orientation: int | None = None, size=(40, 20)) -> bytes:
    out = BytesIO()
    _picture(size).save(out, "JPEG", exif=_exif(orientation))
    return out.getvalue()


def png_bytes(size=(40, 20)) -> bytes:
    info = PngInfo()
    info.add_text("Author", SECRET)
    out = BytesIO()
    _picture(size).save(out, "PNG", pnginfo=info, exif=_exif())
    return out.getvalue()


def webp_bytes() -> bytes:
    out = BytesIO()
    _picture().save(out, "WEBP", exif=_exif())
    return out.getvalue()


def gif_bytes(frames: int = 1) -> bytes:
    colours = ["red", "green", "blue", "yellow"]
    images = [Image.new("RGB", (40, 20), colours[index % len(colours)]) for index in range(frames)]
    out = BytesIO()
    images[0].save(out, "GIF", save_all=frames > 1, append_images=images[1:], comment=SECRET.encode(),
                   duration=80, loop=0)
    return out.getvalue()


def bmp_bytes() -> bytes:
    out = BytesIO()
    _picture().save(out, "BMP")
    return out.getvalue()


def bomb_png(width: int, height: int) -> bytes:
    """A tiny file that claims a huge canvas (1 bit per pixel compresses to almost nothing)."""
    out = BytesIO()
    Image.new("1", (width, height)).save(out, "PNG")
    return out.getvalue()
