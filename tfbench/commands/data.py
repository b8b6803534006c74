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
    register_video_importers(kinds)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])
    imp.set_defaults(func=lambda args: (imp.print_help(), 2)[1])


def register_video_importers(kinds: argparse._SubParsersAction, names: tuple[str, str] = ("clip", "tokbench-video"),
                             **parser_kwargs) -> None:
    """`data import clip` and `data import tokbench-video` (also the deprecated `video import-*` spellings)."""
    c = kinds.add_parser(names[0], help="a video clip (+ optional per-frame annotations) -> a video suite manifest",
                         description="Without --annotations, faces are detected with YuNet on every --every-th frame "
                                     "and linked into tracks. Annotation JSON: {\"annotations\": [{\"frame\": N (0-based), "
                                     "\"words\": [{\"text\", \"box\"}], \"faces\": [{\"box\", \"landmarks\"?}]}]}; faces "
                                     "without landmarks get them from the detector (IoU match) here, once.", **parser_kwargs)
    c.add_argument("clip", metavar="CLIP")
    c.add_argument("--out", required=True, help="folder for manifest.json and a copy of the clip")
    c.add_argument("--annotations", default=None, help="per-frame annotations JSON (default: detect faces)")
    c.add_argument("--every", type=int, default=5, help="without --annotations: detect faces every N frames (default 5)")
    c.add_argument("--min-face", type=float, default=16.0, help="smallest detected face side kept, pixels (default 16)")
    c.add_argument("--min-iou", type=float, default=0.3, help="IoU a detection needs to give a face its landmarks")
    c.add_argument("--name", default=None, help="suite name (default: the clip's file name)")
    c.set_defaults(func=import_clip)
    t = kinds.add_parser(names[1], help="TokBench video_annotations/ + videos -> tokbench-video manifest", **parser_kwargs)
    t.add_argument("dir", metavar="DIR")
    t.add_argument("--videos", default=None, help="folder holding the clips (default: DIR/videos)")
    t.add_argument("--out", default=None, help="manifest path (default: DIR/tokbench-video.json)")
    t.set_defaults(func=import_tokbench_video)


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


def import_clip(args: argparse.Namespace) -> int:
    from tfbench.datasets.clip import import_clip as run_import

    manifest, report = run_import(Path(args.clip), Path(args.out),
                                  annotations=Path(args.annotations) if args.annotations else None,
                                  every=args.every, min_face=args.min_face, min_iou=args.min_iou, name=args.name)
    print(report.summary())
    print(f"wrote {manifest}; next: tfbench run --suite {manifest} -a h264:crf=30")
    return 0


def import_tokbench_video(args: argparse.Namespace) -> int:
    from tfbench.datasets.tokbench_video import import_tokbench_video as run_import

    manifest, report = run_import(Path(args.dir), videos=Path(args.videos) if args.videos else None,
                                  out=Path(args.out) if args.out else None)
    print(report.summary())
    print(f"wrote {manifest}; next: tfbench run --suite {manifest} -r 256 -r 480")
    return 0
