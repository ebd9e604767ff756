"""Small thumbnails of a run's stored images, as ``data:`` URIs, for the self-contained HTML report.

The report reads images only from the run folder's store, by reference (``images/<sha256>.<ext>``;
anything else, such as a path in a crafted samples.jsonl, is refused), and embeds a downscaled JPEG
so a report with hundreds of samples stays a few MB. No network, no file outside the run folder.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

from medevals.images.store import is_ref

THUMB_SIDE = 160
THUMB_QUALITY = 70


def thumbnail_data_uri(run_folder: Path, ref: str, max_side: int = THUMB_SIDE) -> str | None:
    """A JPEG thumbnail of the stored image ``ref`` as a data URI; None when absent or unreadable."""
    if not is_ref(ref):
        return None
    path = Path(run_folder) / ref
    if not path.is_file():
        return None
    try:
        from PIL import Image

        with Image.open(path) as im:
            im.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
            rgb = im.convert("RGB")
            buf = io.BytesIO()
            rgb.save(buf, format="JPEG", quality=THUMB_QUALITY)
    except (ImportError, OSError, ValueError):
        return None
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
