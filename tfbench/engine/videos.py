"""The video side of the run engine: each clip is decoded (in a decoder thread) and each frame placed on the
protocol canvas once, and fed to every adapter that still needs the clip (:class:`~tfbench.video.stage.ClipStream`
per adapter); one record per clip and adapter."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from tfbench.budget import StageTimer
from tfbench.errors import AdapterError
from tfbench.pipeline import RunPlan, Scorers
from tfbench.protocol import Adapter
from tfbench.video.io import VideoLoadError, iter_frames
from tfbench.video.manifest import VideoClip
from tfbench.video.resize import frame_to_canvas, plan_video
from tfbench.video.stage import ClipStream, Originals, chunk_for
from tfbench.video.temporal import add_video_extras

from tfbench.engine.core import RunOptions, finish_all, plan_all
from tfbench.engine.images import error_record
from tfbench.engine.overlap import JournalWriter, background, timed
from tfbench.engine.progress import Progress

FRAMES_AHEAD = 4  # decoded frames waiting to be placed


class VideoRun:
    """One adapter at one resolution inside a video pass."""

    def __init__(self, plan: RunPlan, adapter: Adapter, chunk: int) -> None:
        self.plan, self.adapter, self.chunk = plan, adapter, chunk
        self.todo = {c.id for c in plan.todo}
        self.timer = StageTimer()

    def stopped(self, clip: VideoClip, exc: Exception) -> Exception:
        """The error ``--on-error stop`` raises: what failed, where the records are, how to go on."""
        return type(exc)(f"clip {clip.id!r}: {exc}. Records so far are kept in {self.plan.journal}; rerun to resume, "
                         f"or use --on-error skip to record failures and go on.")


def stream_clip(suite: Any, clip: VideoClip, runs: Sequence[VideoRun], scorers: Scorers, options: RunOptions,
                shared: StageTimer) -> dict[VideoRun, Any]:
    """Decode ``clip`` once and stream it through every run; each run's record, or its error (``skip``)."""
    plan = runs[0].plan
    path = suite.path_of(clip)
    placement = plan_video(clip.width, clip.height, plan.target)  # type: ignore[arg-type]
    streams = {run: ClipStream(clip, placement, run.adapter, run.chunk, scorers, plan.text_edges, plan.face_edges,
                               run.timer, options.score_all, options.keep_unreadable) for run in runs}
    failed: dict[VideoRun, Exception] = {}
    originals = Originals(len(runs))
    annotated = {a.frame for a in clip.annotations}

    def step(run: VideoRun, action) -> None:
        if run in failed:
            return
        try:
            action(streams[run])
        except AdapterError as exc:
            if options.on_error == "stop":
                raise run.stopped(clip, exc) from exc
            failed[run] = exc
            originals.drop_user(streams[run].start)

    count = 0
    frames = background(lambda: iter_frames(path), FRAMES_AHEAD, "tfbench-decode")
    try:
        for frame in timed(frames, shared, "load"):  # "load": waiting for the decoder thread
            if count == 0 and frame.shape[:2] != (clip.height, clip.width):
                raise VideoLoadError(f"{path} is {frame.shape[1]}x{frame.shape[0]} but the manifest says "
                                     f"{clip.width}x{clip.height}; fix the clip's width/height")
            if count in annotated:
                originals.keep(count, frame)
            with shared.stage("place"):
                canvas = frame_to_canvas(frame, placement)
            for run in runs:
                step(run, lambda s: s.push(canvas, originals))
            count += 1
        for run in runs:
            step(run, lambda s: s.flush(originals))
        missing = [f for f in annotated if f >= count]
        if missing:
            raise VideoLoadError(f"{path} has {count} frames but clip {clip.id!r} is annotated at frame "
                                 f"{min(missing)} (0-based); the annotation is for a frame that does not exist: fix "
                                 f"the manifest (or the importer's frame numbering) or replace the video")
    except VideoLoadError as exc:
        if options.on_error == "stop":
            raise runs[0].stopped(clip, exc) from exc
        return {run: failed.get(run, exc) for run in runs}
    finally:
        frames.close()  # stops the decoder thread
    return {run: failed.get(run) or streams[run].record() for run in runs}


def run_video_pass(suite: Any, adapters: Sequence[Adapter], resolution: str, scorers: Scorers, out_root: Path,
                   options: RunOptions) -> list[dict[str, Any]]:
    """One pass over a video suite at one resolution, every adapter fed from the same decoded frames."""
    chunks = [chunk_for(a, options.max_frames) for a in adapters]
    by_adapter = dict(zip(map(id, adapters), chunks))
    plans = plan_all(suite, adapters, resolution, scorers.names(), out_root, options,
                     extra_config=lambda a: {"chunk_frames": by_adapter[id(a)]})
    runs = [VideoRun(p, a, c) for p, a, c in zip(plans, adapters, chunks)]
    clips = [c for c in suite.clips if any(c.id in r.todo for r in runs)]
    shared = StageTimer()
    total = sum(len(r.todo) for r in runs)
    label = f"{suite.name} @{resolution}: {len(runs)} adapter(s) x {len(clips)} clip(s)"
    with Progress(total, label, "adapter-clips", options.progress) as bar, JournalWriter() as writer:
        for run in runs:
            writer.open(run.plan.journal)
        for clip in clips:
            users = [r for r in runs if clip.id in r.todo]
            for run, outcome in stream_clip(suite, clip, users, scorers, options, shared).items():
                if isinstance(outcome, Exception):
                    stage = "load" if isinstance(outcome, VideoLoadError) else "adapter"
                    outcome = error_record(clip, stage, str(outcome))
                writer.append(run.plan.journal, outcome)
            bar.update(len(users), clip.id)
    for run in runs:
        run.timer.seconds["write"] = writer.seconds.get(run.plan.journal, 0.0)
    return finish_all(suite, resolution, runs, lambda run: scorers.backends(), options, shared,
                      decorate=lambda run: lambda results, records: add_video_extras(
                          results, records, run.chunk, run.adapter.info.frame_rule))
