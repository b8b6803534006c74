"""Adapters used by tests through `python:tests.plugin_adapters:...` specs (real code, not mocks)."""
import numpy as np

from tfbench.protocol import Adapter, AdapterInfo, Compression


class Posterize(Adapter):
    info = AdapterInfo(family="posterize", kind="codec", description="keep the top `bits` of each channel")

    def __init__(self, bits: int = 3):
        self.bits = bits

    def encode(self, batch):
        return np.floor(batch * (2**self.bits - 1e-6)).astype(np.uint8)

    def decode(self, codes):
        return (codes.astype(np.float32) + 0.5) / 2**self.bits

    def compression(self, codes, shape):
        return [Compression(bits_per_pixel=3 * self.bits, bpp_basis="bits per channel x 3")] * shape[0]


class Broken(Adapter):
    """Misbehaves on purpose, in one of the ways real adapters do."""

    info = AdapterInfo(family="broken", kind="continuous")
    max_batch_size = 1

    def __init__(self, mode: str = "nan", after: int = 0):
        self.mode, self.after, self.calls = mode, after, 0

    def encode(self, batch):
        self.calls += 1
        if self.mode == "raise" and self.calls > self.after:
            raise RuntimeError("CUDA out of memory (simulated by the test adapter)")
        return batch

    def decode(self, latent):
        if self.calls <= self.after:
            return latent
        if self.mode == "nan":
            out = latent.copy()
            out[0, 0, 0, 0] = np.nan
            return out
        if self.mode == "shape":
            return latent[:, :-8]
        if self.mode == "range":
            return latent * 2 - 1
        return latent


def not_an_adapter():
    return object()
