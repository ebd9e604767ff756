"""Degradations: deterministic per seed, monotone in severity, and the strategy grid syntax."""

from __future__ import annotations

import io

import numpy as np
import pytest
from imgfixtures import png_bytes
from PIL import Image

from medevals.images import degrade
from medevals.images.encode import ImageSettings, encode
from medevals.protocols.strategies import clean_baseline, expand, parse
from medevals.schema import ItemImage


def _img(seed: int = 1) -> Image.Image:
    return Image.open(io.BytesIO(png_bytes(seed, size=(96, 64)))).convert("RGB")


def _mse(a: Image.Image, b: Image.Image) -> float:
    return float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))


@pytest.mark.parametrize("kind", degrade.KINDS)
def test_same_seed_same_pixels_and_severity_is_monotone(kind):
    clean = _img()
    errors = []
    for sev in degrade.SEVERITIES:
        a = degrade.apply(clean, f"{kind}@{sev}", "0:item-1:0")
        b = degrade.apply(clean, f"{kind}@{sev}", "0:item-1:0")
        assert a.tobytes() == b.tobytes()
        assert a.size == clean.size and a.mode == "RGB"
        errors.append(_mse(a, clean))
    assert 0 < errors[0] < errors[1] < errors[2], errors


def test_noise_depends_on_the_seed_key_only():
    clean = _img()
    a = degrade.apply(clean, "noise@2", "0:item-1:0")
    b = degrade.apply(clean, "noise@2", "1:item-1:0")
    assert a.tobytes() != b.tobytes()
    # grey stays grey: one draw for R, G and B
    grey = Image.new("RGB", (40, 30), (128, 128, 128))
    arr = np.asarray(degrade.apply(grey, "noise@3", "k"))
    assert (arr[..., 0] == arr[..., 1]).all() and (arr[..., 1] == arr[..., 2]).all()


def test_encoded_degraded_image_is_byte_identical_across_calls(tmp_path):
    p = tmp_path / "a.png"
    p.write_bytes(png_bytes(3, size=(64, 64)))
    im = ItemImage(path=str(p))
    a = encode(im, ImageSettings(), degrade="jpeg@2", seed_key="7:x:0:jpeg@2")
    b = encode(im, ImageSettings(), degrade="jpeg@2", seed_key="7:x:0:jpeg@2")
    clean = encode(im, ImageSettings())
    assert a.sha256 == b.sha256 and a.data == b.data and a.ext == "png"
    assert clean.data == p.read_bytes()  # an RGB PNG with nothing to do is sent as stored


def test_bad_degradation_names_are_refused():
    with pytest.raises(ValueError, match="unknown degradation 'fog'"):
        degrade.parse("fog@1")
    with pytest.raises(ValueError, match="severity must be one of 1, 2, 3"):
        degrade.parse("blur@4")


def test_grid_syntax_expands_to_kinds_times_severities_with_clean_baseline():
    names = ["degrade:noise", "blur", "jpeg", "downsample", "contrast@1", "2", "3"]  # the comma split
    got = expand(names)
    assert got[0] == "zero-shot"
    assert got[1:] == [f"degrade:{k}@{s}" for k in degrade.KINDS for s in (1, 2, 3)]
    assert expand(["degrade:blur@2"]) == ["zero-shot", "degrade:blur@2"]
    assert expand(["degrade:noise"]) == ["zero-shot", "degrade:noise@1", "degrade:noise@2", "degrade:noise@3"]
    assert expand(["cot", "cot+degrade:jpeg@3"]) == ["cot", "cot+degrade:jpeg@3"]
    assert expand(["cot+degrade:jpeg@3"]) == ["cot", "cot+degrade:jpeg@3"]
    assert len(expand(["degradations"])) == 16
    assert parse("cot+degrade:jpeg@3").degrade == "jpeg@3" and parse("cot+degrade:jpeg@3").cot
    assert clean_baseline("cot+degrade:jpeg@3") == "cot" and clean_baseline("degrade:jpeg@3") == "zero-shot"
    with pytest.raises(ValueError):
        expand(["degrade:noise@1+degrade:blur@1"])
