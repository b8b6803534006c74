"""PyTorch adapters whose model returns another range than the one they declare (real torch modules on
the real TorchAutoencoderAdapter path), used through `python:tests.range_adapters:...` specs."""
from tfbench.adapters.torch_adapter import TorchAutoencoderAdapter
from tfbench.adapters.torch_common import require_torch
from tfbench.protocol import AdapterInfo

# (range the model really returns, range the adapter declares)
CASES = {
    "u8_as_pm1": ((0.0, 255.0), (-1.0, 1.0)),
    "u8_as_unit": ((0.0, 255.0), (0.0, 1.0)),
    "pm1_as_unit": ((-1.0, 1.0), (0.0, 1.0)),
    "pm1_as_u8": ((-1.0, 1.0), (0.0, 255.0)),
    "correct_pm1": ((-1.0, 1.0), (-1.0, 1.0)),
}


class PoolAutoencoder(TorchAutoencoderAdapter):
    """4x average pooling down, nearest upsampling back: a real (if simple) lossy autoencoder whose decoder
    maps its [0, 1] reconstruction into the range named by ``case`` (the model's true output range)."""

    info = AdapterInfo(family="pool-ae", kind="continuous", spatial_compression=4, latent_channels=3, bits_per_element=16)

    def __init__(self, case: str = "correct_pm1", device: str = "cpu") -> None:
        super().__init__(device=device)
        torch = require_torch()
        self.returns, declared = CASES[case]
        self.info = AdapterInfo(family="pool-ae", kind="continuous", value_range=declared, spatial_compression=4,
                                latent_channels=3, bits_per_element=16)
        self.model = torch.nn.ModuleDict({"down": torch.nn.AvgPool2d(4), "up": torch.nn.Upsample(scale_factor=4)})

    def _encode(self, x):
        lo, hi = self.info.value_range
        return self.model["down"]((x - lo) / (hi - lo))  # the model works on [0, 1] inside

    def _decode(self, z):
        lo, hi = self.returns
        return self.model["up"](z) * (hi - lo) + lo
