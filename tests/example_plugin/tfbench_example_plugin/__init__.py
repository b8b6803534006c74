"""Example tfbench plugin: keep the 8-bit mean of every f x f block, upsample by repetition."""
from __future__ import annotations

import numpy as np

from tfbench.errors import AdapterArgumentError
from tfbench.protocol import Adapter, AdapterInfo, Compression


class BlockMean(Adapter):
    """A toy tokenizer with an exact bit count: (H/f)(W/f) x 3 bytes per image."""

    info = AdapterInfo(family="example-blockmean", kind="codec", description="8-bit mean of each f x f block")
    max_batch_size = 16

    def __init__(self, factor: int = 2) -> None:
        if not isinstance(factor, int) or factor < 1:
            raise AdapterArgumentError(f"example-blockmean: factor must be a positive integer, got {factor!r}")
        self.factor = factor

    def encode(self, batch: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
        n, h, w, c = batch.shape
        f = self.factor
        padded = np.pad(batch, ((0, 0), (0, -h % f), (0, -w % f), (0, 0)), mode="edge")
        blocks = padded.reshape(n, padded.shape[1] // f, f, padded.shape[2] // f, f, c).mean(axis=(2, 4))
        return np.rint(blocks * 255).astype(np.uint8), (h, w)

    def decode(self, latent: tuple[np.ndarray, tuple[int, int]]) -> np.ndarray:
        codes, (h, w) = latent
        up = codes.repeat(self.factor, axis=1).repeat(self.factor, axis=2)[:, :h, :w]
        return up.astype(np.float32) / 255.0

    def compression(self, latent: tuple[np.ndarray, tuple[int, int]], batch_shape: tuple[int, ...]) -> list[Compression]:
        codes, _ = latent
        per_item = tuple(codes.shape[1:])
        bits = float(np.prod(per_item)) * 8
        return [Compression(latent_shape=per_item, tokens=per_item[0] * per_item[1],
                            bits_per_pixel=bits / (batch_shape[1] * batch_shape[2]), bpp_basis="block means x 8 bits")
                for _ in range(batch_shape[0])]
