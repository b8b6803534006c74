"""`tfbench schemas`: publish the JSON Schemas of tfbench's files, check them, validate a file."""
from __future__ import annotations

import argparse
from pathlib import Path

from tfbench.errors import TfbenchError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("schemas", help="JSON Schemas of every file tfbench reads or writes: export, check, validate")
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True)
    e = verbs.add_parser("export", help="write schemas/*.json from the models")
    e.add_argument("--out", type=Path, default=Path("schemas"), help="folder (default: ./schemas)")
    e.set_defaults(func=export)
    c = verbs.add_parser("check", help="exit 1 when the files in --dir differ from what the models generate")
    c.add_argument("--dir", type=Path, default=Path("schemas"))
    c.set_defaults(func=check)
    v = verbs.add_parser("validate", help="validate files of one kind; one line per invalid file (exit 1)")
    v.add_argument("kind", help="suite, video-suite, record, results, golden, submission, facecheck, "
                                "folder-annotations or clip-annotations")
    v.add_argument("files", nargs="+", type=Path, help="JSON files (record: a records.jsonl)")
    v.set_defaults(func=validate)
    lst = verbs.add_parser("list", help="the file kinds, their `schema` tags and published file names")
    lst.set_defaults(func=listing)


def export(args: argparse.Namespace) -> int:
    from tfbench.schemas.export import export as write

    for path in write(args.out):
        print(path)
    return 0


def check(args: argparse.Namespace) -> int:
    from tfbench.schemas.export import stale

    if not args.dir.is_dir():
        raise TfbenchError(f"{args.dir} is not a folder of schemas; write it with `tfbench schemas export --out {args.dir}`")
    bad = stale(args.dir)
    for name in bad:
        print(f"{args.dir / name}: differs from the models (run `tfbench schemas export --out {args.dir}`)")
    return 1 if bad else 0


def listing(args: argparse.Namespace) -> int:
    from tfbench.schemas import KINDS
    from tfbench.tables import markdown_table

    print(markdown_table(["kind", "schema tag", "file", "what"],
                         [[k.name, k.tag or "(none)", k.filename, k.title] for k in KINDS]))
    return 0


def validate(args: argparse.Namespace) -> int:
    from tfbench.jsonfile import parse_json, read_json
    from tfbench.schemas import KINDS, validate as check_one

    kinds = {k.name: k for k in KINDS}
    if args.kind not in kinds:
        raise TfbenchError(f"unknown kind {args.kind!r}; one of {', '.join(kinds)}")
    model = kinds[args.kind].model
    failed = 0
    for path in args.files:
        try:
            if args.kind == "record":
                for n, line in enumerate(path.read_bytes().splitlines(), 1):
                    if line.strip():
                        check_one(model, parse_json(line, f"{path}:{n}", strict=True), f"{path}:{n}")
            else:
                check_one(model, read_json(path, strict=True), str(path))
        except (TfbenchError, OSError) as exc:
            print(exc)
            failed += 1
    if not failed:
        print(f"{len(args.files)} file(s) valid as {args.kind}")
    return 1 if failed else 0


__all__ = ["register"]
