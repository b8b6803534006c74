"""Nominal compression implied by an adapter's declared conventions (before any image is encoded)."""
from __future__ import annotations

import math
from typing import Any


def nominal(info: dict[str, Any], size: int = 256) -> dict[str, Any] | None:
    """Latent shape, tokens and bits per pixel of a size x size image, from declared conventions.

    Continuous latents count every element at ``bits_per_element`` bits (16 = fp16); discrete ones count
    tokens x log2(codebook size). None when the cost is only known by encoding (codecs) or not declared.
    """
    f = info.get("spatial_compression") or 1
    grid = (math.ceil(size / f), math.ceil(size / f))
    tokens = grid[0] * grid[1]
    if info.get("kind") == "discrete" and info.get("codebook_size"):
        return {"latent_shape": list(grid), "tokens": tokens,
                "bits_per_pixel": tokens * math.log2(info["codebook_size"]) / size**2,
                "bpp_basis": f"tokens x log2({info['codebook_size']}) / pixels"}
    if info.get("kind") == "continuous" and info.get("latent_channels") and info.get("bits_per_element"):
        c, b, t = info["latent_channels"], info["bits_per_element"], info.get("temporal_compression") or 1
        return {"latent_shape": [c, *grid], "tokens": tokens, "bits_per_pixel": c * tokens * b / size**2 / t,
                "bpp_basis": f"latent elements x {b} bits / pixels" + (f" / {t} frames" if t > 1 else "")}
    return None
