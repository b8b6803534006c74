"""Real inputs for the benchmarks (mini's word crops and faces). Benchmarks only run with --benchmark-only:

    python -m pytest tests/benchmarks --benchmark-only --benchmark-json bench.json
"""
import os
import time

import pytest

from tfbench.perf import face_inputs, word_crops


@pytest.fixture(scope="session")
def crops(mini):
    """mini's 150 word crops as the OCR sees them at native resolution, with transcriptions."""
    return word_crops(mini, ("native",))


@pytest.fixture(scope="session")
def faces(mini):
    return face_inputs(mini)


class CpuMeter:
    """Wraps a benchmarked call to also record process CPU seconds (all threads) per call: on a shared
    machine wall time depends on the load, CPU time much less."""

    def __init__(self, fn):
        self.fn, self.cpu = fn, []

    def __call__(self, *args, **kwargs):
        t0 = time.process_time()
        try:
            return self.fn(*args, **kwargs)
        finally:
            self.cpu.append(time.process_time() - t0)


def record_rate(benchmark, n: int, unit: str, meter: "CpuMeter | None" = None) -> float:
    """extra_info: items/s from the mean and from the fastest round, CPU ms per item, load average."""
    stats = benchmark.stats.stats
    info = benchmark.extra_info
    info.update({unit: round(n / stats.mean, 2), f"{unit}_best": round(n / stats.min, 2), "n": n,
                 "loadavg_1m": round(os.getloadavg()[0], 2), "cpus": os.cpu_count()})
    if meter is not None and meter.cpu:
        info["cpu_ms_per_item"] = round(1000 * min(meter.cpu) / n, 2)
    return n / stats.mean
