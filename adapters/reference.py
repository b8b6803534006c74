"""Reference adapters that bound the benchmark from above."""
from __future__ import annotations

import numpy as np

from tfbench.protocol import Adapter, AdapterInfo, Compression


class IdentityAdapter(Adapter):
    """Returns its input. Under the TokBench protocol it measures the resize loss alone ("Resize" row)."""

    info = AdapterInfo(
        family="identity",
        kind="reference",
        description="no compression: under the resize protocol it measures resize loss only",
    )
    max_batch_size = 64

    def encode(self, batch: np.ndarray) -> np.ndarray:
        return batch

    def decode(self, latent: np.ndarray) -> np.ndarray:
        return latent

    def compression(self, latent: np.ndarray, batch_shape: tuple[int, ...]) -> list[Compression]:
        per_item = tuple(batch_shape[1:])
        return [Compression(latent_shape=per_item, bits_per_pixel=24.0, bpp_basis="uncompressed 8-bit RGB")
                for _ in range(batch_shape[0])]
