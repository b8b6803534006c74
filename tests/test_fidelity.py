"""Crop PSNR/SSIM: tfbench's own code gives scikit-image's numbers bit for bit (tfbench/metrics/fidelity.py)."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from skimage.color import rgb2gray
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from tfbench.crops import crop_box, crop_word
from tfbench.metrics.fidelity import PSNR_CAP, CropFidelity, luma, psnr, ssim
from tfbench.pipeline import faces_to_score, words_to_score
from tfbench.resize import from_canvas, plan, to_canvas


def skimage_scores(original: np.ndarray, recon: np.ndarray) -> dict:
    """What CropFidelity computed with scikit-image up to 0.1.x of tfbench."""
    value = PSNR_CAP if np.array_equal(original, recon) else min(
        PSNR_CAP, float(peak_signal_noise_ratio(original, recon, data_range=255)))
    side = min(original.shape[:2])
    win = min(7, side if side % 2 else side - 1)
    score = None
    if win >= 3:
        score = float(structural_similarity(rgb2gray(original), rgb2gray(recon), win_size=win, data_range=1.0))
    return {"psnr": value, "ssim": score}


def test_random_crops_bit_identical_to_skimage():
    rng = np.random.default_rng(1)
    big = rng.integers(0, 256, (300, 400, 3), dtype=np.uint8)
    fid = CropFidelity()
    for t in range(300):  # strided views of every size from 1 px, noisy and identical pairs
        h, w = rng.integers(1, 100, 2)
        y, x = rng.integers(0, 200, 2)
        original = big[y:y + h, x:x + w]
        recon = original.copy() if t % 7 == 0 else np.clip(
            original.astype(int) + rng.integers(-20, 21, original.shape), 0, 255).astype(np.uint8)
        assert fid.score(original, recon) == skimage_scores(original, recon), (h, w)


def test_parts_bit_identical_to_skimage():
    rng = np.random.default_rng(2)
    a = rng.integers(0, 256, (37, 81, 3), dtype=np.uint8)
    b = rng.integers(0, 256, (37, 81, 3), dtype=np.uint8)
    assert psnr(a, b) == peak_signal_noise_ratio(a, b, data_range=255)
    assert np.array_equal(luma(a), rgb2gray(a))
    for win in (3, 5, 7):
        assert ssim(luma(a), luma(b), win) == structural_similarity(rgb2gray(a), rgb2gray(b), win_size=win,
                                                                    data_range=1.0)
    with pytest.raises(ValueError, match="odd window"):
        ssim(luma(a[:2]), luma(b[:2]), 3)
    with pytest.raises(ValueError, match="differ in shape"):
        CropFidelity().score(a, b[:, :80])


def test_mini_crops_bit_identical_to_skimage():
    """Every word and face crop the default run scores at 256, after JPEG q30, as the run crops them."""
    from tfbench.suites import load_suite
    from tfbench.images import load_rgb

    suite = load_suite("mini")
    fid, n = CropFidelity(), 0
    text_edges, face_edges = suite.edges("text", "256"), suite.edges("face", "256")
    for record in suite.images:
        image = load_rgb(suite.path_of(record))
        placement = plan(record.width, record.height, 256)
        buf = io.BytesIO()
        Image.fromarray(to_canvas(image, placement)).save(buf, "JPEG", quality=30)
        recon = from_canvas(np.asarray(Image.open(buf).convert("RGB")), placement)
        pairs = [(crop_word(image, w.box, w.polygon), crop_word(recon, w.box, w.polygon))
                 for w in (record.words[i] for i in words_to_score(record, text_edges))]
        pairs += [(crop_box(image, record.faces[i].box), crop_box(recon, record.faces[i].box))
                  for i in faces_to_score(record, face_edges)]
        for original, rec in pairs:
            assert fid.score(original, rec) == skimage_scores(original, rec)
            n += 1
    assert n == 120  # 90 words and 30 faces
