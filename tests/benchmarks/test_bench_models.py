"""Throughput of the models alone: OCR word crops/s, face embeddings/s, adapter images/s."""
import numpy as np
import pytest

from tfbench.metrics.face import SFaceEmbedder
from tfbench.metrics.text import RapidOcrBackend
from tfbench.registry import create_adapter
from tfbench.resize import plan, to_canvas, to_unit

from .conftest import CpuMeter, record_rate


@pytest.mark.parametrize("threads,batch", [(1, 1), (2, 1), (2, 8), (2, 32)])
def test_ocr_word_crops_per_second(benchmark, crops, threads, batch):
    images, texts = crops
    ocr = CpuMeter(RapidOcrBackend(threads=threads, batch_size=batch).recognize)
    preds = benchmark.pedantic(ocr, args=(images,), rounds=5, warmup_rounds=1, iterations=1)
    # mini keeps only words the OCR reads exactly on the original: every reading must be right
    assert preds == texts
    record_rate(benchmark, len(images), "crops_per_s", ocr)


def test_face_embeddings_per_second(benchmark, faces):
    images, landmarks = faces
    model = CpuMeter(SFaceEmbedder(threads=2).embed)
    emb = benchmark.pedantic(model, args=(images, landmarks), rounds=5, warmup_rounds=1, iterations=1)
    assert emb.shape == (len(images), 128) and np.allclose(np.linalg.norm(emb, axis=1), 1, atol=1e-5)
    record_rate(benchmark, len(images), "faces_per_s", model)


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

    meter = CpuMeter(roundtrip)
    out = benchmark.pedantic(meter, rounds=3, warmup_rounds=1, iterations=1)
    assert out.shape == batch.shape
    record_rate(benchmark, len(batch), "images_per_s", meter)
