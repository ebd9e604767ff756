"""Where an item's image bytes come from: a local file, an http(s) URL, or bytes a loader read.

Bytes read by a loader (base64 in a TSV, a hub dataset's image column) are written once to a
content-addressed file under ``$MEDEVALS_HOME/images/`` and the item refers to that path: items
and samples never hold image bytes.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from medevals.errors import DataError
from medevals.schema import ItemImage

#: Longest an image download may take (connect + read), and the largest image accepted.
URL_TIMEOUT_S = 60.0
MAX_IMAGE_BYTES = 200 * 1024 * 1024

_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpg"),
    (b"GIF8", "gif"),
    (b"BM", "bmp"),
    (b"II*\x00", "tif"),
    (b"MM\x00*", "tif"),
    (b"RIFF", "webp"),
)


def blob_dir() -> Path:
    from medevals.models.builtin import model_cache_dir

    return Path(os.environ.get("MEDEVALS_IMAGE_BLOBS") or model_cache_dir() / "images")


def sniff_extension(data: bytes) -> str:
    """File extension from the first bytes (``dcm`` for DICOM's preamble + ``DICM``), else ``bin``."""
    if is_dicom(data):
        return "dcm"
    for magic, ext in _MAGIC:
        if data.startswith(magic):
            return ext
    return "bin"


def is_dicom(data: bytes, name: str | None = None) -> bool:
    """DICOM Part 10 files carry ``DICM`` after a 128-byte preamble; bare datasets end in .dcm."""
    if len(data) >= 132 and data[128:132] == b"DICM":
        return True
    return bool(name) and str(name).lower().endswith((".dcm", ".dicom"))


def from_bytes(data: bytes, *, label: str | None = None, where: str = "") -> ItemImage:
    """Write image bytes once (content-addressed) and return an ``ItemImage`` pointing at them."""
    if not data:
        raise DataError("empty image", path=where or None)
    digest = hashlib.sha256(data).hexdigest()
    folder = blob_dir() / digest[:2]
    path = folder / f"{digest}.{sniff_extension(data)}"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    return ItemImage(path=str(path), label=label)


def read_bytes(image: ItemImage) -> bytes:
    """The stored bytes of an image source; a missing file or failed download is a DataError."""
    if image.path is not None:
        p = Path(image.path).expanduser()
        try:
            size = p.stat().st_size
        except OSError:
            raise DataError("image file not found", path=p) from None
        if size > MAX_IMAGE_BYTES:
            raise DataError(f"image is {size} bytes (limit {MAX_IMAGE_BYTES})", path=p)
        return p.read_bytes()
    assert image.url is not None
    return _download(image.url)


def _download(url: str) -> bytes:
    if not url.startswith(("http://", "https://")):
        raise DataError(f"image URL '{url[:200]}' must start with http:// or https://")
    import httpx

    try:
        with (
            httpx.Client(timeout=URL_TIMEOUT_S, follow_redirects=True) as client,
            client.stream("GET", url) as resp,
        ):
            if resp.status_code != 200:
                raise DataError(f"image URL '{url[:200]}' answered HTTP {resp.status_code}")
            chunks, total = [], 0
            for chunk in resp.iter_bytes():
                total += len(chunk)
                if total > MAX_IMAGE_BYTES:
                    raise DataError(f"image URL '{url[:200]}' is larger than {MAX_IMAGE_BYTES} bytes")
                chunks.append(chunk)
            return b"".join(chunks)
    except httpx.HTTPError as e:
        raise DataError(f"image URL '{url[:200]}' could not be fetched: {type(e).__name__}: {e}") from None


def from_hub_value(value: object, *, label: str | None = None, where: str = "") -> ItemImage:
    """An image cell of a Hugging Face dataset (``{"bytes", "path"}`` or a decoded PIL image) as an ItemImage.

    Raw bytes are kept as they are; a decoded image is written as PNG (lossless, so no second
    JPEG generation on top of the first).
    """
    if isinstance(value, dict) and value.get("bytes"):
        return from_bytes(bytes(value["bytes"]), label=label, where=where)  # type: ignore[arg-type]
    if isinstance(value, (bytes, bytearray)):
        return from_bytes(bytes(value), label=label, where=where)
    if hasattr(value, "save"):
        import io

        buf = io.BytesIO()
        value.save(buf, format="PNG")  # type: ignore[union-attr]
        return from_bytes(buf.getvalue(), label=label, where=where)
    raise DataError(f"not an image value ({type(value).__name__})", path=where or None)
