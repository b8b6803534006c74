"""`tfbench score RECORDS -r R [--text-edges a,b,c,d] [--face-edges ...]`: rescore without re-running models."""
from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("score", help="recompute results from a run's records.jsonl (e.g. with other bucket edges)")
    p.add_argument("records", metavar="RECORDS", help="records.jsonl, or the run folder holding it")
    p.add_argument("--resolution", "-r", required=True, help="256, 512, 1024 or native (selects the default edges)")
    p.add_argument("--text-edges", default=None, metavar="E0,E1,E2,E3", help="text bucket edges")
    p.add_argument("--face-edges", default=None, metavar="E0,E1,E2,E3", help="face bucket edges")
    p.add_argument("--out", "-o", default=None, help="results.json to write (default: print only)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json

    from tfbench.records import write_json_atomic
    from tfbench.report import text_table
    from tfbench.rescore import parse_edges, rescore

    results = rescore(Path(args.records), args.resolution, parse_edges(args.text_edges, "--text-edges"),
                      parse_edges(args.face_edges, "--face-edges"))
    if args.out:
        write_json_atomic(Path(args.out), results)
    print(json.dumps(results, indent=2) if args.json else text_table([results]))
    r = results["rescore"]
    if r["unscored_words"] or r["unscored_faces"]:
        print(f"{r['unscored_words']} words and {r['unscored_faces']} faces were not scored by the run (below its "
              f"smallest bucket); rerun with --score-all to let lower edges count them")
    if args.out:
        print(f"wrote {args.out}")
    return 0
