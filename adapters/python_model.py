"""Models handed over in Python (``tfbench.evaluate``), as adapters: a ``torch.nn.Module`` with
``encode``/``decode``, or a plain callable batch -> batch (numpy or torch, on any device).

The value range the model takes and returns must be declared (``value_range=(0, 1)`` or ``(-1, 1)``):
protocol batches in [0, 1] are mapped to it on the way in and mapped back on the way out, never
clamped here, so the engine's range check sees exactly what the model returned.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from tfbench.errors import AdapterArgumentError, AdapterError
from tfbench.protocol import Adapter, AdapterInfo, Compression, continuous_bpp, discrete_bpp

LAYOUTS = ("nhwc", "nchw")


def check_value_range(value_range: Any) -> tuple[float, float]:
    """A declared (low, high) range: two finite numbers, low < high."""
    try:
        lo, hi = (float(v) for v in value_range)
    except (TypeError, ValueError):
        raise AdapterArgumentError(f"value_range must be (low, high), e.g. (0, 1) or (-1, 1); got {value_range!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise AdapterArgumentError(f"value_range must be two finite numbers with low < high; got {value_range!r}")
    return lo, hi


def _torch():
    from tfbench.adapters.torch_common import require_torch

    return require_torch()


def is_torch_module(model: Any) -> bool:
    torch = __import__("sys").modules.get("torch")
    return torch is not None and isinstance(model, torch.nn.Module)


def to_numpy(value: Any, name: str) -> np.ndarray:
    """A model output (numpy array or torch tensor on any device) as a float32 numpy array."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        return value.detach().float().cpu().numpy()
    if isinstance(value, np.ndarray):
        return value.astype(np.float32, copy=False)
    raise AdapterError(f"{name}: the model returned {type(value).__name__}; return a numpy array or a torch tensor")


class CallableAdapter(Adapter):
    """A plain function batch -> batch. It gets the protocol batch mapped to ``value_range``, as numpy
    (``tensor="numpy"``) or as a torch tensor on ``device`` (``tensor="torch"``), channels last
    (``layout="nhwc"``) or first (``"nchw"``), and returns the same layout, numpy or torch."""

    max_batch_size = 8

    def __init__(self, fn: Callable[[Any], Any], value_range: Any, *, tensor: str = "numpy", layout: str | None = None,
                 device: str = "cpu", name: str = "python-model", batch_size: int = 8) -> None:
        if not callable(fn):
            raise AdapterArgumentError(f"the model must be callable (batch -> batch), got {type(fn).__name__}")
        if tensor not in ("numpy", "torch"):
            raise AdapterArgumentError(f"tensor must be 'numpy' or 'torch', got {tensor!r}")
        layout = layout or ("nhwc" if tensor == "numpy" else "nchw")
        if layout not in LAYOUTS:
            raise AdapterArgumentError(f"layout must be one of {LAYOUTS}, got {layout!r}")
        self.fn, self.range, self.tensor, self.layout, self.device = fn, check_value_range(value_range), tensor, layout, device
        self.max_batch_size = int(batch_size)
        self.info = AdapterInfo(family="python-model", kind="continuous", value_range=self.range,
                                description=f"{name}: a Python callable ({tensor}, {layout})")
        self.spec = name

    def _to_model(self, batch: np.ndarray) -> Any:
        lo, hi = self.range
        x = batch * np.float32(hi - lo) + np.float32(lo)
        if self.layout == "nchw":
            x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
        if self.tensor == "torch":
            x = _torch().from_numpy(x).to(self.device)
        return x

    def _to_protocol(self, y: Any) -> np.ndarray:
        out = to_numpy(y, self.spec)
        if self.layout == "nchw" and out.ndim == 4:
            out = out.transpose(0, 2, 3, 1)
        lo, hi = self.range
        return np.ascontiguousarray((out - np.float32(lo)) / np.float32(hi - lo), dtype=np.float32)  # not clamped

    def encode(self, batch: np.ndarray) -> Any:
        x = self._to_model(batch)
        if self.tensor == "torch":
            with _torch().inference_mode():
                return self.fn(x)
        return self.fn(x)

    def decode(self, latent: Any) -> np.ndarray:
        return self._to_protocol(latent)


class ModuleAdapter(CallableAdapter):
    """A ``torch.nn.Module`` with ``encode(x)`` and ``decode(z)`` on (N, 3, H, W) tensors in ``value_range``.

    Inputs go to the module's device and dtype. A tensor latent gives the compression: continuous latents
    at ``bits_per_element`` bits per element, integer codes at log2(``codebook_size``) bits per token.
    """

    max_batch_size = 4

    def __init__(self, module: Any, value_range: Any, *, name: str = "python-model", batch_size: int = 4,
                 bits_per_element: int = 16, codebook_size: int | None = None) -> None:
        for method in ("encode", "decode"):
            if not callable(getattr(module, method, None)):
                raise AdapterArgumentError(f"the torch module {type(module).__name__} has no {method}() method; pass a "
                                           f"module with encode/decode, or a callable batch -> batch")
        param = next(iter(module.parameters()), None)
        device = str(param.device) if param is not None else "cpu"
        super().__init__(module.encode, value_range, tensor="torch", layout="nchw", device=device, name=name,
                         batch_size=batch_size)
        self.module, self.bits, self.codebook = module, int(bits_per_element), codebook_size
        self.dtype = param.dtype if param is not None and param.is_floating_point() else None
        self.info = AdapterInfo(family="python-model", kind="discrete" if codebook_size else "continuous",
                                value_range=self.range, codebook_size=codebook_size, bits_per_element=self.bits,
                                description=f"{name}: torch module {type(module).__name__}")

    def _to_model(self, batch: np.ndarray) -> Any:
        x = super()._to_model(batch)
        return x.to(self.dtype) if self.dtype is not None else x

    def decode(self, latent: Any) -> np.ndarray:
        with _torch().inference_mode():
            return self._to_protocol(self.module.decode(latent))

    def compression(self, latent: Any, batch_shape: tuple[int, ...]) -> list[Compression]:
        shape = getattr(latent, "shape", None)
        if shape is None or len(shape) < 2 or int(shape[0]) != int(batch_shape[0]):
            return super().compression(latent, batch_shape)
        per_item = tuple(int(s) for s in shape[1:])
        pixels = int(batch_shape[1]) * int(batch_shape[2])
        tokens = per_item[-2] * per_item[-1] if len(per_item) >= 2 else per_item[0]
        if latent.is_floating_point():
            comp = Compression(per_item, tokens, continuous_bpp(per_item, pixels, self.bits),
                               f"latent elements x {self.bits} bits / input pixels")
        elif self.codebook:
            comp = Compression(per_item, tokens, discrete_bpp(tokens, self.codebook, pixels),
                               f"tokens x log2({self.codebook}) / input pixels")
        else:
            comp = Compression(per_item, tokens)
        return [comp] * int(batch_shape[0])
