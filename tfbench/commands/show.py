"""`tfbench show DIR...`: results of one or several runs side by side."""
from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("show", help="print a table of results.json files found under the given folders/files")
    p.add_argument("paths", nargs="+", metavar="DIR")
    p.add_argument("--markdown", action="store_true", help="Markdown table")
    p.set_defaults(func=show)


def show(args: argparse.Namespace) -> int:
    from tfbench.errors import ResultsError
    from tfbench.report import markdown_table, text_table
    from tfbench.results import find_results, load_results

    files = find_results(args.paths)
    if not files:
        raise ResultsError(f"no results.json under {' '.join(args.paths)}")
    results = [load_results(f) for f in files]
    print(markdown_table(results) if args.markdown else text_table(results))
    return 0
