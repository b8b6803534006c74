"""Running stages beside the models: a generator in a background thread, and a journal writer thread.

Both keep order (what goes in first comes out first) and pass exceptions through in that order, so a
failure surfaces exactly where a serial loop would have met it and everything before it is finished.
Threads, not processes: on a 2-core machine the stages they overlap (decoding, canvas placement,
codec adapters, fsync) release the GIL, and processes would copy the metric models and the images.
"""
from __future__ import annotations

import queue
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, TypeVar

from tfbench.records import RecordWriter

T = TypeVar("T")
_DONE = object()
_POLL_S = 0.1  # how often a blocked thread checks whether the consumer went away


def one_malloc_arena() -> bool:
    """Let every thread allocate from one glibc malloc arena (``mallopt(M_ARENA_MAX, 1)``); True if set.

    With an arena per thread each arena keeps its own high-water mark: the default run peaked at 622 MiB
    RSS, with one arena at 530 MiB, at the same CPU time. Called by the command line for its own process
    (not by the Python API: the malloc settings of a user's process are theirs). No-op without glibc.
    """
    try:
        import ctypes

        return bool(ctypes.CDLL("libc.so.6").mallopt(-8, 1))  # M_ARENA_MAX
    except (OSError, AttributeError):
        return False


class _Raised:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def background(produce: Callable[[], Iterable[T]], ahead: int, name: str) -> Iterator[T]:
    """Iterate ``produce()`` in a daemon thread, at most ``ahead`` items in advance.

    Closing the returned iterator (or an exception in the consumer) stops the thread at its next item.
    """
    q: queue.Queue = queue.Queue(maxsize=max(1, ahead))
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in produce():
                if not put(item):
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there in order
            put(_Raised(exc))
            return
        put(_DONE)

    thread = threading.Thread(target=work, name=name, daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                return
            if isinstance(item, _Raised):
                raise item.exc
            yield item
    finally:
        stop.set()


def timed(items: Iterator[T], timer: Any, stage: str) -> Iterator[T]:
    """Iterate ``items``, adding the time spent waiting for each one to ``timer``'s ``stage``."""
    while True:
        with timer.stage(stage):
            item = next(items, _DONE)
        if item is _DONE:
            return
        yield item  # type: ignore[misc]


class OrderedPool:
    """Runs ``fn(item)`` on ``workers`` threads and hands the results back in submission order.

    One worker runs everything in the caller's thread. At most ``ahead`` items are in flight; an
    exception is raised where its item's result is handed back, after every earlier result, so the
    caller records exactly what a serial loop would have recorded before the failure."""

    def __init__(self, workers: int, ahead: int | None = None, name: str = "tfbench-score") -> None:
        self.workers = max(1, int(workers))
        self.ahead = ahead or self.workers  # each in flight holds a full-size reconstruction: keep few
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix=name) if self.workers > 1 else None
        self._pending: deque[tuple[Any, Future]] = deque()

    def submit(self, fn: Callable[[T], Any], item: T) -> list[tuple[T, Any]]:
        """Start ``fn(item)``; returns the (item, result) pairs finished in order so far (blocks when full)."""
        if self._pool is None:
            return [(item, fn(item))]
        self._pending.append((item, self._pool.submit(fn, item)))
        out = []
        while self._pending and (len(self._pending) > self.ahead or self._pending[0][1].done()):
            done, future = self._pending.popleft()
            out.append((done, future.result()))
        return out

    def drain(self) -> Iterator[tuple[Any, Any]]:
        """The remaining results, in order."""
        while self._pending:
            done, future = self._pending.popleft()
            yield done, future.result()

    def close(self) -> None:
        """Drop what is still pending (after a failure) and stop the workers."""
        for _, future in self._pending:
            future.cancel()
        self._pending.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> "OrderedPool":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class JournalWriter:
    """Appends records to their journals (one flushed, fsynced line each) in a writer thread, in order.

    ``append`` returns at once; ``close`` waits for every queued line, so nothing computed is lost when
    a run stops. A failed write is raised by the next ``append`` or by ``close``.
    """

    def __init__(self, fsync: bool = True) -> None:
        self._writers: dict[Path, RecordWriter] = {}
        self._fsync = fsync
        self._q: queue.Queue = queue.Queue()
        self._error: BaseException | None = None
        self.seconds: dict[Path, float] = {}  # time spent writing each journal (records, crops, fsync)
        self._thread = threading.Thread(target=self._work, name="tfbench-write", daemon=True)
        self._thread.start()

    def open(self, journal: Path) -> None:
        """Repair (drop a torn last line) and open a journal; done in the caller's thread, before any append."""
        if journal not in self._writers:
            self._writers[journal] = RecordWriter(journal, fsync=self._fsync)

    def append(self, journal: Path, record: dict[str, Any], before: Callable[[], None] | None = None) -> None:
        """Queue ``record`` for ``journal``; ``before`` (e.g. saving crops) runs in the writer thread first."""
        if self._error is not None:
            raise self._error
        self._q.put((journal, record, before))

    def _work(self) -> None:
        while True:
            job = self._q.get()
            if job is None:
                return
            if self._error is not None:
                continue
            journal, record, before = job
            t0 = time.perf_counter()
            try:
                if before is not None:
                    before()
                self._writers[journal].append(record)
            except BaseException as exc:  # noqa: BLE001 - reported by the next append/close
                self._error = exc
            self.seconds[journal] = self.seconds.get(journal, 0.0) + time.perf_counter() - t0

    def close(self) -> None:
        self._q.put(None)
        self._thread.join()
        for w in self._writers.values():
            w.close()
        self._writers.clear()
        if self._error is not None:
            raise self._error

    def __enter__(self) -> "JournalWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
