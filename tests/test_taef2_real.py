"""The real pretrained TAEF2 weights (../shared/weights): strict loading, real photos, and `tfbench run` on mini."""
from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from tfbench.cli import main  # noqa: E402
from tfbench.registry import create_adapter  # noqa: E402


@pytest.fixture(scope="module")
def weights(shared):
    folder = shared / "weights"
    if not (folder / "taef2_encoder.pth").is_file():
        pytest.skip("../shared/weights/taef2_*.pth (pretrained TAEF2) is not present")
    return folder


def face_photos(shared, n: int = 3) -> list[np.ndarray]:
    from PIL import Image

    records = json.loads((shared / "data" / "faces" / "manifest.json").read_text())[:n]
    out = []
    for rec in records:
        im = Image.open(shared / "data" / "faces" / rec["file"]).convert("RGB")
        im.thumbnail((256, 256), Image.LANCZOS)  # odd sizes (256x165...): padding and cropping are exercised
        out.append(np.asarray(im, dtype=np.float32)[None] / 255.0)
    return out


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(1.0 / np.mean((a - b) ** 2)))


def test_pretrained_taef2_reconstructs_real_faces(weights, shared):
    adapter = create_adapter(f"taef2:weights={weights}")
    assert adapter.variant == "taef2" and adapter.info.latent_channels == 32 and adapter.info.spatial_compression == 8
    bf16 = create_adapter(f"taef2:weights={weights},dtype=bf16")
    coded = create_adapter(f"taef2:weights={weights},latent_bits=8")  # TAESD's own uint8 latent storage
    for x in face_photos(shared):
        latent = adapter.encode(x)
        assert tuple(latent.tensor.shape[1:]) == (32, -(-x.shape[1] // 8), -(-x.shape[2] // 8))
        good = psnr(adapter.decode(latent), x)
        assert good > 30.0  # measured 32.6-33.1 dB on these photos at 256
        # the same network fed [-1, 1] (the diffusers AutoencoderTiny convention) loses >10 dB
        with torch.inference_mode():
            t = torch.from_numpy(x).permute(0, 3, 1, 2) * 2 - 1
            h, w = t.shape[-2:]
            t = torch.nn.functional.pad(t, (0, -w % 8, 0, -h % 8), mode="replicate")
            wrong = ((adapter.model["decoder"](adapter.model["encoder"](t)) + 1) / 2).clamp(0, 1)
        assert psnr(wrong[..., :h, :w].permute(0, 2, 3, 1).numpy(), x) < good - 10
        assert good - 0.5 < psnr(coded.reconstruct(x), x) <= good + 0.05  # measured: -0.15 dB at half the bits
    # bf16 on one 96x96 crop: torch's CPU bf16 convolutions took 134 s for one 192x256 photo on this 2-core VM
    crop = np.ascontiguousarray(face_photos(shared, 1)[0][:, 40:136, 80:176])
    assert abs(psnr(bf16.reconstruct(crop), crop) - psnr(adapter.reconstruct(crop), crop)) < 0.5


@pytest.mark.slow
def test_taef2_on_mini_from_the_cli(weights, mini, tmp_path, capsys):
    rc = main(["run", "--suite", "mini", "-r", "256", "-a", f"taef2:weights={weights}", "--out", str(tmp_path),
               "--json", "--no-progress"])
    assert rc == 0
    (res,) = json.loads(capsys.readouterr().out)
    adapter = res["adapter"]
    assert adapter["family"] == "tae" and adapter["latent_channels"] == 32
    assert adapter["bits_per_pixel"] == 8.0 and adapter["tokens"] == 1024 and adapter["latent_shape"] == [32, 32, 32]
    assert adapter["bpp_basis"] == "latent elements x 16 bits (fp16) / input pixels"
    text, face = res["metrics"]["text"], res["metrics"]["face"]
    # measured on mini v3 @256 (CPU, deterministic): T-ACC 0.293 (small/medium/large 0.095/0.192/0.591), T-NED 0.595,
    # F-Sim 0.846 (0.691/0.886/0.961); identity scores T-ACC 0.905, F-Sim 0.958
    t_acc, t_ned, f_sim = text["t_acc"], text["t_ned"], face["f_sim"]
    assert t_acc["mean"] == pytest.approx(0.293, abs=0.02) and t_ned["mean"] == pytest.approx(0.595, abs=0.02)
    assert f_sim["mean"] == pytest.approx(0.846, abs=0.02)
    for m in (t_acc, t_ned, f_sim):  # smaller text and faces lose more
        assert m["small"] < m["medium"] < m["large"]
    assert res["failures"]["images"] == 0
