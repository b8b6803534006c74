"""The run engine: plan -> item source -> reconstruct -> score -> record -> finish, image-major.

For each resolution, every adapter's run is planned (folder, run.json, what a rerun still has to do),
then one pass over the suite decodes and places each item once and feeds it to every adapter that
still needs it; each adapter's records go to its own journal; at the end each run is finished into
its results.json. Images and video clips are the two item sources; `--engine ray` changes only where
the reconstruct and score stages run (:mod:`tfbench.engine.ray`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from tfbench.budget import StageTimer
from tfbench.pipeline import MODEL_STAGES, ON_ERROR, RunPlan, Scorers, batch_size_for, finish_run, plan_run
from tfbench.protocol import Adapter
from tfbench.sharding import Shard

from tfbench.engine.images import ImageRun, image_source
from tfbench.engine.overlap import JournalWriter, OrderedPool, background, timed
from tfbench.engine.progress import Progress

RECONSTRUCT_AHEAD = 3  # reconstructed images waiting to be scored (bounds memory: each is at its original size)
# images in the scoring pool per worker (running or done, waiting for every earlier one to be recorded): with
# one per worker, a free worker waited for a slow image ahead of it to finish before it got the next one
SCORING_AHEAD = 3


@dataclass
class RunOptions:
    """How a run goes: the settings every adapter and resolution of it share."""

    on_error: str = "stop"
    batch_size: int | None = None
    progress: bool = False
    score_all: bool = False
    select: Callable[[Any], bool] | None = None
    device: str = "cpu"
    keep_crops: bool = False
    keep_unreadable: bool = False  # also score words the suite's curation marked unreadable
    shard: Shard | None = None
    max_frames: int | None = None  # video: frames per adapter call (default: the adapter's own)
    execution: dict[str, Any] = field(default_factory=dict)  # recorded in every budget (threads, dtype, ...)


def run_suite(suite: Any, adapters: Sequence[Adapter], resolutions: Sequence[str], scorers: Scorers,
              out_root: Path, options: RunOptions | None = None) -> list[dict[str, Any]]:
    """Evaluate every adapter at every resolution; results in (adapter, resolution) order.

    Records are appended as computed and a rerun of the same call resumes. Each results dict is also
    written to ``<out_root>/<suite>/<adapter>@<resolution>/results.json`` (its path in ``_path``).
    """
    options = options or RunOptions()
    if suite.modality == "video":
        from tfbench.engine.videos import run_video_pass as run_pass
    else:
        run_pass = run_image_pass
    by_key: dict[tuple[int, str], dict[str, Any]] = {}
    for res in resolutions:
        for i, result in enumerate(run_pass(suite, adapters, res, scorers, Path(out_root), options)):
            by_key[(i, res)] = result
    return [by_key[(i, res)] for i in range(len(adapters)) for res in resolutions]


def plan_all(suite: Any, adapters: Sequence[Adapter], resolution: str, backends: tuple[str, str], out_root: Path,
             options: RunOptions, extra_config: Callable[[Adapter], dict[str, Any]] | None = None) -> list[RunPlan]:
    """Plan every adapter's run at one resolution (claims the folders; fails before any work).

    ``backends``: the (text, face) backend names the records will be scored with."""
    return [plan_run(suite, a, resolution, backends, out_root, on_error=options.on_error, score_all=options.score_all,
                     select=options.select, shard=options.shard, keep_unreadable=options.keep_unreadable,
                     extra_config=extra_config(a) if extra_config else None) for a in adapters]


def run_image_pass(suite: Any, adapters: Sequence[Adapter], resolution: str, scorers: Scorers, out_root: Path,
                   options: RunOptions) -> list[dict[str, Any]]:
    """One image-major pass: each needed image decoded and placed once, fed to every adapter that needs it."""
    if options.on_error not in ON_ERROR:
        from tfbench.errors import TfbenchError

        raise TfbenchError(f"--on-error must be one of {ON_ERROR}, got {options.on_error!r}")
    plans = plan_all(suite, adapters, resolution, scorers.names(), out_root, options)
    runs = [ImageRun(p, a, scorers, batch_size_for(a, options.batch_size, p.target), on_error=options.on_error,
                     score_all=options.score_all, keep_crops=options.keep_crops,
                     keep_unreadable=options.keep_unreadable) for p, a in zip(plans, adapters)]
    wanted = set().union(*(r.todo for r in runs))
    records = [r for r in suite.images if r.id in wanted]
    shared = StageTimer()

    def reconstructed():
        source = image_source(suite, records, plans[0].target if plans else None)
        for item in timed(source, shared, "load"):  # "load": waiting for the loader thread
            for run in runs:
                if item.record.id in run.todo:
                    for batch in run.take(item):
                        yield from run.reconstruct(batch)
        for run in runs:
            rest = run.rest()
            if rest:
                yield from run.reconstruct(rest)

    total = sum(len(r.todo) for r in runs)
    label = f"{suite.name} @{resolution}: {len(runs)} adapter(s) x {len(records)} image(s)"
    with Progress(total, label, "adapter-images", options.progress) as bar, JournalWriter() as writer, \
            OrderedPool(workers := getattr(scorers, "workers", 1), SCORING_AHEAD * workers) as pool:
        for run in runs:
            writer.open(run.plan.journal)
        jobs = background(reconstructed, RECONSTRUCT_AHEAD, "tfbench-reconstruct")

        def commit(done: list) -> None:  # in order, in this thread: journals, failures, progress
            for job, record in done:
                bar.update(job.run.commit(job, record, writer), job.run.adapter.spec)

        try:
            for job in timed(jobs, shared, "wait"):  # "wait": waiting for the reconstruct thread
                with shared.stage("scoring"):  # waiting for a free scoring worker (with one worker: scoring here)
                    done = pool.submit(job.run.compute, job)
                commit(done)
            with shared.stage("scoring"):
                rest = list(pool.drain())
            commit(rest)
        finally:
            jobs.close()  # stops the reconstruct (and loader) thread at once when the run stops early
    for run in runs:
        run.timer.seconds["write"] = writer.seconds.get(run.plan.journal, 0.0)
    return finish_all(suite, resolution, runs, lambda run: scorers.backends(), options, shared)


def finish_all(suite: Any, resolution: str, runs: Sequence[Any], backends: Callable[[Any], dict[str, Any]],
               options: RunOptions, shared: StageTimer, engine: dict[str, Any] | None = None,
               decorate: Callable[[Any], Callable | None] | None = None) -> list[dict[str, Any]]:
    """Finish every run of a pass (each with ``plan``, ``adapter``, ``timer``) into its results.json.

    ``backends(run)`` describes the metric backends its records were scored with; budgets record the
    ``engine``, the execution settings and, when several adapters shared the pass, the pass's figures."""
    pass_wall = shared.wall()
    pass_model = sum(r.timer.seconds.get(k, 0.0) for r in runs for k in MODEL_STAGES)
    shared_budget = {"adapters": len(runs), "wall_s": round(pass_wall, 3), "model_s": round(pass_model, 3),
                     "overhead": round(pass_wall / pass_model, 3) if pass_model > 0 else None,
                     "stages": shared.as_dict()}
    out = []
    for run in runs:
        extra = {"engine": engine or {"name": "local", "order": "image-major"},
                 "execution": {**options.execution, **getattr(run.adapter, "execution", {})}}
        if len(runs) > 1:  # wall_s is the pass's; so is the overhead (wall / every adapter's model time)
            extra["pass"] = shared_budget
            extra["overhead"] = shared_budget["overhead"]
        out.append(finish_run(run.plan, suite, resolution, run.adapter.describe(), backends(run), run.timer,
                              options.device, extra, decorate(run) if decorate else None))
    return out
