"""End-to-end `mini` runs: wall time, model time, overhead ratio and peak memory (GNU time -v)."""
import os
import re
import shutil
import subprocess
import sys

import pytest

from tfbench.perf import replicate_manifest
from tfbench.pipeline import evaluate
from tfbench.registry import create_adapter

from .conftest import CpuMeter

TIME = shutil.which("time") or "/usr/bin/time"


@pytest.mark.parametrize("resolution", ["256", "1024"])
def test_end_to_end_mini(benchmark, mini, scorers, tmp_path, resolution):
    outs = iter(range(100))

    def run():
        return evaluate(mini, create_adapter("jpeg:quality=30"), resolution, scorers, tmp_path / str(next(outs)))

    scorers.original_faces.clear()  # the original embeddings are part of a fresh run's cost
    meter = CpuMeter(run)
    r = benchmark.pedantic(meter, rounds=1, iterations=1)
    b = r["budget"]
    benchmark.extra_info.update({k: b[k] for k in ("wall_s", "model_s", "overhead", "peak_rss_mb")})
    benchmark.extra_info["stages"] = b["stages"]
    benchmark.extra_info["words"], benchmark.extra_info["faces"] = r["counts"]["words"], r["counts"]["faces"]
    benchmark.extra_info["cpu_s"] = round(meter.cpu[0], 2)
    benchmark.extra_info["loadavg_1m"] = round(os.getloadavg()[0], 2)
    assert r["failures"]["images"] == 0 and b["model_s"] > 0


def _peak_rss_mb(manifest, root, out) -> float:
    cmd = [TIME, "-v", sys.executable, "-m", "tfbench.cli", "run", "--suite", str(manifest), "--data-root", str(root),
           "-a", "jpeg:quality=30", "-r", "1024", "--out", str(out), "--no-progress"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1)) / 1024


@pytest.mark.skipif(not shutil.which("time") and not __import__("os").path.exists("/usr/bin/time"),
                    reason="GNU time (/usr/bin/time) is not installed")
def test_peak_rss_flat_in_suite_size(benchmark, mini, tmp_path):
    """A text+face run at 1024 of mini and of mini x10 (same images listed 10 times)."""
    one = _peak_rss_mb(replicate_manifest(mini, 1, tmp_path / "m"), mini.root, tmp_path / "o1")
    ten = benchmark.pedantic(_peak_rss_mb, args=(replicate_manifest(mini, 10, tmp_path / "m"), mini.root,
                                                 tmp_path / "o10"), rounds=1, iterations=1)
    benchmark.extra_info.update({"peak_rss_mb_1x": round(one, 1), "peak_rss_mb_10x": round(ten, 1),
                                 "images_1x": len(mini.images), "images_10x": 10 * len(mini.images)})
    assert ten <= 1.10 * one, (one, ten)
    assert ten < 1536, ten


@pytest.mark.skipif(not os.path.exists("/usr/bin/time"), reason="GNU time (/usr/bin/time) is not installed")
def test_default_run_whole_process(benchmark, mini, tmp_path):
    """The default `tfbench run` (six adapters, mini @256) as one process: wall, CPU, peak RSS, overhead."""
    from tfbench.perf import engine_figures, time_process

    outs = iter(range(100))

    def run():
        out = tmp_path / str(next(outs))
        return {**time_process([sys.executable, "-m", "tfbench.cli", "run", "--out", str(out), "--no-progress"]),
                **engine_figures(out)}

    figures = benchmark.pedantic(run, rounds=1, iterations=1)
    benchmark.extra_info.update(figures)
    assert figures["model_s"] > 0
