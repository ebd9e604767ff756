"""DICOM -> PNG on pydicom's bundled test files: stored window, CT presets in Hounsfield units,
MONOCHROME1 inversion, colour, multi-frame; and a DICOM item end to end."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest
from clihelp import run_ok
from fake_openai import answer_from_images
from imgfixtures import image_spec
from PIL import Image

from medevals.errors import ConfigError
from medevals.images.dicom import PRESETS, linear_window, parse_window, to_image
from medevals.images.encode import ImageSettings, encode
from medevals.schema import ItemImage

pydicom = pytest.importorskip("pydicom", reason="DICOM needs the optional extra 'images' (pydicom)")


def _file(name: str) -> str:
    from pydicom.data import get_testdata_file

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = get_testdata_file(name)
    if path is None:
        pytest.skip(f"pydicom test file {name} not available")
    return str(path)


def _bytes(name: str) -> bytes:
    with open(_file(name), "rb") as fh:
        return fh.read()


def test_linear_window_matches_the_standard_formula():
    x = np.array([-1000, 39, 40, 41, 1000])
    out = linear_window(x, 40, 400)
    assert out[0] == 0 and out[-1] == 255
    # centre maps to ~mid-grey: ((40 - 39.5)/399 + 0.5) * 255
    assert out[2] == round(((40 - 39.5) / 399 + 0.5) * 255)


def test_stored_window_of_mr_small():
    ds = pydicom.dcmread(_file("MR_small.dcm"))
    assert (float(ds.WindowCenter), float(ds.WindowWidth)) == (600.0, 1600.0)
    img = to_image(_bytes("MR_small.dcm"), "stored")
    assert img.mode == "L" and img.size == (64, 64)
    want = linear_window(
        ds.pixel_array.astype(float) * float(ds.get("RescaleSlope", 1))
        + float(ds.get("RescaleIntercept", 0)),
        600,
        1600,
    )
    assert np.array_equal(np.asarray(img), want)


def test_ct_presets_window_hounsfield_units():
    ds = pydicom.dcmread(_file("CT_small.dcm"))
    hu = ds.pixel_array.astype(float) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    lung = np.asarray(to_image(_bytes("CT_small.dcm"), "lung"))
    bone = np.asarray(to_image(_bytes("CT_small.dcm"), "bone"))
    assert np.array_equal(lung, linear_window(hu, *PRESETS["lung"]))
    assert np.array_equal(bone, linear_window(hu, *PRESETS["bone"]))
    assert not np.array_equal(lung, bone)
    # no stored window: the full range
    full = np.asarray(to_image(_bytes("CT_small.dcm"), "stored"))
    assert full.min() == 0 and full.max() == 255
    explicit = np.asarray(to_image(_bytes("CT_small.dcm"), "40,400"))
    assert np.array_equal(explicit, linear_window(hu, 40, 400))


def test_presets_refused_outside_ct_and_bad_windows_named():
    with pytest.raises(ConfigError, match="Hounsfield-unit preset for CT, but this image is MR"):
        to_image(_bytes("MR_small.dcm"), "lung")
    with pytest.raises(ConfigError, match="dicom_window 'hot'"):
        parse_window("hot")


def test_monochrome1_is_inverted(tmp_path):
    ds = pydicom.dcmread(_file("MR_small.dcm"))
    normal = np.asarray(to_image(_bytes("MR_small.dcm")))
    ds.PhotometricInterpretation = "MONOCHROME1"
    buf = io.BytesIO()
    ds.save_as(buf)
    inverted = np.asarray(to_image(buf.getvalue()))
    assert np.array_equal(inverted, 255 - normal)


def test_colour_and_multiframe():
    rgb = to_image(_bytes("SC_rgb_rle.dcm"))
    assert rgb.mode == "RGB" and rgb.size == (100, 100)
    frames = pydicom.dcmread(_file("rtdose.dcm"))
    assert int(frames.NumberOfFrames) == 15
    mid = to_image(_bytes("rtdose.dcm"))
    assert mid.size == (frames.Columns, frames.Rows)


def test_encode_turns_dicom_into_a_windowed_rgb_png(tmp_path):
    enc = encode(ItemImage(path=_file("CT_small.dcm")), ImageSettings(dicom_window="lung"))
    assert enc.ext == "png"
    with Image.open(io.BytesIO(enc.data)) as im:
        assert im.mode == "RGB" and im.size == (128, 128)
    other = encode(ItemImage(path=_file("CT_small.dcm")), ImageSettings(dicom_window="bone"))
    assert other.sha256 != enc.sha256  # the window is part of what the model sees, so of the hash


def test_dicom_item_end_to_end(fake_server, tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    (data / "ct.dcm").write_bytes(_bytes("CT_small.dcm"))
    spec = image_spec(
        data,
        [
            {
                "id": "ct",
                "question": "Which organ?",
                "options": ["lung", "liver"],
                "answer": "A",
                "image": "ct.dcm",
            }
        ],
    )
    server = fake_server(responder=answer_from_images)
    folder = run_ok(server, tmp_path, capsys, "--set", "dicom_window=lung", benchmark=str(spec))
    (stored,) = (folder.path / "images").iterdir()
    assert stored.suffix == ".png"
    assert server.requests[0]["image_hashes"] == [stored.stem]
    assert folder.read_manifest().benchmarks[0].options["dicom_window"] == "lung"
