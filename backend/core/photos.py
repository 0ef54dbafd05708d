"""Photos as the rule wants them: JPEG, PNG or WebP by content, size-limited, re-encoded
upright with no metadata (no GPS), plus a small JPEG thumbnail. Pure: bytes in, bytes out.

A picture costs memory by its pixels, not its bytes (a 281 KB PNG of 10,000 × 8,900 pixels
decodes into 267 MB), so its size is read from the header and checked before anything is
decoded; a JPEG is decoded already scaled down (``Image.draft``) to what the output needs, and
every picture is shrunk before it is converted or copied. The limits on how many decode at
once live with the callers (backend/core/photo_gate.py).

>>> import io
>>> buf = io.BytesIO()
>>> Image.new("RGB", (2000, 1000), "red").save(buf, "PNG")
>>> prepare(buf.getvalue()).info
PhotoInfo(format='PNG', content_type='image/png', width=1600, height=800)
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

from PIL import Image, ImageCms, ImageFile, ImageOps, UnidentifiedImageError

MAX_BYTES = 10 * 1024 * 1024
MAX_SIDE = 1600
THUMB_SIDE = 320
CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
_SAVE_OPTIONS = {"JPEG": {"quality": 85}, "PNG": {}, "WEBP": {"quality": 85}}
# What Pillow's decoders raise on damaged data; anything past the header is decoded here.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error)
# Modes Pillow resizes well as they are; others (palette, 1-bit, 16-bit) are converted first,
# since a palette picture would be shrunk by picking pixels, not by averaging them.
_RESIZABLE = {"L", "LA", "RGB", "RGBA", "CMYK"}
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


class PhotoError(ValueError):
    """A photo the rule refuses; ``code`` is the API's machine code."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class PhotoInfo:
    format: str  # Pillow's name: JPEG, PNG or WEBP
    content_type: str
    width: int  # as shown, after the EXIF orientation
    height: int


@dataclass(frozen=True)
class Prepared:
    """What is stored of an upload: the cleaned photo, its thumbnail, and what it is."""

    photo: bytes
    thumb: bytes
    info: PhotoInfo


def check(data: bytes, max_pixels: int | None = None) -> None:
    """Refuse, from the header alone, what is no JPEG, PNG or WebP, or too big in bytes or in
    pixels (``max_pixels``; by default Pillow's ``Image.MAX_IMAGE_PIXELS``). Decodes nothing."""
    _opened(data, max_pixels).close()


def prepare(data: bytes, max_pixels: int | None = None) -> Prepared:
    """The photo re-encoded in its own format, upright, at most ``MAX_SIDE`` px, sRGB, and
    nothing but pixels (no EXIF with its GPS, no XMP, no ICC profile, no text), and a JPEG
    thumbnail of at most ``THUMB_SIDE`` px made from it. The upload is decoded once."""
    fmt, img = decoded(data, max_pixels)
    picture = _pixels(img, keep_alpha=fmt != "JPEG")
    del img  # the decoded picture may be large: not kept while encoding
    small = _pixels(picture, keep_alpha=False)
    small.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
    info = PhotoInfo(fmt, CONTENT_TYPES[fmt], picture.width, picture.height)
    return Prepared(_encoded(picture, fmt), _encoded(small, "JPEG"), info)


def inspect(data: bytes, max_pixels: int | None = None) -> PhotoInfo:
    """What ``data`` holds, decoded in full; :class:`PhotoError` unless a whole JPEG, PNG or
    WebP within the limits. The size is the upright one, as the photo will be shown."""
    fmt, img = decoded(data, max_pixels, side=None)
    return PhotoInfo(fmt, CONTENT_TYPES[fmt], img.width, img.height)


def decoded(
    data: bytes, max_pixels: int | None = None, side: int | None = MAX_SIDE
) -> tuple[str, Image.Image]:
    """The format and the picture, at most ``side`` px (``None``: as large as it is), turned
    upright by its EXIF orientation. A JPEG is decoded at the smallest scale (1/2, 1/4, 1/8)
    that still gives ``side`` px."""
    img: Image.Image = _opened(data, max_pixels)
    fmt = img.format or ""
    try:
        if side is not None and fmt == "JPEG":
            img.draft(None, _fitted(img.size, side))
        img.load()  # a truncated or damaged file fails here, not later when it is shown
        if side is not None:
            if img.mode not in _RESIZABLE:
                img = img.convert("RGBA" if img.has_transparency_data else "RGB")
            img.thumbnail((side, side), Image.Resampling.LANCZOS)
        # After shrinking: turning a small picture costs a small copy.
        img = ImageOps.exif_transpose(img)
    except _DECODE_ERRORS as exc:
        raise _broken(exc) from None
    return fmt, img


def _opened(data: bytes, max_pixels: int | None) -> ImageFile.ImageFile:
    """The file opened (its header read, nothing decoded) once it passes every limit."""
    if len(data) > MAX_BYTES:
        raise PhotoError("photo_too_large", f"a photo may have at most {MAX_BYTES // 2**20} MB")
    limit = Image.MAX_IMAGE_PIXELS if max_pixels is None else max_pixels
    try:
        # Only these three decoders ever see the upload: the format is what the bytes are.
        img = Image.open(io.BytesIO(data), formats=list(CONTENT_TYPES))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own check, in Image.open, sees it first when its limit is lower than ours,
        # and its warning is an exception where warnings are errors.
        raise _too_many_pixels(limit) from None
    except UnidentifiedImageError:
        raise PhotoError("unsupported_photo", "send a JPEG, PNG or WebP photo") from None
    except _DECODE_ERRORS as exc:  # the signature matched but the header is cut or damaged
        raise _broken(exc) from None
    if limit is not None and img.width * img.height > limit:
        img.close()
        raise _too_many_pixels(limit, img.size)
    return img


def _fitted(size: tuple[int, int], side: int) -> tuple[int, int]:
    """``size`` scaled to fit in a square of ``side`` px (never enlarged)."""
    scale = min(side / size[0], side / size[1], 1.0)
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def _broken(exc: Exception) -> PhotoError:
    return PhotoError("broken_photo", f"the photo cannot be read: {exc}")


def _too_many_pixels(limit: int | None, size: tuple[int, int] | None = None) -> PhotoError:
    # A small file can unpack to gigabytes (a decompression bomb): the pixel count decides.
    said = f"; this one has {size[0]} × {size[1]}" if size else ""
    return PhotoError("image_too_large", f"a photo may have at most {limit:,} pixels{said}")


def _pixels(img: Image.Image, keep_alpha: bool) -> Image.Image:
    """The picture's pixels in sRGB as a new image that carries nothing of the file."""
    img = _in_srgb(img)
    if not img.has_transparency_data:
        img = img.convert("RGB")
    elif keep_alpha:
        img = img.convert("RGBA")
    else:
        # JPEG has no transparency: what was see-through shows on white, not black.
        white = Image.new("RGBA", img.size, "white")
        img = Image.alpha_composite(white, img.convert("RGBA")).convert("RGB")
    return Image.frombytes(img.mode, img.size, img.tobytes())


def _in_srgb(img: Image.Image) -> Image.Image:
    # The ICC profile is dropped with the rest; converting first keeps a phone's wide-gamut
    # (Display P3) colours right instead of washed out.
    icc = img.info.get("icc_profile")
    if not icc or img.mode not in ("RGB", "RGBA", "CMYK"):
        return img
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        mode = "RGBA" if img.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(img, source, _SRGB, outputMode=mode)
    except (ImageCms.PyCMSError, OSError):
        return img  # a profile that cannot be read: the pixels as they are
    if converted is None:  # what Pillow returns for inPlace=True, which is not asked for here
        raise RuntimeError("ImageCms.profileToProfile gave no image")
    return converted


def _encoded(img: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **_SAVE_OPTIONS[fmt])
    return out.getvalue()
