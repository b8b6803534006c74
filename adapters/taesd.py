"""TAESD family (Tiny AutoEncoders by madebyollin, MIT) from the original ``*_encoder.pth``/``*_decoder.pth`` files.

Variants: taesd (SD 1.x/2.x), taesdxl, taesd3, taef1 (FLUX.1), taef2 (FLUX.2), taesana (Sana DC-AE f32c32).
The variant comes from the ``variant`` argument or the file name. Images are in [0, 1]; the decoder input is
soft-clamped to +-3 (``tanh(x/3)*3``). Weights load with ``weights_only=True`` and ``strict=True``.
``latent_bits=8`` stores the latent as TAESD's own 8-bit codes (``x / 6 + 0.5`` clamped to [0, 1], 255 levels)
and counts 8 bits per element; the default counts every element as fp16 without rounding it.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tfbench.adapters.torch_adapter import TorchAutoencoderAdapter
from tfbench.adapters.torch_common import dtype_name, load_state_dict, require_torch, resolve_url_file
from tfbench.downloads import Pin
from tfbench.errors import AdapterArgumentError, MissingWeightsError, TfbenchError
from tfbench.protocol import AdapterInfo

# The original files at one commit of madebyollin/taesd (2025-12-27, "Add support for FLUX.2 VAE"), each pinned
# by the git blob id of that commit's tree; sha256 and size where the file was at hand here (the taef2 pair
# equals ../shared/weights).
COMMIT = "5cccb12dc72074a4be35680c3b108548a7c69978"
SOURCE = f"https://github.com/madebyollin/taesd/raw/{COMMIT}/{{variant}}_{{part}}.pth"
_BLOBS = {
    "taesd_encoder": "65f85afc58480128926e52086fbf0fdc61c2c9b5", "taesd_decoder": "5915a429fc08eba4adf62bf74f96705b8b0d5c1f",
    "taesdxl_encoder": "56dfb7ed13ac774bc28dcd981f072f26eb7c5e99", "taesdxl_decoder": "477bc7e9604f418029508e72ac8719bb9d048291",
    "taesd3_encoder": "9678667c0e3e4b648a36daaa8094b1732ae4fb67", "taesd3_decoder": "7943be72a9151d0b330c5d8a4fbb885d889b60a1",
    "taef1_encoder": "d8ee13fa3a1ff9a92643669d718e4b0827daafa5", "taef1_decoder": "b772c9c4e6d3b79d06b277be59296389591783d3",
    "taef2_encoder": "8d738aba02f7ba9d156712489322dc5c43d5db1c", "taef2_decoder": "f4da1ec48cb805b5ee8deb22cfad03f48fe52f64",
    "taesana_encoder": "7e6354ea9e818c2fe56d3e80070a9e5e8a37be2f", "taesana_decoder": "aa645f9d0a0a1c6b5ed1fc5b446e764af4843a9f",
}
_SHA256 = {
    "taef2_encoder": ("10a4e1021e89d7551eaf161352da8dbd0b1aa83872ae28b150c1df1ce2f147b6", 2704692),
    "taef2_decoder": ("0a44a31e1ae59eb9dbf9359d24942fd3ef5928162c1800d97a28c61d51be0ab5", 2704756),
    "taesana_encoder": ("858f4e4cc293f88efaf58107f4154b960b9ced0cb5d9c050dad11f926b618c1f", 2537004),
}


def _pin(name: str, blob: str) -> Pin:
    variant, part = name.rsplit("_", 1)
    sha256, size = _SHA256.get(name, (None, None))
    return Pin(SOURCE.format(variant=variant, part=part), git_blob=blob, sha256=sha256, size=size)


PINS: dict[str, Pin] = {pin.url: pin for pin in (_pin(name, blob) for name, blob in _BLOBS.items())}
LATENT_MAGNITUDE, LATENT_SHIFT = 3.0, 0.5  # TAESD's 8-bit latent storage: x / (2 * 3) + 0.5 in [0, 1]


@dataclass(frozen=True)
class TaeVariant:
    latent_channels: int
    factor: int  # 8: three 2x stages of 64-wide blocks; 32: Sana's deeper/wider layout
    midblock_gn: bool = False  # GroupNorm "pool" branch in the three deepest blocks (taef2)
    target: str = ""


VARIANTS: dict[str, TaeVariant] = {
    "taesd": TaeVariant(4, 8, target="Stable Diffusion 1.x/2.x VAE"),
    "taesdxl": TaeVariant(4, 8, target="SDXL VAE"),
    "taesd3": TaeVariant(16, 8, target="SD3 VAE"),
    "taef1": TaeVariant(16, 8, target="FLUX.1 VAE"),
    "taef2": TaeVariant(32, 8, midblock_gn=True, target="FLUX.2 VAE"),
    "taesana": TaeVariant(32, 32, target="Sana DC-AE f32c32"),
}


def variant_from_name(name: str) -> str | None:
    """The variant a weights file name refers to (``taef2_encoder.pth`` -> ``taef2``), longest match first."""
    stem = Path(name).name.lower()
    for key in sorted(VARIANTS, key=len, reverse=True):
        if stem.startswith(key):
            return key
    return None


def build(variant: str) -> tuple[Any, Any]:
    """(encoder, decoder) ``nn.Sequential`` modules whose state_dict keys match the original .pth files."""
    torch = require_torch()
    nn = torch.nn
    v = VARIANTS[variant]

    def conv(c_in: int, c_out: int, stride: int = 1, bias: bool = True) -> Any:
        return nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=bias)

    class Clamp(nn.Module):
        def forward(self, x: Any) -> Any:
            return torch.tanh(x / 3) * 3

    class Block(nn.Module):
        def __init__(self, c: int, gn: bool = False) -> None:
            super().__init__()
            self.conv = nn.Sequential(conv(c, c), nn.ReLU(), conv(c, c), nn.ReLU(), conv(c, c))
            self.skip = nn.Identity()
            self.fuse = nn.ReLU()
            wide = 4 * c
            self.pool = nn.Sequential(nn.Conv2d(c, wide, 1, bias=False), nn.GroupNorm(4, wide), nn.ReLU(),
                                      nn.Conv2d(wide, c, 1, bias=False)) if gn else None

        def forward(self, x: Any) -> Any:
            if self.pool is not None:
                x = x + self.pool(x)
            return self.fuse(self.conv(x) + self.skip(x))

    def blocks(c: int, n: int, gn: bool = False) -> list[Any]:
        return [Block(c, gn) for _ in range(n)]

    latent = v.latent_channels
    if v.factor == 8:
        enc: list[Any] = [conv(3, 64), Block(64)]
    else:  # two strided stem convs take the first 4x
        enc = [conv(3, 32, stride=2), nn.ReLU(), conv(32, 64, stride=2), nn.ReLU(), Block(64)]
    for stage in range(3):
        enc += [conv(64, 64, stride=2, bias=False), *blocks(64, 3, gn=v.midblock_gn and stage == 2)]
    enc.append(conv(64, latent))

    widths = [64, 64, 64, 64] if v.factor == 8 else [256, 128, 64, 64, 64, 64]
    dec: list[Any] = [Clamp(), conv(latent, widths[0]), nn.ReLU()]
    for stage in range(len(widths) - 1):
        dec += [*blocks(widths[stage], 3, gn=v.midblock_gn and stage == 0), nn.Upsample(scale_factor=2),
                conv(widths[stage], widths[stage + 1], bias=False)]
    dec += [Block(widths[-1]), conv(widths[-1], 3)]
    return nn.Sequential(*enc), nn.Sequential(*dec)


class TaesdAdapter(TorchAutoencoderAdapter):
    """A TAESD-family tiny autoencoder from its original encoder/decoder .pth files."""

    info = AdapterInfo(family="tae", kind="continuous", value_range=(0.0, 1.0), spatial_compression=8,
                       bits_per_element=16, license="MIT",
                       description="TAESD family (taesd, taesdxl, taesd3, taef1, taef2, taesana) from original .pth files")

    def __init__(self, variant: str | None = None, weights: str | None = None, encoder: str | None = None,
                 decoder: str | None = None, device: str = "cpu", dtype: str = "fp32", batch_size: int = 4,
                 latent_bits: int = 16) -> None:
        super().__init__(device=device, dtype=dtype, batch_size=batch_size)
        if latent_bits not in (8, 16):
            raise AdapterArgumentError(f"tae: latent_bits must be 16 (fp16 latents) or 8 (TAESD's uint8 codes), got {latent_bits!r}")
        self.latent_bits = latent_bits
        variant = self._variant(variant, weights, encoder)
        if weights is not None:
            folder = Path(weights).expanduser()
            if not folder.is_dir():
                raise MissingWeightsError(f"tae: weights={weights!r} is not a folder; pass the folder holding "
                                          f"{variant}_encoder.pth and {variant}_decoder.pth")
            encoder = encoder or str(folder / f"{variant}_encoder.pth")
            decoder = decoder or str(folder / f"{variant}_decoder.pth")
        try:
            enc_path = resolve_url_file(encoder or SOURCE.format(variant=variant, part="encoder"), "taesd", PINS)
            dec_path = resolve_url_file(decoder or SOURCE.format(variant=variant, part="decoder"), "taesd", PINS)
        except MissingWeightsError as exc:
            raise MissingWeightsError(f"{exc} (tae: weights=FOLDER takes a folder holding {variant}_encoder.pth "
                                      f"and {variant}_decoder.pth; encoder=/decoder= take single files)") from None
        torch = require_torch()
        enc, dec = build(variant)
        for module, path in ((enc, enc_path), (dec, dec_path)):
            state = load_state_dict(path)
            try:
                module.load_state_dict(state, strict=True)
            except RuntimeError as exc:
                detail = " ".join(str(exc).split())[:300]
                raise TfbenchError(f"{path} does not hold {variant} weights (strict load failed: {detail}); "
                                   f"check variant= or the file") from None
        self.model = torch.nn.ModuleDict({"encoder": enc, "decoder": dec}).to(self.device, self.dtype).eval()
        self.variant = variant
        spec = VARIANTS[variant]
        self.info = replace(type(self).info, spatial_compression=spec.factor, latent_channels=spec.latent_channels,
                            bits_per_element=latent_bits,
                            description=f"{variant}: tiny autoencoder for the {spec.target} ({dtype_name(self.dtype)}"
                                        f"{', 8-bit latents' if latent_bits == 8 else ''})")

    @staticmethod
    def _variant(variant: str | None, weights: str | None, encoder: str | None) -> str:
        if variant is not None:
            if variant not in VARIANTS:
                raise AdapterArgumentError(f"tae: unknown variant {variant!r}; choose one of {', '.join(VARIANTS)}")
            return variant
        guessed = variant_from_name(encoder) if encoder else None
        if guessed is None and weights is not None and Path(weights).expanduser().is_dir():
            found = {variant_from_name(p.name) for p in Path(weights).expanduser().glob("*_encoder.pth")} - {None}
            guessed = found.pop() if len(found) == 1 else None
        if guessed is None:
            raise AdapterArgumentError(f"tae: cannot tell the variant from the file names; pass variant= "
                                       f"(one of {', '.join(VARIANTS)})")
        return guessed

    def _encode(self, x: Any) -> Any:
        z = self.model["encoder"](x)
        if self.latent_bits == 8:
            z = (z.float() / (2 * LATENT_MAGNITUDE) + LATENT_SHIFT).clamp(0, 1).mul(255).round().to(require_torch().uint8)
        return z

    def _decode(self, z: Any) -> Any:
        if not z.is_floating_point():  # 8-bit codes
            z = (z.float() / 255 - LATENT_SHIFT) * (2 * LATENT_MAGNITUDE)
        return self.model["decoder"](z.to(self.dtype))
