"""`tfbench data download|import`: fetch TokBench, turn it or a user's folder into suite manifests."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _sets(value: str | None) -> tuple[str, ...] | None:
    return tuple(s.strip() for s in value.split(",") if s.strip()) if value else None


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("data", help="download TokBench; import TokBench or your own folder of images as a suite")
    verbs = p.add_subparsers(dest="data_command", metavar="ACTION")

    d = verbs.add_parser("download", help="download a dataset (resumable)")
    d.add_argument("dataset", choices=["tokbench"])
    d.add_argument("--dir", default=None, help="destination (default: $TFBENCH_DATA_ROOT, else the tfbench cache)")
    d.add_argument("--revision", default=None, help="dataset revision (commit or tag) for a pinned download")
    d.set_defaults(func=download)

    imp = verbs.add_parser("import", help="write suite manifests from a dataset folder")
    kinds = imp.add_subparsers(dest="import_kind", metavar="KIND")
    t = kinds.add_parser("tokbench", help="TokBench layout (annotations/, images/) -> tokbench, tokbench-text, "
                                          "tokbench-face manifests in DIR")
    t.add_argument("dir", metavar="DIR")
    t.add_argument("--out", default=None, help="folder for the manifests (default: DIR; image paths stay relative to DIR)")
    t.add_argument("--sets", default=None, help="comma-separated subset of ic13,ic15,tt,textocr,cord,sroie,infograph,"
                                                "docvqa,face (default: all)")
    t.add_argument("--skip-invalid", action="store_true",
                   help="drop (and count) invalid instances instead of stopping at the first one")
    t.set_defaults(func=import_tokbench)

    f = kinds.add_parser("folder", help="a folder of images + a JSON of words/faces -> one suite manifest",
                         description="JSON: a list of {file, width?, height?, subset?, identity?, words: [{text, "
                                     "bbox [x0,y0,x1,y1] | polygon}], faces: [{bbox, landmarks?}]}. Faces without "
                                     "landmarks get them from the YuNet detector (matched by IoU) once, here.")
    f.add_argument("dir", metavar="DIR")
    f.add_argument("--annotations", default=None, help="the JSON (default: DIR/manifest.json)")
    f.add_argument("--out", default=None, help="manifest to write (default: DIR/tfbench-suite.json)")
    f.add_argument("--name", default=None, help="suite name (default: the folder's name)")
    f.add_argument("--min-iou", type=float, default=0.3, help="IoU a detection needs to give a face its landmarks")
    f.set_defaults(func=import_folder)
    from tfbench.commands.video import register_import_kinds

    register_import_kinds(kinds)  # video suites: `clip`, `tokbench-video`
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])
    imp.set_defaults(func=lambda args: (imp.print_help(), 2)[1])


def download(args: argparse.Namespace) -> int:
    from tfbench.datasets.tokbench import download_tokbench

    dest = download_tokbench(Path(args.dir) if args.dir else None, revision=args.revision)
    print(f"TokBench is in {dest}; next: tfbench data import tokbench {dest}")
    return 0


def _next_step(manifest: Path, root: Path) -> str:
    same = manifest.parent.resolve() == root.resolve()
    return f"tfbench run --suite {manifest}" + ("" if same else f" --data-root {root}")


def import_tokbench(args: argparse.Namespace) -> int:
    from tfbench.datasets.tokbench import import_tokbench as run_import

    written, report = run_import(Path(args.dir), Path(args.out) if args.out else None, _sets(args.sets),
                                 skip_invalid=args.skip_invalid)
    print(report.summary())
    for name, path in written.items():
        print(f"wrote {name}: {path}")
    root = Path(args.dir).resolve()
    if written:
        name = next(iter(written))
        hint = f"--data-root {root}" + ("" if next(iter(written.values())).parent.resolve() == root else
                                         f"  (manifests are in {args.out}: use --suite PATH)")
        print(f"next: tfbench run --suite {name} {hint}")
    else:
        print("no complete suite among the imported sets (tokbench needs all, tokbench-text the 8 text sets, "
              "tokbench-face the faces)", file=sys.stderr)
    return 0


def import_folder(args: argparse.Namespace) -> int:
    from tfbench.datasets.folder import import_folder as run_import

    path, report = run_import(Path(args.dir), Path(args.annotations) if args.annotations else None,
                              Path(args.out) if args.out else None, args.name, min_iou=args.min_iou)
    print(report.summary())
    print(f"wrote {path}\nnext: {_next_step(path, Path(args.dir))}")
    return 0
