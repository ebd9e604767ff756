"""One image as it will be sent: read, converted only when it must be, degraded, hashed.

PNG and JPEG files already in RGB with no resize or degradation asked are sent byte for byte as
stored (their hash is the file's sha256). Anything else is converted once: EXIF orientation
applied, 16-bit greyscale scaled to 8 bits, RGBA composited on white, palette/L/CMYK -> RGB,
DICOM windowed (``dicom.py``), then the optional max-side resize (Lanczos) and degradation, and
encoded as PNG (lossless, zlib level 1 for speed; deterministic for a given Pillow/zlib).
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import Any

from medevals.errors import DataError
from medevals.images import source
from medevals.schema import ItemImage

MIME = {"png": "image/png", "jpg": "image/jpeg"}
#: Largest decoded image accepted (pixels); guards against decompression bombs.
MAX_PIXELS = 120_000_000


@dataclass(frozen=True)
class Encoded:
    data: bytes
    ext: str  # "png" or "jpg"
    sha256: str
    width: int
    height: int

    @property
    def mime(self) -> str:
        return MIME[self.ext]


@dataclass(frozen=True)
class ImageSettings:
    """How images are turned into what the model sees; recorded in the manifest via protocol options."""

    max_side: int | None = None
    dicom_window: str = "stored"


def _where(image: ItemImage) -> str:
    return image.path or (image.url or "")[:200]


def _to_rgb(img: Any) -> Any:
    from PIL import Image, ImageOps

    img = ImageOps.exif_transpose(img) or img
    if img.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        import numpy as np

        arr = np.asarray(img, dtype=np.float64)
        lo, hi = float(arr.min()), float(arr.max())
        scaled = np.zeros(arr.shape, np.uint8) if hi <= lo else np.rint((arr - lo) / (hi - lo) * 255)
        img = Image.fromarray(scaled.astype(np.uint8), "L")
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return img if img.mode == "RGB" else img.convert("RGB")


def encode(
    image: ItemImage,
    settings: ImageSettings = ImageSettings(),
    *,
    degrade: str | None = None,
    seed_key: str = "",
) -> Encoded:
    """The bytes to send for ``image``; raises DataError for a missing or unreadable image."""
    from PIL import Image, UnidentifiedImageError

    raw = source.read_bytes(image)
    where = _where(image)
    if source.is_dicom(raw, image.path):
        from medevals.images import dicom

        img = dicom.to_image(raw, settings.dicom_window, where=where)
        fmt = "DICOM"
    else:
        try:
            img = Image.open(io.BytesIO(raw))
            fmt = img.format or ""
        except (UnidentifiedImageError, OSError) as e:
            raise DataError(f"not a readable image ({type(e).__name__})", path=where) from None
    w, h = img.size
    if w * h > MAX_PIXELS:
        raise DataError(f"image is {w}x{h} pixels (limit {MAX_PIXELS})", path=where)
    too_big = settings.max_side is not None and max(w, h) > settings.max_side
    rotated = fmt == "JPEG" and (img.getexif().get(0x0112, 1) not in (1, None))
    if fmt in ("PNG", "JPEG") and img.mode == "RGB" and not degrade and not too_big and not rotated:
        ext = "png" if fmt == "PNG" else "jpg"
        return Encoded(raw, ext, hashlib.sha256(raw).hexdigest(), w, h)
    try:
        img.load()
        img = _to_rgb(img)
    except OSError as e:  # truncated file
        raise DataError(f"unreadable image data ({e})", path=where) from None
    if too_big:
        assert settings.max_side is not None
        img.thumbnail((settings.max_side, settings.max_side), Image.Resampling.LANCZOS)
    if degrade:
        from medevals.images import degrade as deg

        img = deg.apply(img, degrade, seed_key)
    buf = io.BytesIO()
    # zlib level 1: 2-7x faster than the default 6 on radiograph-sized images, files ~10-50% larger
    img.save(buf, format="PNG", compress_level=1)
    data = buf.getvalue()
    return Encoded(data, "png", hashlib.sha256(data).hexdigest(), img.size[0], img.size[1])
