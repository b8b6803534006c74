"""Speed-ups must not change what is measured; budget fields; helpers of the benchmarks (no timing here)."""
import numpy as np
import pytest

from tfbench.manifest import load_suite_file
from tfbench.metrics.face import SFaceEmbedder, _face_row
from tfbench.metrics.text import RapidOcrBackend
from tfbench.perf import Costs, Workload, face_inputs, project, replicate_manifest, word_crops
from tfbench.pipeline import BATCH_BUDGET_MB, MODEL_STAGES, batch_size_for, evaluate
from tfbench.registry import create_adapter


@pytest.fixture(scope="module")
def real_crops(mini):
    crops, texts = word_crops(mini, ("native",))
    crops, texts = crops[::2] + word_crops(mini, ("256",))[0][1::2], texts[::2]  # clean and degraded crops
    # real wide inputs too (wider than the recognizer's default 320x48): two or three words side by side
    wide = []
    for k in range(0, 60, 3):
        parts = crops[k:k + 2 + k % 2]
        h = max(p.shape[0] for p in parts)
        wide.append(np.concatenate([np.pad(p, ((0, h - p.shape[0]), (0, 8), (0, 0)), constant_values=255) for p in parts], axis=1))
    return crops + wide, texts


def test_batched_ocr_reads_exactly_like_one_crop_at_a_time(real_crops):
    crops, texts = real_crops
    one = RapidOcrBackend(threads=2, batch_size=1)
    batched = RapidOcrBackend(threads=2, batch_size=16)
    assert len({batched.input_width(c) for c in crops}) > 5  # several input widths: groups are exercised
    ref = one.recognize(crops)
    assert batched.recognize(crops) == ref
    assert ref[:len(texts)] == texts  # mini keeps only words read exactly at native resolution


def test_sface_alignment_on_rgb_equals_alignment_of_a_bgr_copy(mini):
    images, landmarks = face_inputs(mini)
    model = SFaceEmbedder()
    for image, lm in zip(images, landmarks):
        bgr = model._models()[0].alignCrop(np.ascontiguousarray(image[..., ::-1]), _face_row(lm))
        assert np.array_equal(model.align(image, lm), bgr)


def test_batch_size_is_capped_by_memory_not_by_suite():
    from tfbench.protocol import AdapterInfo

    neural = create_adapter("identity")
    neural.info, neural.max_batch_size = AdapterInfo(family="big-batch", kind="continuous"), 64
    per_image_mb = 1024 * 1024 * 3 * 4 / 2**20
    assert batch_size_for(neural, None, 1024) == int(BATCH_BUDGET_MB // per_image_mb) == 5
    assert batch_size_for(neural, None, 256) == 64
    assert batch_size_for(neural, 12, 1024) == 12  # an explicit --batch-size is respected
    assert batch_size_for(neural, None, None) == 64
    # codecs and references work per image: one image per call, so scoring starts at once
    assert batch_size_for(create_adapter("identity"), None, 256) == batch_size_for(create_adapter("jpeg"), None, 512) == 1
    assert batch_size_for(create_adapter("jpeg"), 8, 512) == 8


def test_budget_records_model_time_and_overhead(mini, scorers, tmp_path):
    b = evaluate(mini, create_adapter("jpeg:quality=30"), "256", scorers, tmp_path)["budget"]
    model = sum(b["stages"].get(k, 0.0) for k in MODEL_STAGES)
    assert b["model_s"] == pytest.approx(model, abs=2e-3) and b["model_s"] > 0
    assert b["stages"]["ocr"] > 0 and b["stages"]["face"] > 0 and b["stages"]["reconstruct"] > 0
    # model time is summed over the scoring workers, so with two of them the overhead can fall below 1
    assert b["overhead"] == pytest.approx(b["wall_s"] / b["model_s"], rel=1e-3) and b["overhead"] > 0
    assert b["peak_rss_mb"] > 100


def test_replicated_manifest_lists_every_image_n_times(mini, tmp_path):
    path = replicate_manifest(mini, 3, tmp_path)
    big = load_suite_file(path, mini.root)
    assert big.name == "mini-x3" and big.version == mini.version and len(big.images) == 3 * len(mini.images)
    assert len({r.id for r in big.images}) == len(big.images)
    assert [r.words for r in big.images[len(mini.images):2 * len(mini.images)]] == [r.words for r in mini.images]


def test_projection_adds_the_parts():
    costs = Costs(per_word=0.02, per_face=0.01, per_image_adapter=0.1, per_image_overhead=0.05)
    p = project(costs, Workload(images=100, words=1000, faces=50))
    assert p == {"ocr_s": 20.0, "face_s": 1.0, "adapter_s": 10.0, "overhead_s": 5.0, "total_s": 36.0}
    assert costs.seconds(Workload(100, 1000, 50)) == 36.0
