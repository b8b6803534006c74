"""Throughput of face-check's expression model (FER2013 mini-Xception int8 on LiteRT, 2 threads) on mini's faces."""
import numpy as np
import pytest

from tfbench.images import load_rgb

from .conftest import CpuMeter, record_rate


def test_expression_faces_per_second(benchmark, mini):
    pytest.importorskip("ai_edge_litert", reason="LiteRT (tfbench[facecheck]) runs the expression model")
    from tfbench.facecheck.expression import FerTFLiteBackend

    faces = [(load_rgb(mini.path_of(rec)), [f.box for f in rec.faces]) for rec in mini.images if rec.faces]
    n = sum(len(boxes) for _, boxes in faces)
    model = FerTFLiteBackend(threads=2)

    def run():
        return [model.predict(image, boxes) for image, boxes in faces]

    meter = CpuMeter(run)
    out = benchmark.pedantic(meter, rounds=5, warmup_rounds=1, iterations=1)
    assert all(np.allclose(p.sum(axis=1), 1.0, atol=1e-5) for p in out)
    record_rate(benchmark, n, "faces_per_s", meter)
