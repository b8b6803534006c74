"""The resize protocol pinned to the pixel: letterbox geometry, black padding, LANCZOS both ways, value conversion."""
import numpy as np
import pytest
from PIL import Image

from tfbench.resize import Placement, from_canvas, parse_resolution, plan, resolution_label, to_canvas, to_u8, to_unit


def _textured(h: int, w: int, seed: int = 0) -> np.ndarray:
    """Noise plus fine stripes: every resampling filter gives different pixels on it."""
    rng = np.random.default_rng(seed)
    stripes = (np.arange(w)[None, :, None] % 3 == 0) * 120
    return np.clip(rng.integers(0, 135, (h, w, 3)) + stripes, 0, 255).astype(np.uint8)


def test_landscape_1024x768_at_256_is_256x192_at_rows_32_to_224():
    p = plan(1024, 768, 256)
    assert p == Placement(width=1024, height=768, target=256, new_w=256, new_h=192, x0=0, y0=32)
    assert p.canvas_shape == (256, 256, 3)
    canvas = to_canvas(np.full((768, 1024, 3), 255, np.uint8), p)
    assert canvas.dtype == np.uint8 and canvas.shape == (256, 256, 3)
    assert (canvas[32:224] == 255).all()  # the image, exactly (LANCZOS keeps a flat image flat)
    assert (canvas[:32] == 0).all() and (canvas[224:] == 0).all()  # black padding above and below, nothing else
    back = from_canvas(canvas, p)
    assert back.shape == (768, 1024, 3) and (back == 255).all()  # the padding is cropped off before resizing back


@pytest.mark.parametrize("w,h,t,placement", [
    (300, 900, 512, (171, 512, 170, 0)),  # portrait: 300 * 512 / 900 = 170.67 -> 171 wide, centred
    (100, 50, 256, (256, 128, 0, 64)),  # small images are scaled up
    (1000, 1, 256, (256, 1, 0, 127)),  # never thinner than one pixel
    (1, 1000, 256, (1, 256, 127, 0)),
    (257, 256, 256, (256, 255, 0, 0)),  # 256 * 256 / 257 = 254.99 -> 255, the odd row of padding at the bottom
    (256, 256, 256, (256, 256, 0, 0)),
])
def test_letterbox_scale_rounding_and_centring(w, h, t, placement):
    p = plan(w, h, t)
    assert (p.new_w, p.new_h, p.x0, p.y0) == placement
    canvas = to_canvas(np.full((h, w, 3), 200, np.uint8), p)
    inside = np.zeros((t, t), bool)
    inside[p.y0:p.y0 + p.new_h, p.x0:p.x0 + p.new_w] = True
    assert (canvas[inside] == 200).all() and (canvas[~inside] == 0).all()


def test_both_resizes_use_lanczos_not_pils_default_filter():
    img = _textured(300, 400)
    p = plan(400, 300, 256)
    canvas = to_canvas(img, p)
    inner = canvas[p.y0:p.y0 + p.new_h, p.x0:p.x0 + p.new_w]
    lanczos = np.asarray(Image.fromarray(img).resize((256, 192), Image.LANCZOS))
    assert np.array_equal(inner, lanczos)
    for other in (None, Image.BICUBIC, Image.BILINEAR, Image.NEAREST):  # None: what resize() does by default
        kw = {} if other is None else {"resample": other}
        assert not np.array_equal(inner, np.asarray(Image.fromarray(img).resize((256, 192), **kw))), other
    recon = _textured(256, 256, seed=1)
    back = from_canvas(recon, p)
    crop = recon[p.y0:p.y0 + p.new_h, p.x0:p.x0 + p.new_w]
    assert np.array_equal(back, np.asarray(Image.fromarray(crop).resize((400, 300), Image.LANCZOS)))
    assert not np.array_equal(back, np.asarray(Image.fromarray(crop).resize((400, 300))))


def test_native_feeds_the_image_unchanged():
    img = _textured(37, 53)
    p = plan(53, 37, None)
    assert p == Placement(53, 37, None, 53, 37, 0, 0) and p.canvas_shape == (37, 53, 3)
    assert to_canvas(img, p) is img and from_canvas(img, p) is img


def test_resolution_parsing_and_labels():
    assert parse_resolution("256") == 256 and parse_resolution(512) == 512
    assert parse_resolution("native") is None and parse_resolution(" Native ") is None
    assert resolution_label(None) == "native" and resolution_label(1024) == "1024"
    with pytest.raises(ValueError):
        parse_resolution("big")


def test_value_conversion_rounds_and_clips():
    u8 = np.array([0, 1, 128, 254, 255], np.uint8)
    unit = to_unit(u8)
    assert unit.dtype == np.float32 and unit[0] == 0.0 and unit[-1] == 1.0 and unit[2] == np.float32(128 / 255)
    assert to_u8(unit).tolist() == u8.tolist()  # exact round trip
    assert to_u8(np.array([-0.3, 0.2, 0.50196, 0.9999, 1.7])).tolist() == [0, 51, 128, 255, 255]
    assert to_u8(np.array([0.0019607])).tolist() == [0] and to_u8(np.array([0.00197])).tolist() == [1]  # rint at 0.5
    assert to_u8(np.zeros(3)).dtype == np.uint8
