"""`tfbench import-tokbench-results DIR --method NAME --resolution R --out results.json`."""
from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import-tokbench-results",
                       help="convert the official TokBench scripts' per-instance JSONs into a tfbench results.json",
                       description="Reads {set}.json and face.json written by TokBench's eval_text.py/eval_face.py "
                                   "and aggregates them exactly as its compute_all_metrics.py (half-open buckets, "
                                   "instances outside the edges dropped, mean of bucket means; an empty bucket makes "
                                   "the mean undefined), plus a per-set breakdown.")
    p.add_argument("dir", metavar="DIR", help="the official scripts' --save_dir")
    p.add_argument("--method", required=True, help="method (tokenizer) name as written by the official scripts")
    p.add_argument("--resolution", "-r", required=True, choices=["256", "512", "1024"])
    p.add_argument("--sets", default=None, help="comma-separated subset of the 8 text sets and face (default: all)")
    p.add_argument("--out", "-o", required=True, help="results.json to write")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tfbench.records import write_json_atomic
    from tfbench.report import text_table
    from tfbench.tokbench_results import import_official

    sets = tuple(s.strip() for s in args.sets.split(",") if s.strip()) if args.sets else None
    results = import_official(Path(args.dir), args.method, args.resolution, sets)
    write_json_atomic(Path(args.out), results)
    print(text_table([results]))
    t, f = results["metrics"]["text"], results["metrics"]["face"]
    print(f"not counted (outside the buckets): {t['uncounted']} text, {f['uncounted']} face instances")
    print(f"wrote {args.out}")
    return 0
