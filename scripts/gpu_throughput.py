#!/usr/bin/env python3
"""Throughput and GPU memory of the default adapters plus TAEF2 (fp16) on `mini` at 1024, OCR and faces included,
and the time the full TokBench data would take: the README's GPU figures (not yet measured: no GPU so far).

    python scripts/gpu_throughput.py --weights ../shared/weights --out /tmp/gpu-run --json gpu.json
    python scripts/gpu_throughput.py --device cpu --resolution 256      # the same script on a CPU, to check it

One process, the run engine of `tfbench run` (image-major: each image decoded once, fed to every adapter).
TAEF2 runs on ``--device`` in ``--dtype``; the codecs on the CPU, OCR (onnxruntime) and SFace (OpenCV) on
the CPU as always. Prints per adapter the images/s of the adapter alone (its model seconds) and of the
whole pass, the pass's wall and overhead, the peak GPU memory (torch.cuda.max_memory_allocated) and RSS,
and a linear projection to TokBench (TOKBENCH_IMAGES images, counted instances scaled from mini's).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

DEFAULT = ["identity", "jpeg:quality=90", "jpeg:quality=30", "jpeg:quality=5", "webp:quality=30", "avif:quality=30"]
TOKBENCH_IMAGES = 12_000  # about 12k images (README "Performance"; NOTES.md)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cuda", help="device for TAEF2 (default cuda)")
    p.add_argument("--dtype", default="fp16", help="TAEF2 compute dtype (default fp16)")
    p.add_argument("--weights", default=str(Path(__file__).resolve().parents[1].parent / "shared" / "weights"),
                   help="folder with taef2_encoder.pth and taef2_decoder.pth (default ../shared/weights)")
    p.add_argument("--resolution", default="1024")
    p.add_argument("--suite", default="mini")
    p.add_argument("--threads", type=int, default=None, help="OCR / face threads (default min(2, cores))")
    p.add_argument("--out", default=None, help="an empty run folder (default: a new temporary folder)")
    p.add_argument("--json", default=None, help="write the figures here too")
    args = p.parse_args(argv)

    import torch

    from tfbench.budget import peak_rss_mb
    from tfbench.engine import RunOptions, run_suite
    from tfbench.engine.overlap import one_malloc_arena
    from tfbench.pipeline import Scorers
    from tfbench.registry import create_adapter
    from tfbench.suites import load_suite

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("gpu_throughput: no CUDA GPU visible; pass --device cpu to check the script on a CPU", file=sys.stderr)
        return 2
    one_malloc_arena()  # as `tfbench run` does
    specs = DEFAULT + [f"taef2:weights={args.weights},device={args.device},dtype={args.dtype}"]
    adapters = [create_adapter(s) for s in specs]
    suite = load_suite(args.suite)
    scorers = Scorers.create(threads=args.threads)
    if args.device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="tfbench-gpu-"))
    results = run_suite(suite, adapters, [args.resolution], scorers, out,
                        RunOptions(device=args.device, execution={"dtype": args.dtype, "script": "gpu_throughput"}))
    wall = time.perf_counter() - start
    gpu_mb = torch.cuda.max_memory_allocated() / 2**20 if args.device.startswith("cuda") else None
    images = len(suite.images)
    rows = []
    for r in results:
        b = r["budget"]
        evaluated = b.get("images_evaluated") or images
        rows.append({"adapter": r["adapter"]["spec"], "images": evaluated,
                     "reconstruct_s": b["stages"].get("reconstruct", 0.0), "model_s": b["model_s"],
                     "adapter_images_per_s": evaluated / b["stages"]["reconstruct"] if b["stages"].get("reconstruct") else None,
                     "t_acc": r["metrics"]["text"]["t_acc"]["mean"], "f_sim": r["metrics"]["face"]["f_sim"]["mean"],
                     "words": r["counts"]["words"], "faces": r["counts"]["faces"]})
    per_image = wall / images  # every adapter, OCR and faces included, per suite image
    figures = {"device": args.device, "dtype": args.dtype, "gpu": torch.cuda.get_device_name() if gpu_mb is not None else None,
               "cpu_cores": os.cpu_count(), "platform": platform.platform(), "suite": suite.name,
               "resolution": args.resolution, "images": images, "adapters": len(specs), "wall_s": round(wall, 2),
               "pass_overhead": results[0]["budget"].get("overhead"), "images_per_s_all_adapters": round(images / wall, 3),
               "peak_gpu_mb": round(gpu_mb, 1) if gpu_mb is not None else None, "peak_rss_mb": round(peak_rss_mb(), 1),
               "tokbench_projection_s": round(per_image * TOKBENCH_IMAGES, 1),
               "tokbench_projection_note": f"{TOKBENCH_IMAGES} images x this run's wall per mini image (all "
                                           f"{len(specs)} adapters); linear in images, mini's instance density",
               "adapters_detail": rows, "load_average": os.getloadavg()}
    for row in rows:
        rate = row["adapter_images_per_s"]
        print(f"{row['adapter'][:48]:48s} adapter {rate if rate is None else round(rate, 2)} img/s  model {row['model_s']:.1f} s  "
              f"T-ACC {row['t_acc']:.3f}  F-Sim {row['f_sim']:.3f}")
    print(f"pass: {images} images x {len(specs)} adapters in {wall:.1f} s ({images / wall:.2f} images/s with every "
          f"adapter, overhead {figures['pass_overhead']}); peak GPU memory {figures['peak_gpu_mb']} MiB, peak RSS "
          f"{figures['peak_rss_mb']} MiB; TokBench ({TOKBENCH_IMAGES} images) projected {figures['tokbench_projection_s'] / 3600:.2f} h")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
