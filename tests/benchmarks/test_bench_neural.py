"""Neural adapter throughput on the real TAEF2 weights (../shared/weights), mini's canvases.

    python -m pytest tests/benchmarks/test_bench_neural.py --benchmark-only
"""
import numpy as np
import pytest

from tfbench.registry import create_adapter
from tfbench.resize import plan, to_canvas, to_unit

torch = pytest.importorskip("torch")
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", ["fp32", "bf16"])
@pytest.mark.parametrize("size", [256, 512])
def test_taef2_images_per_second(benchmark, shared, mini, size, dtype, device):
    from tfbench.images import load_rgb

    batch = np.stack([to_unit(to_canvas(image, plan(image.shape[1], image.shape[0], size)))
                      for image in (load_rgb(mini.path_of(rec)) for rec in mini.images[:4])])
    adapter = create_adapter(f"taef2:weights={shared / 'weights'},dtype={dtype},device={device}")
    out = benchmark.pedantic(lambda: adapter.decode(adapter.encode(batch)), rounds=2, warmup_rounds=1, iterations=1)
    assert out.shape == batch.shape
    benchmark.extra_info["images_per_s"] = len(batch) / benchmark.stats.stats.mean
