"""diffusers image autoencoders: AutoencoderKL (and the FLUX.2 variant), AutoencoderTiny, AutoencoderDC, VQModel.

Each family is loaded from a hub id or a local folder (``pretrained=..., subfolder=vae, revision=...``) and
follows the diffusers conventions: images in [-1, 1]; KL latents are the deterministic ``latent_dist.mode()``;
``scale_latents=true`` applies ``scaling_factor`` *and* ``shift_factor`` (the latent the diffusion model
sees), otherwise neither; VQModel latents are the integer code indices, looked up in the codebook at decode.
"""
from __future__ import annotations

import importlib.util
import json
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

from tfbench.adapters.torch_adapter import TorchAutoencoderAdapter
from tfbench.adapters.torch_common import dtype_name, require_torch, resolve_hub_folder
from tfbench.errors import AdapterArgumentError, MissingWeightsError, TfbenchError
from tfbench.protocol import AdapterInfo

# diffusers class name -> tfbench family that loads it
CLASS_FAMILY = {
    "AutoencoderKL": "diffusers-kl",
    "AutoencoderKLFlux2": "diffusers-kl",
    "AutoencoderTiny": "diffusers-tiny",
    "AutoencoderDC": "diffusers-dc",
    "VQModel": "diffusers-vq",
}


def read_class_name(folder: Path) -> str:
    """The ``_class_name`` of a diffusers model folder's config.json."""
    cfg = folder / "config.json"
    if not cfg.is_file():
        raise MissingWeightsError(f"{folder} has no config.json; point pretrained= at a diffusers model folder "
                                  f"(or set subfolder=vae for a pipeline repository)")
    try:
        name = json.loads(cfg.read_text()).get("_class_name")
    except (json.JSONDecodeError, AttributeError) as exc:
        raise TfbenchError(f"{cfg}: not a readable diffusers config ({exc})") from exc
    if not isinstance(name, str):
        raise TfbenchError(f"{cfg}: no _class_name; is this a diffusers model folder?")
    return name


def _spatial_compression(model: Any) -> int:
    ratio = getattr(model, "spatial_compression_ratio", None)
    if isinstance(ratio, int) and ratio > 0:
        return ratio
    cfg = model.config
    channels = getattr(cfg, "encoder_block_out_channels", None) or getattr(cfg, "block_out_channels")
    return 2 ** (len(channels) - 1)


class DiffusersImageAdapter(TorchAutoencoderAdapter):
    """Common loading for the diffusers image families; subclasses declare which classes they take."""

    classes: ClassVar[tuple[str, ...]] = ()

    def __init__(self, pretrained: str, subfolder: str | None = None, revision: str | None = None,
                 dtype: str = "fp32", device: str = "cpu", batch_size: int = 4, tiling: bool = False,
                 slicing: bool = False, scale_latents: bool = False) -> None:
        super().__init__(device=device, dtype=dtype, batch_size=batch_size)
        if not isinstance(pretrained, str) or not pretrained:
            raise AdapterArgumentError(f"{self.info.family}: pretrained= must name a hub id or a local folder")
        folder = resolve_hub_folder(pretrained, revision=revision, subfolder=subfolder)
        if subfolder is None and not (folder / "config.json").is_file() and (folder / "vae" / "config.json").is_file():
            folder = folder / "vae"  # a local pipeline folder: its VAE
        class_name = read_class_name(folder)
        if class_name not in self.classes:
            other = CLASS_FAMILY.get(class_name)
            hint = f"; use the {other!r} family" if other else f"; {self.info.family} loads {', '.join(self.classes)}"
            raise AdapterArgumentError(f"{folder} holds a diffusers {class_name}{hint}")
        import diffusers

        fast_init = importlib.util.find_spec("accelerate") is not None  # diffusers warns when asked without it
        try:
            model = getattr(diffusers, class_name).from_pretrained(folder, torch_dtype=self.dtype,
                                                                   low_cpu_mem_usage=fast_init)
        except (OSError, ValueError, RuntimeError) as exc:
            raise TfbenchError(f"cannot load {class_name} from {folder}: {str(exc).splitlines()[0][:300]}") from exc
        requested = self.dtype
        if self.dtype == require_torch().float16 and getattr(model.config, "force_upcast", False):
            self.dtype = require_torch().float32  # as diffusers pipelines do: this VAE overflows in fp16
            model = model.to(self.dtype)
        self.model = model.to(self.device).eval()
        for flag, method in ((tiling, "enable_tiling"), (slicing, "enable_slicing")):
            if flag:
                if not hasattr(self.model, method):
                    raise AdapterArgumentError(f"{class_name} does not support {method.removeprefix('enable_')}")
                getattr(self.model, method)()
        cfg = self.model.config
        self.scale: tuple[float, float] | None = None
        if scale_latents:
            factor = getattr(cfg, "scaling_factor", None)
            if factor is None:
                raise AdapterArgumentError(f"{class_name} config has no scaling_factor; leave scale_latents off")
            self.scale = (float(factor), float(getattr(cfg, "shift_factor", None) or 0.0))
        self.class_name = class_name
        self.info = replace(
            type(self).info,
            spatial_compression=_spatial_compression(self.model),
            latent_channels=int(getattr(cfg, "vq_embed_dim", None) or cfg.latent_channels),
            codebook_size=int(cfg.num_vq_embeddings) if self.info.kind == "discrete" else None,
            description=f"{class_name} {pretrained}{'/' + subfolder if subfolder else ''}"
                        f"{'@' + revision if revision else ''} ({dtype_name(self.dtype)}"
                        f"{', fp16 requested but config force_upcast' if requested != self.dtype else ''}"
                        f"{', tiled' if tiling else ''}{', sliced' if slicing else ''})",
        )

    def _scaled(self, z: Any) -> Any:
        return z if self.scale is None else (z - self.scale[1]) * self.scale[0]

    def _unscaled(self, z: Any) -> Any:
        return z if self.scale is None else z / self.scale[0] + self.scale[1]

    def _decode(self, z: Any) -> Any:
        return self.model.decode(self._unscaled(z).to(self.dtype)).sample


class DiffusersKLAdapter(DiffusersImageAdapter):
    info = AdapterInfo(family="diffusers-kl", kind="continuous", value_range=(-1.0, 1.0), spatial_compression=8,
                       bits_per_element=16, description="diffusers AutoencoderKL / AutoencoderKLFlux2 (SD, SDXL, SD3, FLUX)")
    classes = ("AutoencoderKL", "AutoencoderKLFlux2")

    def _encode(self, x: Any) -> Any:
        return self._scaled(self.model.encode(x).latent_dist.mode())


class DiffusersTinyAdapter(DiffusersImageAdapter):
    info = AdapterInfo(family="diffusers-tiny", kind="continuous", value_range=(-1.0, 1.0), spatial_compression=8,
                       bits_per_element=16, description="diffusers AutoencoderTiny (TAESD in diffusers format)")
    classes = ("AutoencoderTiny",)

    def _encode(self, x: Any) -> Any:
        return self._scaled(self.model.encode(x).latents)


class DiffusersDCAdapter(DiffusersImageAdapter):
    info = AdapterInfo(family="diffusers-dc", kind="continuous", value_range=(-1.0, 1.0), spatial_compression=32,
                       bits_per_element=16, description="diffusers AutoencoderDC (Deep Compression AE, Sana)")
    classes = ("AutoencoderDC",)

    def _encode(self, x: Any) -> Any:
        return self._scaled(self.model.encode(x).latent)


class DiffusersVQAdapter(DiffusersImageAdapter):
    info = AdapterInfo(family="diffusers-vq", kind="discrete", value_range=(-1.0, 1.0), spatial_compression=4,
                       description="diffusers VQModel: latents are code indices, looked up in the codebook at decode")
    classes = ("VQModel",)

    def __init__(self, pretrained: str, subfolder: str | None = None, revision: str | None = None,
                 dtype: str = "fp32", device: str = "cpu", batch_size: int = 4) -> None:
        super().__init__(pretrained, subfolder=subfolder, revision=revision, dtype=dtype, device=device,
                         batch_size=batch_size)

    def _encode(self, x: Any) -> Any:
        h = self.model.encode(x).latents
        _, _, (_, _, indices) = self.model.quantize(h)
        n, _, gh, gw = h.shape
        return indices.reshape(n, gh, gw).long()

    def _decode(self, codes: Any) -> Any:
        torch = require_torch()
        n, gh, gw = codes.shape
        quant = self.model.quantize.get_codebook_entry(codes.reshape(-1), (n, gh, gw, self.info.latent_channels))
        return self.model.decode(quant.to(self.dtype), force_not_quantize=True).sample.to(torch.float32)
