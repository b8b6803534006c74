"""Wall time, per-stage time and peak memory of a run, summed over the invocations of a resumed run."""
from __future__ import annotations

import json
import math
import resource
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB."""
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024.0 if sys.platform != "darwin" else kb / (1024.0 * 1024.0)


class StageTimer:
    """Accumulates seconds per named stage (safe to use from several threads at once: their times add up)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.start = time.perf_counter()
        self._lock = threading.Lock()

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            dt = time.perf_counter() - t0
            with self._lock:
                self.seconds[name] = self.seconds.get(name, 0.0) + dt

    def wall(self) -> float:
        return time.perf_counter() - self.start

    def as_dict(self) -> dict[str, float]:
        return {k: round(v, 4) for k, v in sorted(self.seconds.items())}


def _seconds(value: Any) -> float:
    """A recorded figure, or 0 when an older results.json holds something else there (budgets are informative)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return 0.0
    return float(value)


def session_budget(timer: StageTimer, model_stages: tuple[str, ...], **extra: Any) -> dict[str, Any]:
    """The budget of one invocation: wall time, peak memory, seconds per stage, model seconds, overhead."""
    wall = timer.wall()
    model = sum(timer.seconds.get(k, 0.0) for k in model_stages)
    return {"wall_s": round(wall, 3), "peak_rss_mb": round(peak_rss_mb(), 1), **extra, "stages": timer.as_dict(),
            "model_s": round(model, 3), "overhead": round(wall / model, 3) if model > 0 else None}


def recorded_budget(results_path: Path) -> dict[str, Any] | None:
    """The budget an earlier invocation wrote into a run folder's results.json (None: none or unreadable)."""
    try:
        data = json.loads(Path(results_path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    budget = data.get("budget") if isinstance(data, dict) else None
    return budget if isinstance(budget, dict) and budget else None


def resumed_budget(results_path: Path, current: dict[str, Any], unit: str = "images") -> dict[str, Any]:
    """This invocation's budget (:func:`session_budget` with ``{unit}_evaluated``/``{unit}_resumed``) added
    to the one recorded in ``results_path`` by earlier invocations of the same run.

    Times add up (wall, stages, model seconds) and the overhead is recomputed from the totals; peak
    memory is the larger; the counters describe this invocation; ``sessions`` counts invocations and
    ``last_session`` keeps this one's own figures. A finished run rerun adds its few milliseconds, it
    does not replace the measured budget. Resumed items whose time no recorded budget holds (an earlier
    invocation was killed before writing results.json) are counted in ``{unit}_without_budget``.
    """
    previous = recorded_budget(results_path)
    counters = (f"{unit}_evaluated", f"{unit}_resumed")
    missing = f"{unit}_without_budget"
    if previous is None:
        return {**current, "sessions": 1, missing: int(current.get(counters[1]) or 0)}
    stages = {k: _seconds(v) for k, v in (previous.get("stages") or {}).items()} \
        if isinstance(previous.get("stages"), dict) else {}
    for k, v in current["stages"].items():
        stages[k] = round(stages.get(k, 0.0) + v, 4)
    wall = round(_seconds(previous.get("wall_s")) + current["wall_s"], 3)
    model = round(_seconds(previous.get("model_s")) + _seconds(current.get("model_s")), 3)
    carried = previous.get(missing)
    return {**current, "wall_s": wall, "peak_rss_mb": max(_seconds(previous.get("peak_rss_mb")), current["peak_rss_mb"]),
            "stages": dict(sorted(stages.items())), "model_s": model,
            "overhead": round(wall / model, 3) if model > 0 else None,
            "sessions": int(_seconds(previous.get("sessions")) or 1) + 1,
            missing: carried if isinstance(carried, int) and not isinstance(carried, bool) and carried >= 0 else 0,
            "last_session": {k: current[k] for k in ("wall_s", "peak_rss_mb", *counters) if k in current}}
