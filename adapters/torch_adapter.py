"""Base class for PyTorch autoencoders and tokenizers behind the adapter protocol.

It owns the conventions every neural image family shares: protocol batches in [0, 1] are checked, moved to
the device once and mapped to the model's ``value_range`` there; H and W are padded (replicate) up to the
spatial compression factor and cropped back; the latent stays on the device between ``encode`` and
``decode``; its shape is checked against the declared ``latent_channels``/``spatial_compression``; and
``compression`` reports latent shape, tokens and bits per pixel.
"""
from __future__ import annotations

import gc
from abc import abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np

from tfbench.adapters.torch_common import crop_to, pad_to_multiple, parse_device, parse_dtype, require_torch, to_model, to_protocol
from tfbench.errors import AdapterArgumentError, AdapterError
from tfbench.protocol import Adapter, Compression, continuous_bpp, discrete_bpp

CONTINUOUS_BITS = 16  # a continuous latent element is counted as one fp16 number
INPUT_SLACK = 1e-3  # protocol batches are in [0, 1]; anything beyond this is a range mix-up


@dataclass
class Latent:
    """An encoded batch: ``tensor`` is (N, C, h, w) for continuous latents or (N, h, w) integer codes."""

    tensor: Any  # torch.Tensor, on the model's device
    size: tuple[int, int]  # input (H, W) before padding
    from_encode: bool = False  # made by this adapter's encode(): decode skips the code-range check (a host sync)


class TorchAutoencoderAdapter(Adapter):
    """Subclasses load ``self.model``, set ``self.info`` and implement ``_encode``/``_decode`` on tensors."""

    max_batch_size = 4

    def __init__(self, device: str = "cpu", dtype: str = "fp32", batch_size: int = 4) -> None:
        self.device = parse_device(device)
        self.dtype = parse_dtype(dtype)
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise AdapterArgumentError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.max_batch_size = batch_size
        self.model: Any = None
        if self.device.type == "cuda":  # the same run twice gives the same numbers
            torch = require_torch()
            torch.backends.cudnn.benchmark = False
            torch.backends.cudnn.deterministic = True

    # --- subclass hooks (tensors on the device, model's own range, padded to the compression factor)
    @abstractmethod
    def _encode(self, x: Any) -> Any:
        """Model-range tensor batch (padded) -> latent or codes."""

    @abstractmethod
    def _decode(self, z: Any) -> Any:
        """Latent or codes -> model-range tensor batch."""

    # --- protocol
    @property
    def discrete(self) -> bool:
        return self.info.kind == "discrete"

    def expected_latent_shape(self, n: int, height: int, width: int) -> tuple[int, ...]:
        """Latent shape for a padded (height, width) input batch of n images."""
        f = self.info.spatial_compression
        grid = (height // f, width // f)
        return (n, *grid) if self.discrete else (n, int(self.info.latent_channels or 0), *grid)

    def encode(self, batch: np.ndarray) -> Latent:
        torch = require_torch()
        lo, hi = float(batch.min()), float(batch.max())
        if lo < -INPUT_SLACK or hi > 1.0 + INPUT_SLACK:
            vr = self.info.value_range
            raise AdapterError(
                f"{self.spec or self.info.family}: input batch spans [{lo:.3g}, {hi:.3g}] but adapters take "
                f"protocol batches in [0, 1]; the adapter maps them to the model's range [{vr[0]:g}, {vr[1]:g}] "
                f"itself, so do not rescale before calling it")
        with torch.inference_mode():
            x = to_model(batch, self.device, self.dtype, self.info.value_range)
            x, size = pad_to_multiple(x, self.info.spatial_compression)
            z = self._encode(x)
        want = self.expected_latent_shape(x.shape[0], x.shape[-2], x.shape[-1])
        if tuple(z.shape) != want:
            raise AdapterError(
                f"{self.spec or self.info.family}: the model produced a latent of shape {tuple(z.shape)} for a "
                f"{tuple(x.shape)} input, but the declared conventions (spatial compression "
                f"{self.info.spatial_compression}, latent channels {self.info.latent_channels}) give {want}; "
                f"the model's config does not match its weights or the adapter's family")
        return Latent(z, size, from_encode=True)

    def _accept(self, latent: Any) -> Latent:
        """Check a latent before decoding; codes from outside encode() are range-checked (one host sync)."""
        torch = require_torch()
        if isinstance(latent, np.ndarray):
            latent = torch.from_numpy(latent)
        if isinstance(latent, torch.Tensor):
            f = self.info.spatial_compression
            latent = Latent(latent, (int(latent.shape[-2]) * f, int(latent.shape[-1]) * f))
        if not isinstance(latent, Latent) or not isinstance(latent.tensor, torch.Tensor):
            raise AdapterError(f"{self.spec or self.info.family}: decode() takes what encode() returned "
                               f"(a Latent or a torch tensor), got {type(latent).__name__}")
        z = latent.tensor
        f = self.info.spatial_compression
        ok_ndim = z.ndim == (3 if self.discrete else 4)
        ok_grid = ok_ndim and z.shape[-2] * f >= latent.size[0] and z.shape[-1] * f >= latent.size[1]
        ok_channels = self.discrete or (ok_ndim and z.shape[1] == self.info.latent_channels)
        if not (ok_ndim and ok_grid and ok_channels):
            want = "(N, h, w) integer codes" if self.discrete else f"(N, {self.info.latent_channels}, h, w)"
            raise AdapterError(
                f"{self.spec or self.info.family}: cannot decode a latent of shape {tuple(z.shape)}; expected {want} "
                f"with h, w >= image size / {f} (the latent must come from this adapter's encode())")
        if self.discrete and not latent.from_encode and (
                z.is_floating_point() or int(z.min()) < 0 or int(z.max()) >= int(self.info.codebook_size or 0)):
            raise AdapterError(f"{self.spec or self.info.family}: codes must be integers in "
                               f"[0, {self.info.codebook_size}) (the codebook size)")
        return Latent(z.to(self.device), latent.size, latent.from_encode)

    def decode(self, latent: Any) -> np.ndarray:
        torch = require_torch()
        lat = self._accept(latent)
        with torch.inference_mode():
            y = self._decode(lat.tensor)
            return to_protocol(crop_to(y, lat.size), self.info.value_range, self.spec or self.info.family)

    def compression(self, latent: Latent, batch_shape: tuple[int, ...]) -> list[Compression]:
        pixels = int(batch_shape[1]) * int(batch_shape[2])
        per_item = tuple(int(s) for s in latent.tensor.shape[1:])
        tokens = per_item[-2] * per_item[-1]
        if self.discrete:
            k = int(self.info.codebook_size or 0)
            comp = Compression(latent_shape=per_item, tokens=tokens, bits_per_pixel=discrete_bpp(tokens, k, pixels),
                               bpp_basis=f"tokens x log2({k}) / input pixels")
        else:
            bits = int(self.info.bits_per_element or CONTINUOUS_BITS)
            what = "fp16" if bits == 16 else f"{bits}-bit codes"
            comp = Compression(latent_shape=per_item, tokens=tokens, bits_per_pixel=continuous_bpp(per_item, pixels, bits),
                               bpp_basis=f"latent elements x {bits} bits ({what}) / input pixels")
        return [comp for _ in range(int(batch_shape[0]))]

    def close(self) -> None:
        self.model = None
        gc.collect()
        torch = require_torch()
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
