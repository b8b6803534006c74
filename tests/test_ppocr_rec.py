"""tfbench's copy of rapidocr's recognition stage reads every crop exactly as rapidocr's own TextRecognizer.

The `rapidocr` OCR backend runs :class:`tfbench.metrics.ppocr_rec.PpOcrRecognizer` (rapidocr is not
imported: 1.4 s of CPU per run). These tests build rapidocr's own recognizer, as the backend did before,
and compare readings and model inputs on real crops: every word of `mini` on the original and after a
JPEG q30 round trip at 256 and 512, and the real photographs of `../shared` when present."""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tfbench.crops import crop_word
from tfbench.images import load_rgb
from tfbench.metrics.ppocr_rec import INPUT_SHAPE, PpOcrRecognizer, rapidocr_model_path
from tfbench.resize import from_canvas, plan, to_canvas


@pytest.fixture(scope="module")
def rapidocr_rec():
    from rapidocr import RapidOCR

    engine = RapidOCR(params={"Global.log_level": "error", "EngineConfig.onnxruntime.intra_op_num_threads": 1,
                              "EngineConfig.onnxruntime.inter_op_num_threads": 1, "Rec.rec_batch_num": 1})
    return engine._load_rec_model()


@pytest.fixture(scope="module")
def ours():
    return PpOcrRecognizer(threads=1)


def _jpeg(image: np.ndarray, target: int) -> np.ndarray:
    placement = plan(image.shape[1], image.shape[0], target)
    buf = io.BytesIO()
    Image.fromarray(to_canvas(image, placement)).save(buf, "JPEG", quality=30)
    return from_canvas(np.asarray(Image.open(buf).convert("RGB")), placement)


def _mini_crops() -> list[np.ndarray]:
    from tfbench.suites import load_suite

    suite = load_suite("mini")
    crops = []
    for record in suite.images:
        image = load_rgb(suite.path_of(record))
        for version in (image, _jpeg(image, 256), _jpeg(image, 512)):
            crops += [np.ascontiguousarray(crop_word(version, w.box, w.polygon)[..., ::-1]) for w in record.words]
    return crops


def test_same_model_and_characters_as_rapidocr(rapidocr_rec, ours):
    assert Path(rapidocr_rec.session.session._model_path) == rapidocr_model_path() == ours.model
    assert list(rapidocr_rec.rec_image_shape) == list(INPUT_SHAPE)
    assert rapidocr_rec.postprocess_op.character == ours.characters and len(ours.characters) == 18710
    theirs = rapidocr_rec.session.session.get_session_options()
    mine = ours.session.get_session_options()
    for attr in ("graph_optimization_level", "enable_cpu_mem_arena", "intra_op_num_threads", "inter_op_num_threads",
                 "log_severity_level", "execution_mode"):
        assert getattr(theirs, attr) == getattr(mine, attr), attr


def test_every_mini_word_reads_the_same(rapidocr_rec, ours):
    from rapidocr.ch_ppocr_rec import TextRecInput

    crops = _mini_crops()
    assert len(crops) == 3 * 148
    theirs = [str(t) for t in rapidocr_rec(TextRecInput(img=crops)).txts]
    assert ours(crops) == theirs
    assert sum(t != "" for t in theirs) > 300  # real readings, not a blank model
    for crop in crops[::37]:  # the model input itself, bit for bit
        ratio = max(INPUT_SHAPE[2] / INPUT_SHAPE[1], crop.shape[1] / crop.shape[0])
        assert np.array_equal(ours.normalized(crop, ratio), rapidocr_rec.resize_norm_img(crop, ratio))


def test_batches_read_as_rapidocr_batches(ours):
    from rapidocr import RapidOCR
    from rapidocr.ch_ppocr_rec import TextRecInput

    crops = _mini_crops()[:60]
    batched = RapidOCR(params={"Global.log_level": "error", "EngineConfig.onnxruntime.intra_op_num_threads": 1,
                               "Rec.rec_batch_num": 6})._load_rec_model()
    assert ours(crops, batch_size=6) == [str(t) for t in batched(TextRecInput(img=crops)).txts]


def test_real_photographs_read_the_same(rapidocr_rec, ours, shared):
    """Every word box of ../shared/data/text (ICDAR/SROIE/Total-Text photographs), original and JPEG q30 @256."""
    from rapidocr.ch_ppocr_rec import TextRecInput

    folder = shared / "data" / "text"
    crops = []
    for entry in json.loads((folder / "manifest.json").read_text()):
        image = load_rgb(folder / entry["file"])
        for version in (image, _jpeg(image, 256)):
            for word in entry["words"]:
                flat = word.get("polygon")
                polygon = list(zip(flat[0::2], flat[1::2])) if flat else None
                crops.append(np.ascontiguousarray(crop_word(version, word["bbox"], polygon)[..., ::-1]))
    crops = [c for c in crops if min(c.shape[:2]) > 0]
    assert len(crops) > 200
    theirs = [str(t) for t in rapidocr_rec(TextRecInput(img=crops)).txts]
    assert ours(crops) == theirs
