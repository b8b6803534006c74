"""`tfbench merge DIR...`: combine shard runs (`tfbench run --shard K/N`) into one results.json."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("merge", help="combine the shard runs found under the given folders into single-run results",
                       description="Find every shard-K-of-N run folder under DIR..., check that all N shards of the "
                                   "same settings finished, and write the merged records.jsonl, run.json and "
                                   "results.json where a single-process run would have written them.")
    p.add_argument("paths", nargs="+", metavar="DIR", help="output folders of the shards (or any folder above them)")
    p.add_argument("--out", "-o", default=None,
                   help="root to write merged runs under (default: the folder that holds the shard folders)")
    p.add_argument("--json", action="store_true", help="print the merged results as JSON instead of a table")
    p.set_defaults(func=merge)


def merge(args: argparse.Namespace) -> int:
    from tfbench.merge import merge_paths
    from tfbench.report import text_table

    results = merge_paths([Path(p) for p in args.paths], Path(args.out) if args.out else None)
    if args.json:
        print(json.dumps([{k: v for k, v in r.items() if k != "_path"} for r in results], indent=2))
        return 0
    for r in results:
        print(f"  merged {r['budget']['shards']} shards of {r['adapter'].get('spec')} @ "
              f"{r['suite'].get('resolution')}: {r['_path']}", file=sys.stderr)
    print(text_table(results))
    return 0
