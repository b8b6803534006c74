"""Adapters that misbehave the way real ones do, for the fault tests (`python:tests.fault_adapters:...`).

They wrap the real JPEG codec, so whatever they do not break is scored for real.
"""
import time

import numpy as np

from tfbench.adapters.image_codecs import JpegAdapter
from tfbench.protocol import AdapterInfo


class Slow(JpegAdapter):
    """JPEG, one image per batch, ``delay`` seconds per batch: lets a test kill or interrupt a run midway."""

    info = AdapterInfo(family="slow-jpeg", kind="codec")
    max_batch_size = 1

    def __init__(self, quality: int = 30, delay: float = 0.0):
        super().__init__(quality)
        self.delay = delay

    def encode(self, batch):
        time.sleep(self.delay)
        return super().encode(batch)


class Flaky(JpegAdapter):
    """JPEG, one image per batch, failing on the ``fail_on``-th batch of this process only.

    ``how``: raise (RuntimeError), oom (a real numpy MemoryError from an impossible allocation),
    inf (an Inf pixel), shape (a cropped reconstruction), compression (a malformed compression list).
    """

    info = AdapterInfo(family="flaky-jpeg", kind="codec")
    max_batch_size = 1

    def __init__(self, quality: int = 30, fail_on: int = 3, how: str = "raise"):
        super().__init__(quality)
        self.fail_on, self.how, self.calls = fail_on, how, 0

    def _failing(self) -> bool:
        return self.calls == self.fail_on

    def encode(self, batch):
        self.calls += 1
        if self._failing() and self.how == "raise":
            raise RuntimeError(f"flaky adapter failed on batch {self.calls}")
        if self._failing() and self.how == "oom":
            np.empty((1 << 40, 1 << 20), dtype=np.float32)  # 4 EiB: numpy raises MemoryError
        return super().encode(batch)

    def decode(self, latent):
        out = super().decode(latent)
        if self._failing() and self.how == "inf":
            out[0, 1, 2, 0] = np.inf
        if self._failing() and self.how == "shape":
            out = out[:, 1:]
        return out

    def compression(self, latent, batch_shape):
        if self._failing() and self.how == "compression":
            return None
        return super().compression(latent, batch_shape)
