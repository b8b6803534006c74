"""Range checks that cannot be bypassed: [-1, 1] and [0, 255] mix-ups stop the run on dark and bright images,
at the protocol (share of values far outside, comparison with the input) and inside the PyTorch adapter base
(raw model output checked before clamping)."""
import json

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from tfbench.cli import main
from tfbench.errors import AdapterError
from tfbench.mini import package_file
from tfbench.protocol import FAR_SHARE, check_reconstruction

torch = pytest.importorskip("torch", reason="PyTorch is the optional `neural` extra")


def _textured(bright: bool, seed: int = 0) -> np.ndarray:
    """(1, 96, 128, 3) in [0, 1]: a gradient with blocks and noise; bright: no value under 0.55."""
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 1, 128, dtype=np.float32)[None, :, None]
    y = np.linspace(0, 1, 96, dtype=np.float32)[:, None, None]
    img = 0.5 * x + 0.3 * y + 0.2 * (((np.arange(96)[:, None] // 12 + np.arange(128)[None] // 16) % 2)[..., None])
    img = np.broadcast_to(img / img.max(), (96, 128, 3)) + rng.normal(0, 0.02, (96, 128, 3))
    img = np.clip(0.55 + 0.45 * img, 0.55, 1.0) if bright else np.clip(0.9 * img, 0.0, 1.0)
    return img.astype(np.float32)[None]


@pytest.mark.parametrize("bright", [False, True])
def test_pm1_and_u8_mixups_are_refused_on_dark_and_bright_images(bright):
    x = _textured(bright)
    assert (x.min() >= 0.55) == bright
    with pytest.raises(AdapterError, match=r"vae: .*probably returns \[-1, 1\]"):
        check_reconstruction("vae", x, x * 2 - 1)
    with pytest.raises(AdapterError, match=r"vae: .*probably returns \[0, 255\]"):
        check_reconstruction("vae", x, x * 255)
    # declared [-1, 1] (the adapter maps from it) but the model gave [0, 1]: washed out, inside [0, 1]
    with pytest.raises(AdapterError, match=r"vae: .*read as a model output in \[0, 1\] instead of the declared "
                                           r"\[-1, 1\].*probably returns \[0, 1\]"):
        check_reconstruction("vae", x, (x + 1) / 2, value_range=(-1.0, 1.0))


def test_a_bright_pm1_mixup_is_caught_by_comparison_with_the_input():
    x = _textured(bright=True)
    recon = x * 2 - 1
    assert recon.min() > -0.25  # nothing far outside [0, 1]: the old darkest-pixel rule could not see it
    with pytest.raises(AdapterError, match=r"far from its input \(mean \|difference\| 0\.2\d\d\) but matches it \(0\.000\)"):
        check_reconstruction("vae", x, recon)


def test_a_dark_image_with_few_bright_pixels_in_u8_is_refused():
    x = np.zeros((1, 64, 64, 3), np.float32)
    x[0, 30, 30] = 0.8  # one bright pixel: far less than FAR_SHARE of the values
    assert 3 / x.size < FAR_SHARE
    with pytest.raises(AdapterError, match=r"probably returns \[0, 255\]"):
        check_reconstruction("vae", x, x * 255)


def test_real_overshoot_and_lossy_outputs_are_accepted():
    x = _textured(bright=True)
    rng = np.random.default_rng(1)
    vae_like = x + rng.normal(0, 0.03, x.shape).astype(np.float32)  # overshoots by up to ~0.13
    vae_like[0, :2, :2] = 1.2  # a few hot pixels, far less than FAR_SHARE
    out = check_reconstruction("vae", x, vae_like)
    assert out.min() >= 0.0 and out.max() == 1.0  # clipped, not refused
    check_reconstruction("vae", x, x - 0.1)  # darker by 0.1: a brightness change, not a mix-up
    blurred = np.repeat(np.repeat(x[:, ::8, ::8], 8, axis=1), 8, axis=2)
    check_reconstruction("vae", x, blurred)
    flat = np.full_like(x, 0.78)
    check_reconstruction("vae", flat, flat * 2 - 1)  # a flat image cannot tell; it is also harmless
    with pytest.raises(AdapterError, match=r"span \[0.55, 3\] \(1 of 36864 values more than 0.25 outside\)"):
        spike = x.copy()
        spike[0, 0, 0, 0] = 3.0  # one value beyond [-1, 2] is never overshoot
        check_reconstruction("vae", x, spike)


def test_the_torch_base_checks_the_raw_output_before_clamping():
    from tfbench.adapters.torch_common import to_protocol

    y = torch.full((1, 3, 4, 4), 0.5)
    y[0, 0, 0, 0] = 1.1  # overshoot within the slack: clamped
    assert to_protocol(y).max() == 1.0
    with pytest.raises(AdapterError, match=r"my-vae: the model's raw output spans \[0, 255\] \(47 of 48 values more "
                                           r"than 0.25 outside after mapping to \[0, 1\]\) but the adapter declares "
                                           r"value_range \[-1, 1\]; the adapter probably returns \[0, 255\]"):
        to_protocol(torch.linspace(0, 255, 48).reshape(1, 3, 4, 4), (-1.0, 1.0), "my-vae")
    with pytest.raises(AdapterError, match=r"probably returns \[-1, 1\]"):
        to_protocol(torch.linspace(-1, 1, 48).reshape(1, 3, 4, 4), (0.0, 1.0), "my-vae")


def _bright_suite(root):
    """One bright photo-like image (nothing under 55 % grey) with a word, as a manifest suite."""
    rng = np.random.default_rng(3)
    w, h = 320, 240
    grad = np.linspace(0.6, 1.0, w)[None, :, None] * np.ones((h, 1, 3))
    img = Image.fromarray(np.clip(255 * (grad + rng.normal(0, 0.02, (h, w, 3))), 140, 255).astype(np.uint8))
    font = ImageFont.truetype(str(package_file("matplotlib", "mpl-data/fonts/ttf/DejaVuSans.ttf")), 40)
    draw = ImageDraw.Draw(img)
    draw.text((40, 90), "Bright", font=font, fill=(140, 140, 150))
    box = list(draw.textbbox((40, 90), "Bright", font=font))
    root.mkdir()
    img.save(root / "bright.png")
    assert np.asarray(img).min() >= 140
    manifest = {"schema": "tfbench.suite/1", "name": "bright", "version": "1", "modality": "image",
                "images": [{"id": "bright", "file": "bright.png", "width": w, "height": h,
                            "words": [{"text": "Bright", "box": [box[0] - 4, box[1] - 4, box[2] + 4, box[3] + 4]}]}]}
    (root / "manifest.json").write_text(json.dumps(manifest))
    return root / "manifest.json"


@pytest.fixture(scope="module")
def bright(tmp_path_factory):
    return _bright_suite(tmp_path_factory.mktemp("bright") / "data")


@pytest.mark.parametrize("case,returns", [("u8_as_pm1", "[0, 255]"), ("u8_as_unit", "[0, 255]"),
                                          ("pm1_as_unit", "[-1, 1]"), ("pm1_as_u8", "[-1, 1]")])
def test_a_pytorch_adapter_in_the_wrong_range_stops_tfbench_run_on_a_bright_image(bright, tmp_path, capsys, case, returns):
    spec = f"python:tests.range_adapters:PoolAutoencoder:case={case}"
    rc = main(["run", "--suite", str(bright), "--data-root", str(bright.parent), "-a", spec, "-r", "256",
               "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith(f"tfbench: error: {spec}: ") and err.count("\n") == 1, err
    assert f"the adapter probably returns {returns}. Convert with the adapter's declared value_range" in err


def test_the_same_adapter_in_its_declared_range_runs(bright, tmp_path, capsys):
    spec = "python:tests.range_adapters:PoolAutoencoder:case=correct_pm1"
    rc = main(["run", "--suite", str(bright), "--data-root", str(bright.parent), "-a", spec, "-r", "256",
               "--out", str(tmp_path / "out"), "--json"])
    assert rc == 0, capsys.readouterr().err
    results = json.loads(next((tmp_path / "out").rglob("results.json")).read_text())
    assert results["failures"]["images"] == 0 and results["counts"]["words"] == 1
