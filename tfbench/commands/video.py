"""Video suites on the command line: `tfbench run` hands video suites to :func:`run_video`;
`tfbench video import-clip|import-tokbench` turn a clip or the TokBench video sets into suite manifests."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

DEFAULT_VIDEO_ADAPTERS = ["identity", "h264:crf=23", "h264:crf=35", "h264:crf=45"]


def run_video(args: argparse.Namespace, suite: Any, adapters: list | None = None) -> int:
    """The video branch of `tfbench run` (same options; resolutions 256 or 480, default 256)."""
    from tfbench.errors import TfbenchError
    from tfbench.pipeline import Scorers
    from tfbench.registry import create_adapter
    from tfbench.report import text_table
    from tfbench.video_pipeline import evaluate_video
    from tfbench.video_resize import parse_video_resolution

    resolutions = []
    for v in getattr(args, "resolution", None) or ["256"]:
        for part in str(v).split(","):
            resolutions.append(str(parse_video_resolution(part)))
    if getattr(args, "engine", "local") != "local":
        raise TfbenchError(f"video suites run with --engine local only (got --engine {args.engine})")
    if getattr(args, "shard", None) not in (None, "0/1"):
        raise TfbenchError("--shard is not supported for video suites yet; run without it (clips stream one by one)")
    if getattr(args, "keep_crops", False):
        raise TfbenchError("--keep-crops is not supported for video suites yet")
    if not getattr(args, "adapter", None):  # the image defaults would be created already; video gets its own
        for a in adapters or []:
            a.close()
        adapters = [create_adapter(s) for s in DEFAULT_VIDEO_ADAPTERS]
    scorers = Scorers.create(args.ocr, args.face, args.threads)
    from tfbench.commands.run import curate_for_run, print_excluded

    suite = curate_for_run(suite, scorers.text)
    results = []
    try:
        for adapter in adapters or []:
            for res in resolutions:
                results.append(evaluate_video(suite, adapter, res, scorers, Path(args.out), on_error=args.on_error,
                                              progress=not args.no_progress, score_all=args.score_all,
                                              max_frames=getattr(args, "max_frames", None), device=args.device,
                                              keep_unreadable=getattr(args, "keep_unreadable", False)))
                if not args.json:
                    print(f"  {adapter.spec} @ {res}: {results[-1]['_path']}", file=sys.stderr)
    finally:
        for adapter in adapters or []:
            adapter.close()
    if args.json:
        print(json.dumps([{k: v for k, v in r.items() if k != "_path"} for r in results], indent=2))
    else:
        print(text_table(results))
        print_excluded(results)
        print(_temporal_lines(results))
    return 0


def _fmt(v: Any) -> str:
    return "-" if v is None else f"{v:.3f}"


def _temporal_lines(results: list[dict[str, Any]]) -> str:
    lines = ["", "temporal stability (per-face F-Sim std over frames; T-ACC flip rate per word; flicker = mean "
                 "|frame difference| of the reconstruction / of the original, 8-bit levels):"]
    for r in results:
        t = r.get("video", {}).get("temporal", {})
        fl = t.get("flicker", {})
        lines.append(f"  {r['adapter']['spec']} @ {r['suite']['resolution']}: f_sim_std {_fmt(t.get('face', {}).get('f_sim_std'))}"
                     f"  t_acc_flip_rate {_fmt(t.get('text', {}).get('t_acc_flip_rate'))}"
                     f"  flicker {_fmt(fl.get('rec_mean_abs_diff'))}/{_fmt(fl.get('orig_mean_abs_diff'))}"
                     f"  excess {_fmt(fl.get('excess_mean_abs_diff'))}")
    return "\n".join(lines)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("video", help="import a video clip or the TokBench video sets as a video suite")
    verbs = p.add_subparsers(dest="video_command", metavar="ACTION")
    register_import_kinds(verbs, prefix="import-")
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def register_import_kinds(kinds: argparse._SubParsersAction, prefix: str = "") -> None:
    """The video importers, as `tfbench video import-clip|import-tokbench` and `tfbench data import clip|tokbench-video`."""
    c = kinds.add_parser(f"{prefix}clip", help="a video clip (+ optional per-frame annotations) -> a video suite manifest",
                         description="Without --annotations, faces are detected with YuNet on every --every-th frame "
                                     "and linked into tracks. Annotation JSON: {\"annotations\": [{\"frame\": N (0-based), "
                                     "\"words\": [{\"text\", \"box\"}], \"faces\": [{\"box\", \"landmarks\"?}]}]}; faces "
                                     "without landmarks get them from the detector (IoU match) here, once.")
    c.add_argument("clip", metavar="CLIP")
    c.add_argument("--out", required=True, help="folder for manifest.json and a copy of the clip")
    c.add_argument("--annotations", default=None, help="per-frame annotations JSON (default: detect faces)")
    c.add_argument("--every", type=int, default=5, help="without --annotations: detect faces every N frames (default 5)")
    c.add_argument("--min-face", type=float, default=16.0, help="smallest detected face side kept, pixels (default 16)")
    c.add_argument("--min-iou", type=float, default=0.3, help="IoU a detection needs to give a face its landmarks")
    c.add_argument("--name", default=None, help="suite name (default: the clip's file name)")
    c.set_defaults(func=_import_clip)
    t = kinds.add_parser("import-tokbench" if prefix else "tokbench-video",
                         help="TokBench video_annotations/ + videos -> tokbench-video manifest")
    t.add_argument("dir", metavar="DIR")
    t.add_argument("--videos", default=None, help="folder holding the clips (default: DIR/videos)")
    t.add_argument("--out", default=None, help="manifest path (default: DIR/tokbench-video.json)")
    t.set_defaults(func=_import_tokbench)


def _import_clip(args: argparse.Namespace) -> int:
    from tfbench.video_import import import_clip

    manifest, report = import_clip(Path(args.clip), Path(args.out), annotations=Path(args.annotations) if args.annotations else None,
                                   every=args.every, min_face=args.min_face, min_iou=args.min_iou, name=args.name)
    print(report.summary())
    print(f"wrote {manifest}; next: tfbench run --suite {manifest} -a h264:crf=30")
    return 0


def _import_tokbench(args: argparse.Namespace) -> int:
    from tfbench.datasets.tokbench_video import import_tokbench_video

    manifest, report = import_tokbench_video(Path(args.dir), videos=Path(args.videos) if args.videos else None,
                                             out=Path(args.out) if args.out else None)
    print(report.summary())
    print(f"wrote {manifest}; next: tfbench run --suite {manifest} -r 256 -r 480")
    return 0
