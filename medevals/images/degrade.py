"""Seeded image degradations at three severities, for robustness and calibration-shift analyses.

A degradation is a strategy variant (``degrade:noise@2``), like a text perturbation: the same
items are answered with clean and with degraded images and compared pair by pair. Each one is a
pure function of (image, severity, seed key), so a re-run, a resume or another machine with the
same Pillow/numpy produces byte-identical images (and so the same image hashes and cache keys).

The five kinds cover the categories of MedQ-Deg (Liu et al., 2026) that apply to any modality:
noise, resolution/blur and intensity. The levels are this project's, not MedQ-Deg's
(radiologist-calibrated, per modality): severity 1 is visible but mild, 3 is severe.
Sizes scale with the image (a blur radius is a fraction of the longer side), so a 300-pixel
figure and a 2,000-pixel radiograph lose the same share of detail.

=============  ==============================================================  ===============
kind           what it does                                                    severity 1/2/3
=============  ==============================================================  ===============
noise          additive Gaussian noise, same draw on R, G and B (grey stays    sigma 8/16/32
               grey), clipped to 0..255                                        (of 255)
blur           Gaussian blur, radius = level x longer side / 512 pixels        1 / 2 / 4
jpeg           JPEG re-encoding at a low quality, decoded again                quality 30/15/5
downsample     shrink by a factor (box filter), enlarge back (bilinear)        2 / 4 / 8
contrast       contrast pulled toward the mean grey (PIL ImageEnhance)         0.6/0.35/0.15
=============  ==============================================================  ===============
"""

from __future__ import annotations

import hashlib
import io
from typing import Any

KINDS = ("noise", "blur", "jpeg", "downsample", "contrast")
SEVERITIES = (1, 2, 3)

NOISE_SIGMA = {1: 8.0, 2: 16.0, 3: 32.0}
BLUR_LEVEL = {1: 1.0, 2: 2.0, 3: 4.0}
JPEG_QUALITY = {1: 30, 2: 15, 3: 5}
DOWNSAMPLE = {1: 2, 2: 4, 3: 8}
CONTRAST = {1: 0.6, 2: 0.35, 3: 0.15}

DESCRIPTION = (
    "noise: Gaussian sigma 8/16/32 of 255; blur: Gaussian radius 1/2/4 x longer side/512 px; "
    "jpeg: quality 30/15/5; downsample: x1/2, 1/4, 1/8 then back (bilinear); "
    "contrast: factor 0.6/0.35/0.15 toward mean grey"
)


def parse(spec: str) -> tuple[str, int]:
    """``"noise@2"`` -> ("noise", 2); ValueError naming the problem otherwise."""
    kind, _, sev = spec.partition("@")
    if kind not in KINDS:
        raise ValueError(f"unknown degradation '{kind}' (known: {', '.join(KINDS)})")
    if not sev.isdigit() or int(sev) not in SEVERITIES:
        raise ValueError(f"degradation '{spec}': severity must be one of 1, 2, 3 (e.g. {kind}@2)")
    return kind, int(sev)


def _rng(seed_key: str) -> Any:
    import numpy as np

    digest = hashlib.sha256(seed_key.encode("utf-8")).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def apply(image: Any, spec: str, seed_key: str) -> Any:
    """Degrade an RGB ``PIL.Image`` as ``spec`` says; the result depends only on its inputs."""
    from PIL import Image, ImageEnhance, ImageFilter

    kind, sev = parse(spec)
    if image.mode != "RGB":
        image = image.convert("RGB")
    w, h = image.size
    if kind == "noise":
        import numpy as np

        noise = _rng(seed_key).standard_normal((h, w, 1), dtype=np.float32)
        noise *= NOISE_SIGMA[sev]
        out = np.asarray(image, dtype=np.float32) + noise
        np.rint(out, out=out)
        np.clip(out, 0, 255, out=out)
        return Image.fromarray(out.astype(np.uint8), "RGB")
    if kind == "blur":
        return image.filter(ImageFilter.GaussianBlur(radius=BLUR_LEVEL[sev] * max(w, h) / 512))
    if kind == "jpeg":
        buf = io.BytesIO()
        image.save(buf, format="JPEG", quality=JPEG_QUALITY[sev], optimize=False, subsampling=2)
        with Image.open(io.BytesIO(buf.getvalue())) as decoded:
            return decoded.convert("RGB")
    if kind == "downsample":
        f = DOWNSAMPLE[sev]
        small = image.resize((max(1, w // f), max(1, h // f)), Image.Resampling.BOX)
        return small.resize((w, h), Image.Resampling.BILINEAR)
    assert kind == "contrast"
    return ImageEnhance.Contrast(image).enhance(CONTRAST[sev])
