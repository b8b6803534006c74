"""The adapter protocol: one encode/decode interface for image and video tokenizers, VAEs and codecs.

Batches crossing the protocol are numpy float32 arrays with values in [0, 1], channels last:
images ``(N, H, W, 3)``, videos ``(N, T, H, W, 3)``. Each adapter converts to its own native range
(declared in :class:`AdapterInfo.value_range`) internally and back.
"""
from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np

from tfbench.errors import AdapterError

Kind = Literal["continuous", "discrete", "codec", "reference"]
Modality = Literal["image", "video"]
KINDS: tuple[str, ...] = ("continuous", "discrete", "codec", "reference")

# Range checks. A reconstruction may overshoot [0, 1] a little (VAEs do: TAEF2 on mini at 256 reaches
# [-0.12, 1.12], with at most 5e-5 of its values more than 0.1 outside). A range-convention mix-up is
# judged by the share of values far outside, not by one extreme pixel, and, for the mix-ups that stay
# inside [0, 1] on bright images, by comparing the reconstruction with its input.
FAR_OUTSIDE = 0.25  # this far outside the range is never overshoot ...
FAR_SHARE = 0.001  # ... and more than this share of such values is a mix-up
HARD_OUTSIDE = 1.0  # a single value beyond [-1, 2] is a mix-up on its own
MIXUP_CONTRAST = 0.05  # the input comparison needs this much contrast (std of the input) to tell a mix-up ...
MIXUP_MIN_ERROR = 0.05  # ... a reconstruction at least this far (mean |r - x|) from its input ...
MIXUP_RATIO = 0.25  # ... that a mixed-up range explains at least 4x better
MIXUP_SAMPLE = 256  # the comparison runs on about 256 x 256 pixels per image
KNOWN_RANGES: dict[str, tuple[float, float]] = {"[0, 1]": (0.0, 1.0), "[-1, 1]": (-1.0, 1.0), "[0, 255]": (0.0, 255.0)}


@dataclass(frozen=True)
class AdapterInfo:
    """Conventions an adapter declares about itself (shown by `tfbench adapters`, stored in results)."""

    family: str
    kind: Kind
    modality: Modality = "image"
    value_range: tuple[float, float] = (0.0, 1.0)  # range the wrapped model/codec works in
    spatial_compression: int = 1  # H and W are divided by this in the latent
    temporal_compression: int = 1  # frames are divided by this (video)
    latent_channels: int | None = None
    codebook_size: int | None = None  # discrete tokenizers
    bits_per_element: int | None = None  # continuous: how latent elements are counted (16 = fp16)
    frame_rule: str | None = None  # video: e.g. "4n+1"
    description: str = ""
    license: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["value_range"] = list(self.value_range)
        return d


@dataclass(frozen=True)
class Compression:
    """What one encoded image costs: latent shape, token count and bits per pixel."""

    latent_shape: tuple[int, ...] | None = None
    tokens: int | None = None
    bits_per_pixel: float | None = None
    bpp_basis: str = ""  # how bits_per_pixel was counted ("measured bytes", "tokens x log2(K)", ...)

    def to_dict(self) -> dict[str, Any]:
        return {
            "latent_shape": list(self.latent_shape) if self.latent_shape is not None else None,
            "tokens": self.tokens,
            "bits_per_pixel": self.bits_per_pixel,
            "bpp_basis": self.bpp_basis,
        }


class Adapter(ABC):
    """Base class for every tokenizer, VAE or codec wrapped for tfbench.

    Subclasses set ``info`` (class attribute or in ``__init__``), implement ``encode``/``decode``
    and ``compression``. Constructor keyword arguments are what a spec string can set
    (``jpeg:quality=30`` calls ``JpegAdapter(quality=30)``), so they must have simple types.
    """

    info: ClassVar[AdapterInfo] | AdapterInfo
    spec: str = ""  # set by the registry: the adapter's identity (its spec without execution settings, local files by checksum)
    source_spec: str = ""  # set by the registry: the spec string that created it
    execution: dict[str, Any] = {}  # set by the registry: device, dtype, batch size, local file paths (for budgets)
    max_batch_size: int = 8  # the pipeline never sends larger batches

    @abstractmethod
    def encode(self, batch: np.ndarray) -> Any:
        """Batch in [0, 1] -> latent, codes or bitstreams (anything `decode` accepts)."""

    @abstractmethod
    def decode(self, latent: Any) -> np.ndarray:
        """Latent -> batch in [0, 1] of the encoded batch's shape."""

    def reconstruct(self, batch: np.ndarray) -> np.ndarray:
        return self.decode(self.encode(batch))

    def compression(self, latent: Any, batch_shape: tuple[int, ...]) -> list[Compression]:
        """Per-item compression of an encoded batch; default: unknown."""
        return [Compression() for _ in range(batch_shape[0])]

    def close(self) -> None:
        """Release models, sessions, GPU memory."""

    def describe(self) -> dict[str, Any]:
        return {"spec": self.spec, **self.info.to_dict()}


def continuous_bpp(latent_shape: tuple[int, ...], pixels: int, bits_per_element: int = 16) -> float:
    """Bits per pixel of a continuous latent, counting every element at ``bits_per_element`` bits."""
    return float(np.prod(latent_shape)) * bits_per_element / pixels


def discrete_bpp(tokens: int, codebook_size: int, pixels: int) -> float:
    """Bits per pixel of a token grid: tokens x log2(codebook size) / pixels."""
    return tokens * math.log2(codebook_size) / pixels


def check_batch(batch: np.ndarray, modality: Modality = "image") -> None:
    """Reject a batch that does not follow the protocol before it reaches an adapter."""
    ndim = 4 if modality == "image" else 5
    if not isinstance(batch, np.ndarray) or batch.ndim != ndim or batch.shape[-1] != 3:
        raise AdapterError(
            f"batch must be a numpy array of shape {'(N,H,W,3)' if ndim == 4 else '(N,T,H,W,3)'}, "
            f"got {getattr(batch, 'shape', type(batch).__name__)}"
        )
    if batch.dtype != np.float32:
        raise AdapterError(f"batch must be float32, got {batch.dtype}")


def range_hint(lo: float, hi: float) -> str:
    """The range an output spanning [lo, hi] (in protocol units) probably came in."""
    if hi > 2.0:
        return "[0, 255]"
    if lo < -FAR_OUTSIDE:
        return "[-1, 1]"
    return "another range"


def out_of_range(lo: float, hi: float, share_far: float) -> bool:
    """True when values that span [lo, hi], ``share_far`` of them more than FAR_OUTSIDE outside [0, 1],
    cannot be overshoot: a range-convention mix-up."""
    return share_far > FAR_SHARE or lo < -HARD_OUTSIDE or hi > 1.0 + HARD_OUTSIDE


def _mapping(declared: tuple[float, float], actual: tuple[float, float]) -> tuple[float, float]:
    """(a, b) such that a model output in ``actual`` read as if in ``declared`` lands at a * x + b for x in [0, 1]."""
    dlo, dhi = declared
    alo, ahi = actual
    return (ahi - alo) / (dhi - dlo), (alo - dlo) / (dhi - dlo)


def _sample(a: np.ndarray) -> np.ndarray:
    """About MIXUP_SAMPLE x MIXUP_SAMPLE pixels of every image (fixed strides: deterministic)."""
    step_h = max(1, a.shape[-3] // MIXUP_SAMPLE)
    step_w = max(1, a.shape[-2] // MIXUP_SAMPLE)
    return a[..., ::step_h, ::step_w, :].astype(np.float64)


def mixup_against_input(batch: np.ndarray, recon: np.ndarray,
                        declared: tuple[float, float] = (0.0, 1.0)) -> tuple[str, float, float] | None:
    """A range mix-up that keeps values inside [0, 1] (a [-1, 1] output on a bright image, [0, 1] output
    declared [0, 255]...): the reconstruction, mapped back as if the model used another known range,
    matches the input at least 1/MIXUP_RATIO times better than as declared.

    Returns (range the model probably uses, error as declared, error mapped) or None.
    """
    x, r = _sample(batch), _sample(recon)
    if x.std() < MIXUP_CONTRAST:
        return None  # a flat image cannot tell a mix-up from a brightness change
    as_declared = float(np.abs(r - x).mean())
    if as_declared < MIXUP_MIN_ERROR:
        return None
    best = None
    for name, actual in KNOWN_RANGES.items():
        a, b = _mapping(declared, actual)
        if (a, b) == (1.0, 0.0):
            continue
        err = float(np.abs((r - b) / a - x).mean())
        if err < MIXUP_RATIO * as_declared and (best is None or err < best[2]):
            best = (name, as_declared, err)
    return best


def far_outside(count: int, total: int) -> str:
    """How many values were far outside the range, for messages."""
    return f"{count} of {total} values more than {FAR_OUTSIDE:g} outside"


def check_reconstruction(adapter_spec: str, batch: np.ndarray, recon: Any,
                         value_range: tuple[float, float] = (0.0, 1.0)) -> np.ndarray:
    """Validate an adapter's output against its input; return it as float32 clipped to [0, 1].

    Raises AdapterError naming the adapter for a wrong type or shape, NaN/Inf, or a range mix-up (a
    [-1, 1] or [0, 255] output where [0, 1] is expected): values far outside [0, 1] (more than
    FAR_SHARE of them beyond FAR_OUTSIDE, or any beyond HARD_OUTSIDE), or, on bright images where such
    an output stays inside [0, 1], a reconstruction that matches its input far better once mapped
    from another range than ``value_range``, the range the adapter declares.
    """
    name = adapter_spec or "adapter"
    if hasattr(recon, "detach"):  # a torch tensor slipped through
        raise AdapterError(f"{name}: decode() returned a torch tensor; return a numpy array in [0, 1]")
    if not isinstance(recon, np.ndarray):
        raise AdapterError(f"{name}: decode() returned {type(recon).__name__}, expected a numpy array")
    if recon.shape != batch.shape:
        raise AdapterError(
            f"{name}: reconstruction has shape {tuple(recon.shape)} but the input batch had "
            f"{tuple(batch.shape)}; the adapter must crop/pad back to the input size"
        )
    recon = recon.astype(np.float32, copy=False)
    finite = np.isfinite(recon)
    if not finite.all():
        bad = int((~finite).sum())
        raise AdapterError(f"{name}: reconstruction contains {bad} NaN/Inf values")
    lo, hi = float(recon.min()), float(recon.max())
    far = int(np.count_nonzero((recon < -FAR_OUTSIDE) | (recon > 1.0 + FAR_OUTSIDE)))
    if out_of_range(lo, hi, far / max(recon.size, 1)):
        raise AdapterError(
            f"{name}: reconstruction values span [{lo:.3g}, {hi:.3g}] ({far_outside(far, recon.size)}), expected "
            f"[0, 1]; the adapter probably returns {range_hint(lo, hi)}. Convert with the adapter's declared "
            f"value_range (or declare the range the model really uses).")
    mixed = mixup_against_input(batch, recon, tuple(value_range))  # type: ignore[arg-type]
    if mixed is not None:
        actual, as_declared, mapped = mixed
        lo_d, hi_d = value_range
        raise AdapterError(
            f"{name}: the reconstruction is far from its input (mean |difference| {as_declared:.3f}) but matches "
            f"it ({mapped:.3f}) once read as a model output in {actual} instead of the declared "
            f"[{lo_d:g}, {hi_d:g}]: a range mix-up; the adapter probably returns {actual}. Convert with the "
            f"adapter's declared value_range (or declare the range the model really uses).")
    return np.clip(recon, 0.0, 1.0, out=recon if recon.flags.writeable else None)


@dataclass
class AdapterRow:
    """One row of `tfbench adapters`: a registered name and what is known without loading weights."""

    name: str
    target: str
    info: AdapterInfo | None = None
    preset_of: str | None = None
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
