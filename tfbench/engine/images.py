"""The image side of the run engine.

Item source: every image a pass needs is decoded and placed on its canvas once per resolution (in a
loader thread, ahead of use) and shared by every adapter. Per adapter (:class:`ImageRun`): batches of
the adapter's own size, exactly as a one-adapter run forms them; reconstruction, the way back to the
original size and the PSNR/SSIM of the scored crops in the reconstruct thread; OCR, face embeddings and
one record per image in scoring workers (several images at once when the metric backends allow it,
see :func:`tfbench.scorers.scoring_plan`), beside the next reconstruction; records are written in order.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Sequence

import numpy as np

from tfbench.budget import StageTimer
from tfbench.errors import AdapterError, ImageLoadError, TfbenchError
from tfbench.images import load_rgb
from tfbench.manifest import ImageRecord, Suite
from tfbench.pipeline import RunPlan, Scorers, crop_fidelities, save_crops, score_image
from tfbench.protocol import Adapter, check_batch, check_reconstruction
from tfbench.resize import Placement, from_canvas, plan, to_canvas, to_u8, to_unit

from tfbench.engine.overlap import JournalWriter, background

LOAD_AHEAD = 4  # decoded images waiting for the reconstruct thread


@dataclass
class Loaded:
    """One decoded image at one resolution: the original and its canvas as the float32 adapter input."""

    record: ImageRecord
    image: np.ndarray | None  # the original, uint8 RGB
    unit: np.ndarray | None  # the protocol canvas in [0, 1], float32, built once for every adapter
    placement: Placement | None
    error: str | None = None


def load_image(suite: Suite, record: ImageRecord, target: int | None) -> Loaded:
    """Decode one image, check its size against the manifest and place it on the protocol canvas."""
    try:
        image = load_rgb(suite.path_of(record))
        h, w = image.shape[:2]
        if (w, h) != (record.width, record.height):
            raise ImageLoadError(f"{suite.path_of(record)} is {w}x{h} but the manifest says "
                                 f"{record.width}x{record.height}; fix the record's width/height")
        placement = plan(w, h, target)
        return Loaded(record, image, to_unit(to_canvas(image, placement)), placement)
    except ImageLoadError as exc:
        return Loaded(record, None, None, None, str(exc))


def image_source(suite: Suite, records: Sequence[ImageRecord], target: int | None,
                 ahead: int = LOAD_AHEAD) -> Iterator[Loaded]:
    """The item source of an image pass: each record decoded and placed once, in order, in a loader thread."""
    return background(lambda: (load_image(suite, r, target) for r in records), ahead, "tfbench-load")


def breaks_batch(batch: Sequence[ImageRecord], record: ImageRecord, size: int, target: int | None) -> bool:
    """Whether ``record`` starts a new batch: the batch is full, or (native) the image size changes."""
    return bool(batch) and (len(batch) >= size or (target is None and (record.width, record.height)
                                                    != (batch[0].width, batch[0].height)))


def batches_of(records: Sequence[ImageRecord], size: int, target: int | None) -> Iterator[list[ImageRecord]]:
    """Fixed-size batches in order; at native resolution only images of the same size share a batch."""
    batch: list[ImageRecord] = []
    for rec in records:
        if breaks_batch(batch, rec, size, target):
            yield batch
            batch = []
        batch.append(rec)
    if batch:
        yield batch


def error_record(record: Any, stage: str, error: str) -> dict[str, Any]:
    """The journal line of an image (or clip) that failed at ``stage``; a rerun retries it."""
    words = record.n_words if hasattr(record, "n_words") else len(record.words)
    faces = record.n_faces if hasattr(record, "n_faces") else len(record.faces)
    return {"image": record.id, "subset": record.subset, "status": "error", "stage": stage, "error": error,
            "n_words": words, "n_faces": faces}


def adapt(batch: np.ndarray, adapter: Adapter, timer: StageTimer) -> tuple[np.ndarray, list[dict | None]]:
    """One float32 batch through the adapter: (checked reconstruction in [0, 1], compression dict per image).

    An adapter may fail in any way (an exception, OOM, NaN/Inf, wrong shape or range, a malformed
    compression list): every failure is raised as one AdapterError naming the adapter.
    """
    try:
        check_batch(batch)
        with timer.stage("reconstruct"):
            latent = adapter.encode(batch)
            compression = [c.to_dict() if c is not None else None for c in adapter.compression(latent, batch.shape)]
            recon = check_reconstruction(adapter.spec, batch, adapter.decode(latent), adapter.info.value_range)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # an adapter may fail in any way (OOM included): report it per image
        msg = str(exc) if isinstance(exc, TfbenchError) else f"{adapter.spec}: {type(exc).__name__}: {exc}"
        raise AdapterError(msg) from exc
    return recon, [compression[k] if k < len(compression) else None for k in range(len(batch))]


def reconstruct(batch: np.ndarray, placements: Sequence[Placement], adapter: Adapter,
                timer: StageTimer) -> tuple[list[np.ndarray], list[dict | None]]:
    """:func:`adapt`, then each reconstruction back at its original size (uint8 RGB)."""
    recon, compression = adapt(batch, adapter, timer)
    return [from_canvas(to_u8(recon[k]), p) for k, p in enumerate(placements)], compression


@dataclass
class Job:
    """What the main thread records: a batch's failures (``head``), or one reconstructed image to score."""

    run: "ImageRun"
    items: list[Loaded]  # head: the whole batch; otherwise the one image
    head: bool = False
    error: AdapterError | None = None  # head: the adapter failed on the batch
    recon: np.ndarray | None = None  # the image's reconstruction at its original size
    compression: dict | None = None
    fidelities: tuple[dict, dict] | None = None  # PSNR/SSIM of its scored word and face crops


class ImageRun:
    """One adapter at one resolution inside an image pass."""

    def __init__(self, plan: RunPlan, adapter: Adapter, scorers: Scorers, size: int, *, on_error: str,
                 score_all: bool, keep_crops: bool, keep_unreadable: bool = False) -> None:
        self.plan, self.adapter, self.scorers, self.size = plan, adapter, scorers, size
        self.on_error, self.score_all, self.keep_crops = on_error, score_all, keep_crops
        self.keep_unreadable = keep_unreadable
        self.todo = {r.id for r in plan.todo}
        self.timer = StageTimer()
        self.pending: list[Loaded] = []

    # ---- reconstruct thread
    def take(self, item: Loaded) -> list[list[Loaded]]:
        """Add a decoded image; returns the batches it completes (those a one-adapter run would form)."""
        done = []
        first = self.pending[0].record if self.pending else None
        if first is not None and self.plan.target is None and (first.width, first.height) != (
                item.record.width, item.record.height):
            done.append(self.pending)  # native: only images of one size share a batch
            self.pending = []
        self.pending.append(item)
        if len(self.pending) >= self.size:
            done.append(self.pending)
            self.pending = []
        return done

    def rest(self) -> list[Loaded] | None:
        full, self.pending = self.pending, []
        return full or None

    def reconstruct(self, items: list[Loaded]) -> Iterator[Job]:
        """Run the adapter on the batch's decoded images; the batch's failures first, then one job per image
        (back at its original size, its crops' PSNR/SSIM computed), so only a few full-size images wait."""
        head = Job(self, items, head=True)
        good = [it for it in items if it.error is None]
        if not good:
            yield head
            return
        try:
            recon, compression = adapt(np.stack([it.unit for it in good]), self.adapter, self.timer)  # type: ignore[misc]
        except AdapterError as exc:  # np.stack makes a fresh copy: adapters may write into their input
            head.error = exc
            yield head
            return
        yield head
        for k, it in enumerate(good):
            image = from_canvas(to_u8(recon[k]), it.placement)  # type: ignore[arg-type]
            fid = crop_fidelities(it.record, it.image, image, self.scorers.fidelity, self.plan.text_edges,  # type: ignore[arg-type]
                                  self.plan.face_edges, self.timer, self.score_all, self.keep_unreadable)
            yield Job(self, [it], recon=image, compression=compression[k], fidelities=fid)

    # ---- scoring workers
    def compute(self, job: Job) -> dict[str, Any] | None:
        """Score one reconstructed image: its journal record (OCR, face and fidelity scores); None for a
        batch's head. Runs in a scoring worker, several images at once."""
        if job.head:
            return None
        it = job.items[0]
        words, faces = score_image(it.record, it.image, job.recon, self.scorers, self.plan.text_edges,  # type: ignore[arg-type]
                                   self.plan.face_edges, self.timer, self.score_all, self.keep_unreadable,
                                   fidelities=job.fidelities)
        return {"image": it.record.id, "subset": it.record.subset, "status": "ok", "compression": job.compression,
                "words": words, "faces": faces}

    # ---- main thread, in order
    def commit(self, job: Job, record: dict[str, Any] | None, writer: JournalWriter) -> int:
        """Record a scored image, or a batch's failures (``skip``) or raise them (``stop``).

        Returns how many images it finished."""
        journal = self.plan.journal
        if not job.head:
            it = job.items[0]
            before = _crop_saver(self.plan.out / "crops", it, job.recon, record["words"], record["faces"]) if self.keep_crops else None  # type: ignore[arg-type,index]
            writer.append(journal, record, before)  # type: ignore[arg-type]
            return 1
        good = []
        for it in job.items:
            if it.error is None:
                good.append(it)
            elif self.on_error == "stop":
                raise ImageLoadError(f"{it.error}. Records so far are kept in {journal}; rerun to resume.")
            else:
                writer.append(journal, error_record(it.record, "load", it.error))
        if job.error is None:
            return len(job.items) - len(good)
        if self.on_error == "stop":
            ids = ", ".join(it.record.id for it in good[:3])
            raise AdapterError(f"{job.error} (images: {ids}). Records so far are kept in {journal}; rerun to "
                               f"resume, or use --on-error skip to record failures and go on.") from job.error.__cause__
        for it in good:
            writer.append(journal, error_record(it.record, "adapter", str(job.error)))
        return len(job.items)

    def score(self, job: Job, writer: JournalWriter) -> int:
        """:meth:`compute` and :meth:`commit` in one go (one image at a time)."""
        return self.commit(job, self.compute(job), writer)


def _crop_saver(crops_dir, item: Loaded, recon: np.ndarray, words: list[dict], faces: list[dict]):
    return lambda: save_crops(crops_dir, item.record, item.image, recon, words, faces)  # type: ignore[arg-type]
