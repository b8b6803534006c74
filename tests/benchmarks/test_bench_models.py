"""Throughput of the models alone: OCR word crops/s, face embeddings/s, adapter images/s."""
import numpy as np
import pytest

from tfbench.metrics.face import SFaceEmbedder
from tfbench.metrics.text import RapidOcrBackend
from tfbench.registry import create_adapter
from tfbench.resize import plan, to_canvas, to_unit


def _rate(benchmark, n: int, unit: str) -> float:
    rate = n / benchmark.stats.stats.mean
    benchmark.extra_info[unit] = round(rate, 2)
    benchmark.extra_info["n"] = n
    return rate


@pytest.mark.parametrize("batch", [1, 8, 32])
def test_ocr_word_crops_per_second(benchmark, crops, batch):
    images, texts = crops
    ocr = RapidOcrBackend(threads=2, batch_size=batch)
    preds = benchmark.pedantic(ocr.recognize, args=(images,), rounds=5, warmup_rounds=1, iterations=1)
    # mini keeps only words the OCR reads exactly on the original: every reading must be right
    assert preds == texts
    _rate(benchmark, len(images), "crops_per_s")


def test_face_embeddings_per_second(benchmark, faces):
    images, landmarks = faces
    model = SFaceEmbedder(threads=2)
    emb = benchmark.pedantic(model.embed, args=(images, landmarks), rounds=5, warmup_rounds=1, iterations=1)
    assert emb.shape == (len(images), 128) and np.allclose(np.linalg.norm(emb, axis=1), 1, atol=1e-5)
    _rate(benchmark, len(images), "faces_per_s")


@pytest.mark.parametrize("spec", ["identity", "jpeg:quality=30", "avif:quality=30"])
def test_adapter_images_per_second_at_1024(benchmark, mini, spec):
    from tfbench.images import load_rgb

    canvases = []
    for rec in mini.images[:8]:
        image = load_rgb(mini.path_of(rec))
        canvases.append(to_unit(to_canvas(image, plan(image.shape[1], image.shape[0], 1024))))
    batch = np.stack(canvases)
    adapter = create_adapter(spec)

    def roundtrip():
        return adapter.decode(adapter.encode(batch))

    out = benchmark.pedantic(roundtrip, rounds=3, warmup_rounds=1, iterations=1)
    assert out.shape == batch.shape
    _rate(benchmark, len(batch), "images_per_s")
