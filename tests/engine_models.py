"""Real models for the engine and API tests, importable by `python:tests.engine_models:...` specs.

`TinyAE` is a small deterministic convolutional autoencoder (seeded weights, no training): the same module
is evaluated through `tfbench.evaluate` and through the CLI (`tiny_ae_adapter`), which must agree.
"""
from pathlib import Path

from tfbench.protocol import Adapter, AdapterInfo

from tests.plugin_adapters import Posterize


def tiny_ae(seed: int = 0):
    import torch

    class TinyAE(torch.nn.Module):
        """4x downsampling conv encoder (8 channels) and a transposed-conv decoder, outputs in [-1, 1]."""

        def __init__(self) -> None:
            super().__init__()
            torch.manual_seed(seed)
            self.enc = torch.nn.Conv2d(3, 8, 4, stride=4)
            self.dec = torch.nn.ConvTranspose2d(8, 3, 4, stride=4)
            with torch.no_grad():  # start near the identity so text survives a little
                self.enc.weight.mul_(0.5)

        def encode(self, x):
            return self.enc(x)

        def decode(self, z):
            return torch.tanh(self.dec(z) + 0.0)

    return TinyAE()


def tiny_ae_adapter(seed: int = 0) -> Adapter:
    """The same TinyAE as a CLI adapter: `-a python:tests.engine_models:tiny_ae_adapter`."""
    from tfbench.api import as_adapter

    return as_adapter(tiny_ae(seed), (-1, 1), name="TinyAE")


class FromFile(Posterize):
    """Posterizes with the number of bits written in a local file (an adapter whose spec names a file)."""

    info = AdapterInfo(family="from-file", kind="codec")

    def __init__(self, weights: str, device: str = "cpu"):
        super().__init__(int(Path(weights).read_text().strip()))
        self.device = device


class Batched(Posterize):
    """Posterize declared as a continuous model with batches of ``batch`` images (batches matter to the engine)."""

    info = AdapterInfo(family="batched-posterize", kind="continuous")

    def __init__(self, bits: int = 2, batch: int = 3):
        super().__init__(bits)
        self.max_batch_size = batch
