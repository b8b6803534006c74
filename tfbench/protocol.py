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

# A reconstruction may overshoot [0, 1] a little (VAEs do); beyond this it is a range-convention bug.
RANGE_SLACK = 0.5


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


def check_reconstruction(adapter_spec: str, batch: np.ndarray, recon: Any) -> np.ndarray:
    """Validate an adapter's output against its input; return it as float32 clipped to [0, 1].

    Raises AdapterError naming the adapter for a wrong type or shape, NaN/Inf, or values far outside
    [0, 1] (the usual sign of a [-1, 1] or [0, 255] convention mix-up).
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
    if lo < -RANGE_SLACK or hi > 1.0 + RANGE_SLACK:
        hint = "[-1, 1]" if lo < -RANGE_SLACK and hi <= 1.0 + RANGE_SLACK else "[0, 255]" if hi > 2 else "another range"
        raise AdapterError(
            f"{name}: reconstruction values span [{lo:.3g}, {hi:.3g}], expected [0, 1]; the adapter "
            f"probably returns {hint}. Convert with the adapter's declared value_range."
        )
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
