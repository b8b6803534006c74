"""Video suites on the command line: what `tfbench run` does differently for a video suite (:func:`video_setup`,
:func:`temporal_lines`), and the deprecated `tfbench video import-clip|import-tokbench` spellings of
`tfbench data import clip|tokbench-video`."""
from __future__ import annotations

import argparse
import sys
from typing import Any

DEFAULT_VIDEO_ADAPTERS = ["identity", "h264:crf=23", "h264:crf=35", "h264:crf=45"]


def video_setup(args: argparse.Namespace, adapters: list) -> tuple[list, list[str]]:
    """The video side of `tfbench run`: its default adapters and resolutions (256 or 480), and what it refuses."""
    from tfbench.errors import TfbenchError
    from tfbench.registry import create_adapter
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
    if not getattr(args, "adapter", None):  # the image defaults were created already; video gets its own
        for a in adapters:
            a.close()
        adapters[:] = [create_adapter(s) for s in DEFAULT_VIDEO_ADAPTERS]
    return adapters, resolutions


def _fmt(v: Any) -> str:
    return "-" if v is None else f"{v:.3f}"


def temporal_lines(results: list[dict[str, Any]]) -> str:
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
