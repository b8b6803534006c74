"""Manifest validation at TokBench's size: a synthetic suite of 12,000 images with 36,087 words (3 per image,
flat polygons on every fifth) and 3,000 faces, loaded through the reader every run uses.

    python -m pytest tests/benchmarks/test_bench_manifest.py --benchmark-only
"""
from __future__ import annotations

import json

import pytest

from tests.benchmarks.conftest import CpuMeter, record_rate
from tfbench.manifest import load_suite_file

IMAGES, WORDS, FACES = 12_000, 36_087, 3_000  # TokBench: ~12k images, 36,087 text instances (NOTES.md)
LANDMARKS = [[420, 150], [460, 150], [440, 175], [425, 195], [455, 195]]


def tokbench_sized(n_images: int = IMAGES, n_words: int = WORDS, n_faces: int = FACES) -> dict:
    """A synthetic manifest of that size (made-up geometry; same JSON shapes as an imported TokBench)."""
    images = []
    for i in range(n_images):
        k = 3 + (i < n_words - 3 * n_images)
        words = [{"text": f"w{i}_{j}", "box": [10 + 40 * j, 10, 40 + 40 * j, 30], "ratio": 0.01 + 0.001 * j}
                 if (i + j) % 5 else {"text": f"p{i}_{j}", "polygon": [10, 40, 60, 42, 58, 60, 9, 58], "unreadable": j == 2,
                                      "reading": "x" if j == 2 else None}
                 for j in range(k)]
        faces = [{"box": [400, 120, 480, 220], "landmarks": LANDMARKS, "ratio": 0.12}] if i < n_faces else []
        images.append({"id": f"img{i:05d}", "file": f"images/{i:05d}.jpg", "width": 640, "height": 480,
                       "sha256": f"{i:064x}", "subset": ("ic13", "ic15", "tt", "face")[i % 4], "words": words,
                       "faces": faces})
    return {"schema": "tfbench.suite/1", "name": "tokbench-sized", "version": "1", "images": images,
            "curation": {"text": {"backend": "rapidocr", "version": "synthetic", "words": n_words, "unreadable": 0}}}


@pytest.fixture(scope="module")
def manifest(tmp_path_factory):
    path = tmp_path_factory.mktemp("tokbench-sized") / "manifest.json"
    path.write_text(json.dumps(tokbench_sized()))
    return path


def test_load_tokbench_sized_manifest(benchmark, manifest):
    meter = CpuMeter(load_suite_file)
    suite = benchmark.pedantic(meter, args=(manifest,), rounds=5, iterations=1, warmup_rounds=1)
    assert len(suite.images) == IMAGES and sum(len(r.words) for r in suite.images) == WORDS
    assert sum(len(r.faces) for r in suite.images) == FACES
    record_rate(benchmark, IMAGES, "images_per_s", meter)
    benchmark.extra_info["words"] = WORDS
