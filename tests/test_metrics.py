import json

import numpy as np
import pytest
from PIL import Image

from tfbench.crops import crop_box
from tfbench.metrics import METRICS, create_metric
from tfbench.metrics.text import normalized_edit_similarity, word_accuracy


def test_metric_conventions_are_declared():
    assert METRICS["t_acc"].score_range == (0.0, 1.0) and METRICS["t_acc"].higher_better
    assert METRICS["f_sim"].score_range == (-1.0, 1.0) and not METRICS["f_sim"].lower_better
    with pytest.raises(KeyError, match="did you mean 'f_sim'"):
        create_metric("f_simm")


def test_edit_similarity_numbers():
    assert word_accuracy("Hello", "hello") == 0.0  # case-sensitive
    assert normalized_edit_similarity("Hello", "hello") == pytest.approx(0.8)
    assert normalized_edit_similarity("abc", "abcdef") == pytest.approx(0.5)
    assert normalized_edit_similarity("", "") == 1.0


def test_rapidocr_reads_real_word_crops(shared, scorers):
    """The shipped recognizer reads the 10 real word crops of ../shared at the documented level."""
    m = json.loads((shared / "data/text/manifest.json").read_text())
    crops, gts = [], []
    for item in m:
        if item.get("subset") != "crop" and not item["file"].startswith("crop_"):
            continue
        img = np.asarray(Image.open(shared / "data/text" / item["file"]).convert("RGB"))
        for w in item["words"]:
            crops.append(crop_box(img, w["bbox"]))
            gts.append(w["text"])
    assert len(crops) == 10
    scores = scorers.text.score(crops, gts)
    ned = np.mean([s["t_ned"] for s in scores])
    assert ned > 0.7, [(g, s["pred"]) for g, s in zip(gts, scores)]


def _jpeg(img, q):
    import io
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="JPEG", quality=q)
    return np.asarray(Image.open(buf).convert("RGB"))


def test_face_similarity_falls_with_jpeg_quality_and_separates_people(scorers):
    """Calibration against the measured SFace facts: JPEG q90 ~0.999 ... q5 ~0.58; others <= 0.3."""
    from tfbench.metrics.face import YuNetDetector
    from tfbench.mini import package_file

    img = np.asarray(Image.open(package_file("insightface", "data/images/t1.jpg")).convert("RGB"))
    faces = YuNetDetector().detect(img)
    assert len(faces) == 6
    lms = [f["landmarks"] for f in faces]
    orig = scorers.face.embed(img, lms)
    sims = {q: np.mean(scorers.face.score(orig, _jpeg(img, q), lms)) for q in (90, 30, 5)}
    assert sims[90] > 0.97 and sims[90] > sims[30] > sims[5]
    cross = orig @ orig.T
    assert cross[~np.eye(6, dtype=bool)].max() < 0.36  # below SFace's same-person threshold


def test_crop_fidelity_identical_and_degraded():
    fid = create_metric("psnr")
    a = np.random.default_rng(0).integers(0, 255, (20, 30, 3), dtype=np.uint8)
    assert fid.score(a, a) == {"psnr": 100.0, "ssim": 1.0}
    b = np.clip(a.astype(int) + 10, 0, 255).astype(np.uint8)
    s = fid.score(a, b)
    assert 25 < s["psnr"] < 30 and s["ssim"] < 1.0
    assert fid.score(a[:2], b[:2])["ssim"] is None  # too small for a window
