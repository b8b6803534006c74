"""taming-transformers VQGAN from its config YAML and checkpoint, without PyTorch Lightning.

``taming.models.vqgan`` imports Lightning (and breaks with current versions), so the model is composed here
from the package's pure-torch modules: ``Encoder``/``Decoder`` (``taming.modules.diffusionmodules.model``)
built from the config's ``ddconfig``, the 1x1 quant/post-quant convs and ``VectorQuantizer``
(``taming.modules.vqvae.quantize``). The checkpoint's tensors are read without running code from it, the
training-loss keys (``loss.*``: LPIPS, discriminator) are dropped and the rest loads with ``strict=True``.
Images are in [-1, 1]; the latent is the grid of code indices.

Install: ``pip install --no-deps taming-transformers==0.0.1`` (its metadata asks for torchvision and
pytorch-lightning, which this adapter does not use).
"""
from __future__ import annotations

import contextlib
import io
from dataclasses import replace
from pathlib import Path
from typing import Any

from tfbench.adapters.torch_adapter import TorchAutoencoderAdapter
from tfbench.adapters.torch_common import dtype_name, load_state_dict, require_torch, resolve_url_file
from tfbench.errors import AdapterArgumentError, TfbenchError
from tfbench.protocol import AdapterInfo

SUPPORTED_TARGETS = ("taming.models.vqgan.VQModel",)
INSTALL_HINT = "pip install --no-deps taming-transformers==0.0.1"
DROPPED_PREFIXES = ("loss.",)


def read_config(path: Path) -> tuple[dict[str, Any], int, int]:
    """(ddconfig, n_embed, embed_dim) from a taming config YAML, checked."""
    import yaml

    try:
        doc = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise TfbenchError(f"{path}: not a readable YAML file ({exc})") from exc
    model = (doc or {}).get("model") if isinstance(doc, dict) else None
    if not isinstance(model, dict) or not isinstance(model.get("params"), dict):
        raise TfbenchError(f"{path}: expected a taming config with model.target and model.params")
    target = model.get("target", "")
    if target not in SUPPORTED_TARGETS:
        raise AdapterArgumentError(f"{path}: model.target {target!r} is not supported; this adapter builds "
                                   f"{', '.join(SUPPORTED_TARGETS)} (VectorQuantizer). Gumbel/EMA variants are not supported")
    params = model["params"]
    missing = [k for k in ("ddconfig", "n_embed", "embed_dim") if k not in params]
    if missing:
        raise TfbenchError(f"{path}: model.params lacks {', '.join(missing)}")
    dd = dict(params["ddconfig"])
    for key in ("ch", "out_ch", "ch_mult", "num_res_blocks", "attn_resolutions", "in_channels", "resolution", "z_channels"):
        if key not in dd:
            raise TfbenchError(f"{path}: model.params.ddconfig lacks {key!r}")
    return dd, int(params["n_embed"]), int(params["embed_dim"])


def build_vqgan(ddconfig: dict[str, Any], n_embed: int, embed_dim: int) -> Any:
    """An ``nn.Module`` whose parameter names match a taming VQModel checkpoint (without ``loss.*``)."""
    torch = require_torch()
    try:
        from taming.modules.diffusionmodules.model import Decoder, Encoder
        from taming.modules.vqvae.quantize import VectorQuantizer
    except ModuleNotFoundError as exc:
        raise TfbenchError(f"taming-vqgan needs the taming-transformers package: {INSTALL_HINT}") from exc
    model = torch.nn.Module()
    with contextlib.redirect_stdout(io.StringIO()):  # the Decoder prints the z shape
        model.encoder = Encoder(**ddconfig)
        model.decoder = Decoder(**ddconfig)
    model.quantize = VectorQuantizer(n_embed, embed_dim, beta=0.25)
    model.quant_conv = torch.nn.Conv2d(ddconfig["z_channels"], embed_dim, 1)
    model.post_quant_conv = torch.nn.Conv2d(embed_dim, ddconfig["z_channels"], 1)
    return model


class TamingVQGANAdapter(TorchAutoencoderAdapter):
    """taming-transformers VQGAN (Esser et al. 2021) from config YAML + checkpoint."""

    info = AdapterInfo(family="taming-vqgan", kind="discrete", value_range=(-1.0, 1.0), spatial_compression=16,
                       license="MIT (code); weights: see their source",
                       description="taming-transformers VQGAN from config YAML + checkpoint (no Lightning)")

    def __init__(self, config: str, checkpoint: str, device: str = "cpu", dtype: str = "fp32", batch_size: int = 4) -> None:
        super().__init__(device=device, dtype=dtype, batch_size=batch_size)
        cfg_path = resolve_url_file(config, "taming")
        ddconfig, n_embed, embed_dim = read_config(cfg_path)
        ckpt_path = resolve_url_file(checkpoint, "taming")
        model = build_vqgan(ddconfig, n_embed, embed_dim)
        state = {k: v for k, v in load_state_dict(ckpt_path).items() if not k.startswith(DROPPED_PREFIXES)}
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            detail = " ".join(str(exc).split())[:300]
            raise TfbenchError(f"{ckpt_path} does not match {cfg_path} (strict load failed: {detail})") from None
        self.model = model.to(self.device, self.dtype).eval()
        self.info = replace(type(self).info, spatial_compression=2 ** (len(ddconfig["ch_mult"]) - 1),
                            latent_channels=embed_dim, codebook_size=n_embed,
                            description=f"taming VQGAN {cfg_path.name} + {ckpt_path.name}, {n_embed} codes "
                                        f"({dtype_name(self.dtype)})")

    def _encode(self, x: Any) -> Any:
        h = self.model.quant_conv(self.model.encoder(x))
        _, _, (_, _, indices) = self.model.quantize(h)
        n, _, gh, gw = h.shape
        return indices.reshape(n, gh, gw).long()

    def _decode(self, codes: Any) -> Any:
        quant = self.model.quantize.embedding(codes).permute(0, 3, 1, 2).contiguous()
        return self.model.decoder(self.model.post_quant_conv(quant.to(self.dtype)))
