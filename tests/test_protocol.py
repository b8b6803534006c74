import numpy as np
import pytest

from tfbench.errors import AdapterError
from tfbench.protocol import check_reconstruction, continuous_bpp, discrete_bpp
from tfbench.registry import create_adapter
from tfbench.resize import from_canvas, plan, to_canvas


def _batch():
    return np.random.default_rng(1).random((2, 32, 40, 3), dtype=np.float32)


def test_reconstruction_checks_name_the_adapter_and_cause():
    b = _batch()
    with pytest.raises(AdapterError, match=r"vae: reconstruction has shape \(2, 32, 32, 3\)"):
        check_reconstruction("vae", b, b[:, :, :32])
    bad = b.copy()
    bad[1, 3, 3, 0] = np.nan
    with pytest.raises(AdapterError, match="vae: reconstruction contains 1 NaN/Inf"):
        check_reconstruction("vae", b, bad)
    with pytest.raises(AdapterError, match=r"probably returns \[-1, 1\]"):
        check_reconstruction("vae", b, b * 2 - 1)
    with pytest.raises(AdapterError, match=r"probably returns \[0, 255\]"):
        check_reconstruction("vae", b, b * 255)
    with pytest.raises(AdapterError, match="returned list"):
        check_reconstruction("vae", b, [b])


def test_small_overshoot_is_clipped_not_refused():
    b = _batch()
    out = check_reconstruction("vae", b, b * 1.1 - 0.05)
    assert out.min() == 0.0 and out.max() == 1.0


def test_bits_per_pixel_formulas():
    assert continuous_bpp((16, 32, 32), 256 * 256) == pytest.approx(16 * 32 * 32 * 16 / 65536)  # 4.0
    assert discrete_bpp(256, 16384, 256 * 256) == pytest.approx(256 * 14 / 65536)


def test_codec_bits_per_pixel_is_the_real_stream_size():
    rng = np.random.default_rng(0)
    ramp = np.broadcast_to(np.linspace(0, 1, 128, dtype=np.float32)[None, :, None], (96, 128, 3))
    batch = np.clip(ramp[None] + rng.normal(0, 0.05, (1, 96, 128, 3)), 0, 1).astype(np.float32)
    bpps = []
    for q in (90, 30, 5):
        a = create_adapter(f"jpeg:quality={q}")
        streams = a.encode(batch)
        comp = a.compression(streams, batch.shape)[0]
        assert comp.bits_per_pixel == pytest.approx(len(streams[0]) * 8 / (96 * 128))
        bpps.append(comp.bits_per_pixel)
    assert bpps[0] > bpps[1] > bpps[2]


@pytest.mark.parametrize("w,h,t", [(1024, 768, 256), (300, 900, 512), (2048, 1536, 1024), (100, 50, 256)])
def test_letterbox_geometry(w, h, t):
    p = plan(w, h, t)
    assert max(p.new_w, p.new_h) == t and p.x0 == (t - p.new_w) // 2 and p.y0 == (t - p.new_h) // 2
    img = np.full((h, w, 3), 200, np.uint8)
    canvas = to_canvas(img, p)
    assert canvas.shape == (t, t, 3)
    assert canvas[p.y0 + p.new_h // 2, p.x0 + p.new_w // 2, 0] == 200
    if p.y0 > 0:
        assert canvas[0, t // 2].tolist() == [0, 0, 0]  # black padding
    back = from_canvas(canvas, p)
    assert back.shape == (h, w, 3) and abs(int(back[h // 2, w // 2, 0]) - 200) <= 1


def test_native_is_untouched():
    img = np.random.default_rng(0).integers(0, 255, (37, 53, 3), dtype=np.uint8)
    p = plan(53, 37, None)
    assert to_canvas(img, p) is img and from_canvas(img, p) is img
