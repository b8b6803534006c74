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
    from tfbench.video.stage import evaluate_video
    from tfbench.video.resize import parse_video_resolution

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
    results = []
    try:
        for adapter in adapters or []:
            for res in resolutions:
                results.append(evaluate_video(suite, adapter, res, scorers, Path(args.out), on_error=args.on_error,
                                              progress=not args.no_progress, score_all=args.score_all,
                                              max_frames=getattr(args, "max_frames", None), device=args.device))
                if not args.json:
                    print(f"  {adapter.spec} @ {res}: {results[-1]['_path']}", file=sys.stderr)
    finally:
        for adapter in adapters or []:
            adapter.close()
    if args.json:
        print(json.dumps([{k: v for k, v in r.items() if k != "_path"} for r in results], indent=2))
    else:
        print(text_table(results))
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


DEPRECATED = {"import-clip": "data import clip", "import-tokbench": "data import tokbench-video"}


def register(sub: argparse._SubParsersAction) -> None:
    """`tfbench video import-clip|import-tokbench`: hidden, deprecated spellings of `tfbench data import clip|tokbench-video`."""
    from tfbench.commands.data import register_video_importers

    p = sub.add_parser("video")  # no help: not listed; the importers live under `tfbench data import`
    verbs = p.add_subparsers(dest="video_command", metavar="ACTION")
    register_video_importers(verbs, names=tuple(DEPRECATED))  # type: ignore[arg-type]
    for name, parser in verbs.choices.items():
        parser.set_defaults(func=_deprecated(name, parser.get_default("func")))
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _deprecated(name: str, func):
    def run(args: argparse.Namespace) -> int:
        print(f"tfbench: `tfbench video {name}` is deprecated and will be removed; use `tfbench {DEPRECATED[name]}` "
              f"(same arguments)", file=sys.stderr)
        return func(args)

    return run
