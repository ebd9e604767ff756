"""DICOM -> an 8-bit image a vision-language model can read: modality LUT, a window, MONOCHROME1 inverted.

A CT stores Hounsfield units over thousands of values; a VLM sees 256 grey levels. Which 256 is a
clinical choice, so it is an option (``dicom_window``) recorded in the run manifest:

- ``stored`` (default): the file's own window (first WindowCenter/WindowWidth value), else its VOI
  LUT, else the full range of the pixel values;
- ``minmax``: the full range, whatever the file says;
- a named preset in Hounsfield units, for CT only (``PRESETS``);
- ``C,W``: an explicit centre and width in the modality's units (e.g. ``40,400``).

The linear window is DICOM PS3.3 C.11.2.1.2.1. Multi-frame images give their middle frame.
Colour images (RGB, YBR converted by pydicom, palette colour) are returned as RGB unwindowed.
pydicom is the optional extra ``images`` (``pip install -e '.[images]'``).
"""

from __future__ import annotations

import io
from typing import Any

from medevals.errors import ConfigError, DataError

#: (centre, width) in Hounsfield units; common radiology display presets.
PRESETS: dict[str, tuple[float, float]] = {
    "lung": (-600.0, 1500.0),
    "mediastinum": (50.0, 350.0),
    "soft-tissue": (50.0, 400.0),
    "bone": (400.0, 1800.0),
    "brain": (40.0, 80.0),
    "liver": (30.0, 150.0),
}
INSTALL_HINT = "pip install -e '.[images]' (pydicom)"


def parse_window(spec: str) -> str | tuple[float, float]:
    """Validate a ``dicom_window`` option: 'stored', 'minmax', a preset name, or 'C,W'."""
    s = spec.strip().lower()
    if s in ("stored", "minmax") or s in PRESETS:
        return s
    parts = s.split(",")
    if len(parts) == 2:
        try:
            c, w = float(parts[0]), float(parts[1])
        except ValueError:
            pass
        else:
            if w >= 1:
                return (c, w)
    raise ConfigError(
        f"dicom_window '{spec}': use stored, minmax, C,W (e.g. 40,400) or a preset: {', '.join(PRESETS)}"
    )


def _first(value: Any) -> float | None:
    if value is None:
        return None
    try:
        return float(value[0]) if hasattr(value, "__len__") and not isinstance(value, str) else float(value)
    except (TypeError, ValueError, IndexError):
        return None


def linear_window(arr: Any, center: float, width: float) -> Any:
    """DICOM's linear VOI function onto 0..255 (PS3.3 C.11.2.1.2.1)."""
    import numpy as np

    x = arr.astype(np.float64)
    lo = center - 0.5 - (width - 1) / 2
    hi = center - 0.5 + (width - 1) / 2
    y = ((x - (center - 0.5)) / max(width - 1, 1e-9) + 0.5) * 255.0
    y = np.where(x <= lo, 0.0, np.where(x > hi, 255.0, y))
    return np.clip(np.rint(y), 0, 255).astype(np.uint8)


def _minmax(arr: Any) -> Any:
    import numpy as np

    x = arr.astype(np.float64)
    lo, hi = float(x.min()), float(x.max())
    if hi <= lo:
        return np.zeros(x.shape, dtype=np.uint8)
    return np.clip(np.rint((x - lo) / (hi - lo) * 255.0), 0, 255).astype(np.uint8)


def to_image(data: bytes, window: str = "stored", *, where: str = "") -> Any:
    """Decode DICOM bytes into a ``PIL.Image`` (mode L for greyscale, RGB for colour)."""
    try:
        import pydicom
        from pydicom.pixels import apply_color_lut, apply_modality_lut, apply_voi_lut
    except ImportError:
        raise ConfigError(f"{where}: a DICOM image needs pydicom: {INSTALL_HINT}") from None
    import numpy as np
    from PIL import Image

    choice = parse_window(window)
    try:
        ds = pydicom.dcmread(io.BytesIO(data), force=True)
        arr = ds.pixel_array
    except Exception as e:  # no pixel data, a transfer syntax without a decoder, a truncated file
        raise DataError(f"unreadable DICOM image: {type(e).__name__}: {e}", path=where or None) from None
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).upper()
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    samples = int(ds.get("SamplesPerPixel", 1) or 1)
    if frames > 1:
        arr = arr[frames // 2]
    if photometric == "PALETTE COLOR":
        rgb = apply_color_lut(arr, ds)
        if rgb.dtype != np.uint8:  # 16-bit palettes
            rgb = (rgb >> 8).astype(np.uint8) if rgb.max() > 255 else rgb.astype(np.uint8)
        return Image.fromarray(rgb, "RGB")
    if samples == 3:
        rgb = arr if arr.dtype == np.uint8 else _minmax(arr)
        return Image.fromarray(rgb, "RGB")
    values = apply_modality_lut(arr, ds)
    if isinstance(choice, tuple):
        out = linear_window(values, *choice)
    elif choice in PRESETS:
        modality = str(ds.get("Modality", "") or "").upper()
        if modality and modality != "CT":
            raise ConfigError(
                f"{where}: dicom_window '{choice}' is a Hounsfield-unit preset for CT, but this image is "
                f"{modality}; use dicom_window=stored, minmax or C,W"
            )
        out = linear_window(values, *PRESETS[choice])
    elif choice == "stored":
        center, width = _first(ds.get("WindowCenter")), _first(ds.get("WindowWidth"))
        if center is not None and width is not None and width >= 1:
            out = linear_window(values, center, width)
        elif "VOILUTSequence" in ds:
            out = _minmax(apply_voi_lut(values, ds, index=0))
        else:
            out = _minmax(values)
    else:
        out = _minmax(values)
    if photometric == "MONOCHROME1":  # 0 is white in MONOCHROME1
        out = 255 - out
    return Image.fromarray(out, "L")
