"""`tfbench check` (regression check against a baseline or golden file) and `tfbench golden`."""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any, Sequence


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "check", help="fail (exit 1) when metrics dropped against a baseline beyond a tolerance",
        description="Compare new results with a baseline, per metric and scale bucket, and exit 1 when any "
                    "dropped by more than --max-drop (0 otherwise; 2 on bad input). Either give --results and "
                    "--baseline (results.json files or run folders), or --adapter and --golden to run the "
                    "golden file's suite and resolutions first.")
    p.add_argument("--results", nargs="+", metavar="PATH", help="new results: results.json files or run folders")
    p.add_argument("--baseline", nargs="+", metavar="PATH", help="baseline results (files, folders or a golden file)")
    p.add_argument("--adapter", "-a", metavar="SPEC", help="run this adapter on the golden file's suite first")
    p.add_argument("--golden", metavar="FILE", help="golden file made by `tfbench golden` (with --adapter)")
    p.add_argument("--max-drop", default="0.01",
                   help="largest allowed drop: absolute (0.01) or relative to the baseline (2%%) (default: 0.01)")
    p.add_argument("--metrics", default=None,
                   help="comma list of registered metrics (`tfbench metrics` lists them: t_acc, t_ned, f_sim, f_kept, "
                        "text_psnr, text_ssim, face_psnr, face_ssim, temporal ones...; default: those the registry "
                        "marks for checking, t_acc,t_ned,f_sim)")
    p.add_argument("--buckets", default="all",
                   help="all (small, medium, large, mean), mean, instance_mean, or a comma list (default: all); "
                        "a baseline mean left undefined by an empty bucket is checked on its instance_mean")
    p.add_argument("--junit", metavar="FILE", help="also write the checks as JUnit XML")
    p.add_argument("--out", metavar="DIR", help="with --adapter: keep the new run's records here (an empty folder)")
    p.add_argument("--threads", type=int, default=None, help="CPU threads for the OCR and face models")
    p.add_argument("--data-root", default=None, help="with --adapter: data root of a manifest suite")
    p.set_defaults(func=check)

    g = sub.add_parser("golden", help="run an adapter on `mini` and write its golden file for `tfbench check`",
                       description="Run an adapter on a small suite (mini) at the chosen resolutions and write the "
                                   "results as one golden file to commit beside the model.")
    g.add_argument("--adapter", "-a", metavar="SPEC", required=True)
    g.add_argument("--out", "-o", metavar="FILE", required=True, help="golden file to write (e.g. golden.json)")
    g.add_argument("--resolution", "-r", action="append", metavar="R", help="256, 512, 1024, native (default: 256)")
    g.add_argument("--suite", default="mini", help="suite name (default: mini)")
    g.add_argument("--data-root", default=None)
    g.add_argument("--ocr", default="rapidocr")
    g.add_argument("--face", default="sface")
    g.add_argument("--threads", type=int, default=None)
    g.set_defaults(func=golden)


def check(args: argparse.Namespace) -> int:
    from tfbench.check import Tolerance, compare, junit_xml, load_side, markdown_report, parse_buckets, parse_metrics
    from tfbench.errors import TfbenchError

    tolerance = Tolerance.parse(args.max_drop)
    metrics, buckets = parse_metrics(args.metrics), parse_buckets(args.buckets)
    if args.golden or args.adapter:
        if not (args.golden and args.adapter) or args.results or args.baseline:
            raise TfbenchError("give either --adapter SPEC with --golden FILE, or --results NEW with --baseline BASE")
        new, base = _run_against_golden(args)
    else:
        if not (args.results and args.baseline):
            raise TfbenchError("check needs --results NEW and --baseline BASE (or --adapter SPEC with --golden FILE)")
        new, base = load_side(args.results, "--results"), load_side(args.baseline, "--baseline")
    comparisons = compare(new, base, tolerance, metrics, buckets)
    print(markdown_report(comparisons, tolerance))
    if args.junit:
        Path(args.junit).write_text(junit_xml(comparisons, tolerance), encoding="utf-8")
    return 0 if all(c.ok for c in comparisons) else 1


def run_adapter(spec: str, resolutions: Sequence[str], out: Path, *, suite: str = "mini",
                data_root: str | None = None, ocr: str = "rapidocr", face: str = "sface",
                threads: int | None = None, progress: bool = False) -> list[dict[str, Any]]:
    """Evaluate one adapter on a suite at each resolution (metric models loaded once): the runs behind
    `tfbench golden` and `tfbench check --golden` (here, not in tfbench.golden, which never imports the pipeline)."""
    from tfbench.pipeline import Scorers, evaluate
    from tfbench.registry import create_adapter
    from tfbench.suites import load_suite

    adapter = create_adapter(spec)
    try:
        loaded = load_suite(suite, data_root)
        scorers = Scorers.create(ocr, face, threads)
        results = [evaluate(loaded, adapter, res, scorers, out, progress=progress) for res in resolutions]
    finally:
        adapter.close()
    return [{k: v for k, v in r.items() if k != "_path"} for r in results]


def _run_against_golden(args: argparse.Namespace) -> tuple[list[dict], list[dict]]:
    from tfbench.golden import fresh_out, golden_settings, read_golden

    golden = read_golden(Path(args.golden))
    s = golden_settings(golden)
    print(f"tfbench check: running {args.adapter} on {s['suite']} @ {', '.join(s['resolutions'])}", file=sys.stderr)
    if args.out:
        new = run_adapter(args.adapter, s["resolutions"], fresh_out(Path(args.out)), suite=s["suite"],
                          data_root=args.data_root, ocr=s["ocr"], face=s["face"], threads=args.threads)
    else:
        with tempfile.TemporaryDirectory(prefix="tfbench-check-") as tmp:
            new = run_adapter(args.adapter, s["resolutions"], Path(tmp), suite=s["suite"], data_root=args.data_root,
                              ocr=s["ocr"], face=s["face"], threads=args.threads)
    return new, golden["results"]


def golden(args: argparse.Namespace) -> int:
    from tfbench.commands.run import parse_resolutions
    from tfbench.golden import make_golden, write_golden

    resolutions = parse_resolutions(args.resolution)
    with tempfile.TemporaryDirectory(prefix="tfbench-golden-") as tmp:
        results = run_adapter(args.adapter, resolutions, Path(tmp), suite=args.suite, data_root=args.data_root,
                              ocr=args.ocr, face=args.face, threads=args.threads)
    write_golden(Path(args.out), make_golden(args.adapter, args.suite, results))
    print(f"tfbench golden: wrote {args.out} ({args.adapter} on {args.suite} @ {', '.join(resolutions)})", file=sys.stderr)
    return 0
