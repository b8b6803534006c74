"""`tfbench run`: evaluate adapters on a suite at one or more resolutions."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tfbench.sharding import Shard

DEFAULT_ADAPTERS = ["identity", "jpeg:quality=90", "jpeg:quality=30", "jpeg:quality=5", "webp:quality=30", "avif:quality=30"]
DEFAULT_OUT = "tfbench-results"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="evaluate adapters on a suite (no arguments: mini at 256 on reference adapters)",
                       description="Reconstruct every image of a suite through each adapter under the TokBench "
                                   "resize protocol and score text (T-ACC, T-NED) and faces (F-Sim) per scale bucket.")
    p.add_argument("--suite", default="mini", help="suite name or manifest.json path (default: mini)")
    p.add_argument("--data-root", default=os.environ.get("TFBENCH_DATA_ROOT"),
                   help="folder the suite's image paths are relative to (env TFBENCH_DATA_ROOT)")
    p.add_argument("--adapter", "-a", action="append", metavar="SPEC",
                   help=f"adapter spec, repeatable (default: {' '.join(DEFAULT_ADAPTERS)})")
    p.add_argument("--resolution", "-r", action="append", metavar="R",
                   help="256, 512, 1024 or native; repeatable or comma-separated (default: 256)")
    p.add_argument("--out", "-o", default=DEFAULT_OUT, help=f"output folder (default: ./{DEFAULT_OUT})")
    p.add_argument("--batch-size", type=int, default=None, help="images per adapter call (default: adapter's own)")
    p.add_argument("--on-error", choices=["stop", "skip"], default="stop",
                   help="stop at the first failing image (default) or record the failure and go on")
    p.add_argument("--ocr", default="rapidocr", help="OCR backend (default: rapidocr)")
    p.add_argument("--face", default="sface", help="face-recognition backend (default: sface)")
    p.add_argument("--threads", type=int, default=None, help="CPU threads for OCR and face models (default: 2)")
    p.add_argument("--score-all", action="store_true",
                   help="also score instances below the smallest bucket (for rescoring with other edges)")
    p.add_argument("--keep-unreadable", action="store_true",
                   help="also score words the suite's curation marked unreadable on the original (default: counted, "
                        "not scored)")
    p.add_argument("--keep-crops", action="store_true",
                   help="save original and reconstructed PNG crops of every scored instance (for the leaderboard viewer)")
    p.add_argument("--device", default="cpu", help="device for neural adapters that take one (recorded in budget)")
    p.add_argument("--dtype", default=None, choices=["fp32", "fp16", "bf16"],
                   help="compute dtype for neural adapters that take one (default: each adapter's own, fp32)")
    p.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--shard", metavar="K/N", default=None,
                   help="evaluate only shard K of N (0-based; default: from RANK/WORLD_SIZE or SLURM_PROCID/"
                        "SLURM_NTASKS when set; 0/1 = everything); combine shards with `tfbench merge`")
    p.add_argument("--engine", choices=["local", "ray"], default="local",
                   help="local: this process (default); ray: Ray Data actor pools (pip install 'tfbench[ray]')")
    p.add_argument("--ray-address", default=None, help="Ray cluster to join (default: start Ray on this machine)")
    p.add_argument("--workers", type=int, default=2, help="with --engine ray: actors per scoring pool (default: 2)")
    p.set_defaults(func=run)


def parse_resolutions(values: list[str] | None) -> list[str]:
    from tfbench.errors import TfbenchError
    from tfbench.resize import parse_resolution, resolution_label

    out = []
    for v in values or ["256"]:
        for part in v.split(","):
            try:
                out.append(resolution_label(parse_resolution(part.strip())))
            except ValueError:
                raise TfbenchError(f"--resolution {part!r}: expected 256, 512, 1024 or native") from None
    return out


def run(args: argparse.Namespace) -> int:
    from tfbench.engine import RunOptions, run_suite
    from tfbench.engine.overlap import one_malloc_arena
    from tfbench.pipeline import Scorers
    from tfbench.registry import create_adapter
    from tfbench.sharding import resolve_shard
    from tfbench.suites import load_suite

    one_malloc_arena()  # before any thread starts: this process's threads share one arena (peak RSS)
    shard = resolve_shard(args.shard)
    resolutions = parse_resolutions(args.resolution)  # fail on bad input before any work
    if args.adapter:  # neural adapters take the run's --device/--dtype unless their spec sets them
        from tfbench.adapter_options import inject_runtime

        args.adapter = [inject_runtime(s, args.device, args.dtype) for s in args.adapter]
    if args.engine == "ray":
        return _run_ray(args, shard)
    adapters = [create_adapter(s) for s in args.adapter or DEFAULT_ADAPTERS]
    scorers = Scorers.start(args.ocr, args.face, args.threads)  # the metric models load while the run starts
    try:
        suite = load_suite(args.suite, args.data_root)
        video = getattr(suite, "modality", "image") == "video"
        if video:
            from tfbench.commands.video import video_setup

            adapters, resolutions = video_setup(args, adapters)
        suite = curate_for_run(suite, scorers.curation_scorer())
        options = RunOptions(on_error=args.on_error, batch_size=args.batch_size, progress=not args.no_progress,
                             score_all=args.score_all, device=args.device, keep_crops=args.keep_crops, shard=shard,
                             keep_unreadable=args.keep_unreadable,
                             max_frames=getattr(args, "max_frames", None),
                             execution={**execution_settings(args), "scoring_workers": scorers.workers})
        results = run_suite(suite, adapters, resolutions, scorers, Path(args.out), options)
    finally:
        for adapter in adapters:
            adapter.close()
    print_results(args, results, video)
    return 0


def execution_settings(args: argparse.Namespace) -> dict:
    """How this run executed (recorded in every budget; not part of any result's identity)."""
    import os

    return {"device": args.device, "dtype": args.dtype, "threads": args.threads or min(2, os.cpu_count() or 1),
            "batch_size": args.batch_size, "engine": args.engine}


def print_results(args: argparse.Namespace, results: list[dict], video: bool = False) -> None:
    """The table (or JSON), then where the results are and what to run next."""
    from tfbench.report import text_table

    if args.json:
        print(json.dumps([{k: v for k, v in r.items() if k != "_path"} for r in results], indent=2))
        return
    for r in results:
        print(f"  {r['adapter']['spec']} @ {r['suite']['resolution']}: {r['_path']}", file=sys.stderr)
    print(text_table(results))
    print_excluded(results)
    if video:
        from tfbench.commands.video import temporal_lines

        print(temporal_lines(results))
    print(next_steps(args.out))


def next_steps(out: str) -> str:
    """One line: where the results are and what to run next."""
    return (f"\nResults are in {out}/ (results.json, records.jsonl per adapter and resolution). Next: "
            f"`tfbench show {out}` to compare runs, `tfbench leaderboard import {out}` to add them to a leaderboard.")


def curate_for_run(suite, text_scorer):
    """The suite curated for the run's OCR backend (re-curated, cached, when another backend curated it)."""
    from tfbench.datasets.curation import curate_for_backend

    suite, note = curate_for_backend(suite, text_scorer)
    if note:
        print(f"tfbench: {note}", file=sys.stderr)
    return suite


def print_excluded(results: list[dict]) -> None:
    """One line on the instances curation kept out of the scores (none: nothing printed)."""
    from tfbench.datasets.curation import excluded_summary

    line = excluded_summary(results)
    if line:
        print(line)


def _run_ray(args: argparse.Namespace, shard: "Shard | None") -> int:
    from tfbench.engine.ray import RayOptions, run_ray

    if args.keep_crops:
        from tfbench.errors import TfbenchError

        raise TfbenchError("--keep-crops is not supported with --engine ray yet; run it with --engine local")
    options = RayOptions(address=args.ray_address, workers=args.workers, ocr=args.ocr, face=args.face,
                         threads=args.threads, device=args.device)
    results = run_ray(args.suite, args.data_root, args.adapter or DEFAULT_ADAPTERS, parse_resolutions(args.resolution),
                      Path(args.out), options, on_error=args.on_error, batch_size=args.batch_size,
                      score_all=args.score_all, shard=shard, keep_unreadable=args.keep_unreadable)
    print_results(args, results)
    return 0
