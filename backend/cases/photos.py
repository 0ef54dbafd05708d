"""Photos as the rule wants them: JPEG, PNG or WebP by content, size-limited, re-encoded
upright with no metadata (no GPS), plus a small JPEG thumbnail. Pure: bytes in, bytes out.

>>> import io
>>> buf = io.BytesIO()
>>> Image.new("RGB", (2000, 1000), "red").save(buf, "PNG")
>>> inspect(clean(buf.getvalue()))
PhotoInfo(format='PNG', content_type='image/png', width=1600, height=800)
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

MAX_BYTES = 10 * 1024 * 1024
MAX_SIDE = 1600
THUMB_SIDE = 320
CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
_SAVE_OPTIONS = {"JPEG": {"quality": 85}, "PNG": {}, "WEBP": {"quality": 85}}
# What Pillow's decoders raise on damaged data; anything past the header is decoded here.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error)
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


def inspect(data: bytes) -> PhotoInfo:
    """What ``data`` holds, decoded in full; :class:`PhotoError` unless a whole JPEG, PNG or
    WebP within the limits. The size is the upright one, as the photo will be shown."""
    fmt, img = _decoded(data)
    return PhotoInfo(fmt, CONTENT_TYPES[fmt], img.width, img.height)


def clean(data: bytes) -> bytes:
    """The photo re-encoded in its own format: upright, at most ``MAX_SIDE`` px, sRGB, and
    nothing but pixels (no EXIF with its GPS, no XMP, no ICC profile, no text)."""
    fmt, img = _decoded(data)
    picture = _pixels(img, keep_alpha=fmt != "JPEG")
    picture.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    return _encoded(picture, fmt)


def thumbnail(data: bytes) -> bytes:
    """A JPEG of at most ``THUMB_SIDE`` px, upright, without metadata."""
    _, img = _decoded(data)
    small = _pixels(img, keep_alpha=False)
    small.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
    return _encoded(small, "JPEG")


def _decoded(data: bytes) -> tuple[str, Image.Image]:
    """The format and the whole picture, turned upright by its EXIF orientation."""
    if len(data) > MAX_BYTES:
        raise PhotoError("photo_too_large", f"a photo may have at most {MAX_BYTES // 2**20} MB")
    try:
        # Only these three decoders ever see the upload: the format is what the bytes are.
        img = Image.open(io.BytesIO(data), formats=list(CONTENT_TYPES))
    except Image.DecompressionBombError:
        raise _too_many_pixels() from None
    except UnidentifiedImageError:
        raise PhotoError("unsupported_photo", "send a JPEG, PNG or WebP photo") from None
    except _DECODE_ERRORS as exc:  # the signature matched but the header is cut or damaged
        raise _broken(exc) from None
    limit = Image.MAX_IMAGE_PIXELS
    if limit is not None and img.width * img.height > limit:
        raise _too_many_pixels()
    fmt = img.format or ""
    try:
        img.load()  # a truncated or damaged file fails here, not later when it is shown
        ImageOps.exif_transpose(img, in_place=True)
    except _DECODE_ERRORS as exc:
        raise _broken(exc) from None
    return fmt, img


def _broken(exc: Exception) -> PhotoError:
    return PhotoError("broken_photo", f"the photo cannot be read: {exc}")


def _too_many_pixels() -> PhotoError:
    # A small file can unpack to gigabytes (a decompression bomb): the pixel count decides.
    return PhotoError(
        "photo_too_large", f"a photo may have at most {Image.MAX_IMAGE_PIXELS} pixels"
    )


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
