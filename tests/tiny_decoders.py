"""Randomly initialised decoders for the adapter tests, with their output scaled into the declared range.

A random decoder's output spans about [-3, 3] (Cosmos' tiny one [-8, 9]). The adapters check the raw model
output against the declared value range before clamping (a [0, 255] / [-1, 1] mix-up stops the run), so an
untrained model would be refused as a range mix-up. Scaling the last convolution keeps the real architecture,
loading path and numerics, with an output a trained model could give.
"""
from __future__ import annotations

from typing import Any


def quiet_output(model: Any, factor: float = 0.2, prefix: str = "decoder.conv_out") -> Any:
    """Multiply every parameter of ``prefix`` (the decoder's output convolution) by ``factor``; return ``model``."""
    import torch

    params = [p for name, p in model.named_parameters() if name.startswith(prefix + ".")]
    assert params, f"{type(model).__name__} has no parameters under {prefix}"
    with torch.no_grad():
        for p in params:
            p.mul_(factor)
    return model
