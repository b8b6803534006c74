"""The metric models of a run (:class:`Scorers`): OCR, face embeddings and crop fidelity, loaded once per
process, optionally in the background (:class:`PendingScorers`), and how many images they may score at once."""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from tfbench.errors import TfbenchError
from tfbench.manifest import ImageRecord

if TYPE_CHECKING:  # the metric models' modules import onnxruntime, OpenCV and SciPy: loaded when used
    from tfbench.metrics.face import FaceScorer
    from tfbench.metrics.fidelity import CropFidelity
    from tfbench.metrics.text import TextScorer


def crop_fidelity() -> "CropFidelity":
    from tfbench.metrics.fidelity import CropFidelity

    return CropFidelity()


def scoring_plan(text_backend: str, face_backend: str, threads: int | None) -> tuple[int, int]:
    """(scoring workers, threads per model call) for ``threads`` CPU threads.

    When both backends declare ``concurrent`` calls, a run scores ``threads`` images at once, each model
    call single-threaded: on the 2-core VM a one-thread OCR call cost about 10 % less CPU than a two-thread
    one, and two workers fill both cores (README, Performance). Otherwise one image at a time, each model
    call on ``threads`` threads."""
    from tfbench.metrics.face import FACE_BACKENDS
    from tfbench.metrics.text import OCR_BACKENDS

    threads = threads or min(2, os.cpu_count() or 1)
    concurrent = all(getattr(reg.load(name), "concurrent", False)
                     for reg, name in ((OCR_BACKENDS, text_backend), (FACE_BACKENDS, face_backend)))
    return (threads, 1) if concurrent and threads > 1 else (1, threads)


@dataclass
class Scorers:
    """Metric models, loaded once per process and shared by every adapter and resolution of a run.

    ``workers``: how many images the run may score at once (see :func:`scoring_plan`)."""

    text: "TextScorer"
    face: "FaceScorer"
    fidelity: "CropFidelity" = field(default_factory=crop_fidelity)
    original_faces: dict[tuple, np.ndarray] = field(default_factory=dict)  # original face embeddings (F, D)
    workers: int = 1
    _lock: Any = field(default_factory=threading.Lock, repr=False, compare=False)

    @classmethod
    def create(cls, text_backend: str = "rapidocr", face_backend: str = "sface", threads: int | None = None) -> "Scorers":
        from tfbench.metrics.face import FaceScorer
        from tfbench.metrics.text import TextScorer

        workers, per_call = scoring_plan(text_backend, face_backend, threads)
        return cls(text=TextScorer(text_backend, threads=per_call), face=FaceScorer(face_backend, threads=per_call),
                   workers=workers)

    @classmethod
    def start(cls, text_backend: str = "rapidocr", face_backend: str = "sface", threads: int | None = None) -> "Scorers":
        """Scorers loading in a background thread: a run can decode and reconstruct meanwhile; the first use
        of the OCR or face model waits for them (loading errors are raised there)."""
        return PendingScorers(text_backend, face_backend, threads)  # type: ignore[return-value]

    def backends(self) -> dict[str, Any]:
        return {"text": self.text.describe(), "face": self.face.describe()}

    def names(self) -> tuple[str, str]:
        """(text, face) backend names, as run.json records them."""
        return self.text.backend.name, self.face.backend.name

    def curation_scorer(self) -> "TextScorer":
        """The OCR that checks (and if needed redoes) the suite's curation marks."""
        return self.text

    def original_embeddings(self, record: ImageRecord, image: np.ndarray) -> np.ndarray:
        # keyed by what determines the embeddings, so suites that reuse ids or file names never collide
        key = (record.id, record.file, record.sha256, record.width, record.height,
               tuple(f.landmarks.tobytes() for f in record.faces))
        with self._lock:  # scoring workers share the cache: each original is embedded once
            emb = self.original_faces.get(key)
            if emb is None:
                emb = self.face.embed(image, [f.landmarks for f in record.faces])
                self.original_faces[key] = emb
        return emb


class PendingScorers:
    """:class:`Scorers` being created in a background thread (see :meth:`Scorers.start`)."""

    def __init__(self, text_backend: str, face_backend: str, threads: int | None) -> None:
        from tfbench.metrics.face import FACE_BACKENDS
        from tfbench.metrics.text import OCR_BACKENDS

        for registry, name in ((OCR_BACKENDS, text_backend), (FACE_BACKENDS, face_backend)):
            registry.load(name)  # an unknown backend fails here, before any run folder is claimed
        self.requested = (text_backend, face_backend)
        self.workers = scoring_plan(text_backend, face_backend, threads)[0]
        self._fidelity: "CropFidelity | None" = None
        self._scorers: Scorers | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._create, args=(text_backend, face_backend, threads),
                                        name="tfbench-load-models", daemon=True)
        self._thread.start()

    def _create(self, *args: Any) -> None:
        try:
            self._scorers = Scorers.create(*args)
        except BaseException as exc:  # noqa: BLE001 - raised in the thread that uses the models
            self._error = exc

    def names(self) -> tuple[str, str]:
        return self.requested

    def curation_scorer(self) -> "CurationOcr":
        """The OCR for the suite's curation check: describes itself without waiting for the model when its
        backend's version needs no loaded model (the common case: same backend, nothing to redo)."""
        return CurationOcr(self)

    @property
    def fidelity(self) -> "CropFidelity":
        """PSNR/SSIM need no model: available at once (for the reconstruct thread), not waiting for the others."""
        if self._fidelity is None:
            self._fidelity = crop_fidelity()
        return self._fidelity

    def ready(self) -> Scorers:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._scorers is not None
        if self._scorers.names() != self.requested:
            raise TfbenchError(f"the metric backends {self.requested} load as {self._scorers.names()}; pass those "
                               f"names to --ocr/--face")
        self._scorers.fidelity = self.fidelity
        return self._scorers

    def __getattr__(self, name: str) -> Any:  # text, face, backends(), original_embeddings(), ...
        return getattr(self.ready(), name)


class CurationOcr:
    """The text scorer of :class:`PendingScorers` as :func:`tfbench.datasets.curation.curate_for_backend` uses it."""

    def __init__(self, pending: PendingScorers) -> None:
        self._pending = pending

    def describe(self) -> dict[str, str]:
        from tfbench.metrics.text import OCR_BACKENDS

        name = self._pending.requested[0]
        version = getattr(OCR_BACKENDS.load(name), "version", None)
        if isinstance(version, property):
            try:
                version = version.fget(None)  # type: ignore[misc]  # a version that needs no instance
            except Exception:  # noqa: BLE001 - it needs the loaded backend: ask that
                version = None
        return {"backend": name, "version": version} if isinstance(version, str) else self._pending.text.describe()

    def __getattr__(self, name: str) -> Any:  # score(), backend, ... of the loaded TextScorer
        return getattr(self._pending.text, name)
