"""`tfbench` command line: subcommands live in tfbench/commands/, one module each."""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from tfbench._version import __version__
from tfbench.errors import TfbenchError

# Each module defines `register(subparsers)`, which adds its parser and sets `func`.
COMMAND_MODULES: list[str] = [
    "tfbench.commands.run",
    "tfbench.commands.listing",
    "tfbench.commands.show",
    "tfbench.commands.data",
    "tfbench.commands.import_results",
    "tfbench.commands.score",
    "tfbench.commands.video",
    "tfbench.commands.merge",
    "tfbench.commands.leaderboard",
    "tfbench.commands.face_check",
    "tfbench.commands.check",
    "tfbench.commands.schemas",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tfbench",
        description="How much readable text and recognisable faces survive a visual tokenizer (TokBench protocol).",
    )
    parser.add_argument("--version", action="version", version=f"tfbench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not argv:
        argv = ["run"]  # the default job: mini at 256 on the reference adapters
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except TfbenchError as exc:
        print(f"tfbench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tfbench: interrupted; every finished record is kept; rerun the same command to resume.", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
