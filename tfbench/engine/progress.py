"""Feedback on long work: a progress bar on a terminal, a progress line every ~10 s elsewhere (CI logs,
nohup, a redirected stderr), nothing with ``--no-progress``."""
from __future__ import annotations

import os
import sys
import threading
import time
from typing import TextIO

INTERVAL_ENV = "TFBENCH_PROGRESS_INTERVAL"  # seconds between progress lines when stderr is not a terminal
DEFAULT_INTERVAL_S = 10.0


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else \
        f"{seconds // 60}:{seconds % 60:02d}"


class Progress:
    """Counts finished (adapter, item) pairs of one pass over a suite at one resolution."""

    def __init__(self, total: int, what: str, unit: str, enabled: bool = True, stream: TextIO | None = None) -> None:
        self.total, self.what, self.unit = total, what, unit
        self.done = 0
        self.current = ""
        self.stream = stream or sys.stderr
        self._start = time.perf_counter()
        self._bar = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        if not enabled or total <= 0:
            return
        if self.stream.isatty() and not os.environ.get("CI"):
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=what, unit=unit, leave=False, file=self.stream)
        else:
            interval = float(os.environ.get(INTERVAL_ENV) or DEFAULT_INTERVAL_S)
            self._thread = threading.Thread(target=self._tick, args=(interval,), name="tfbench-progress", daemon=True)
            self._thread.start()

    def update(self, n: int, current: str = "") -> None:
        with self._lock:
            self.done += n
            self.current = current or self.current
        if self._bar is not None:
            self._bar.update(n)

    def line(self) -> str:
        with self._lock:
            done, current = self.done, self.current
        elapsed = time.perf_counter() - self._start
        rate = done / elapsed if elapsed > 0 else 0.0
        eta = _duration((self.total - done) / rate) if rate > 0 else "?"
        now = f"; now {current}" if current else ""
        return (f"tfbench: {self.what}: {done}/{self.total} {self.unit} done{now}; {rate:.2f}/s, "
                f"elapsed {_duration(elapsed)}, ETA {eta}")

    def _tick(self, interval: float) -> None:
        while not self._stop.wait(interval):
            print(self.line(), file=self.stream, flush=True)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._bar is not None:
            self._bar.close()

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
