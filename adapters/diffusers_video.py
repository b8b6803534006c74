"""Video autoencoders from diffusers: CogVideoX, HunyuanVideo, Wan, LTX-Video, Cosmos.

``diffusers-video:pretrained=<hub id or folder>,cls=AutoencoderKLWan`` loads the VAE (safetensors only),
encodes each clip to its latent (distribution mode, or a seeded sample with ``sample=true``) and decodes
it back. Conventions handled here, per model:

- frame rule: causal video VAEs keep the first frame and compress the rest by the temporal factor k,
  so they take k*n+1 frames (4n+1: CogVideoX, HunyuanVideo, Wan; 8n+1: LTX-Video, Cosmos). A clip of
  another length is padded with its last frame and the reconstruction trimmed back;
- spatial size: padded (replicate) to a multiple of the spatial factor and cropped back;
- value range [-1, 1];
- latents: normalised as the generation pipelines do ((z - latents_mean) / latents_std x scaling_factor
  where the model defines mean/std, else (z - shift) x scaling_factor) and un-normalised before decoding;
- LTX-Video 0.9.1+ (timestep-conditioned decoder): decoded at ``decode_timestep`` (default 0.05) after
  mixing in ``decode_noise_scale`` (default: the timestep) of seeded noise, as its pipeline does.

Bits per pixel count every latent element at 16 bits over the frames actually encoded.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from tfbench.adapters.torch_common import (crop_to, dtype_name, parse_device, parse_dtype, pad_to_multiple,
                                           require_torch, resolve_hub_folder, to_model, to_protocol)
from tfbench.errors import AdapterArgumentError, AdapterError
from tfbench.protocol import Adapter, AdapterInfo, Compression, continuous_bpp
from tfbench.video.resize import frames_for_rule

# class name -> (temporal factor, spatial factor) used when the loaded model does not say
VIDEO_VAES: dict[str, tuple[int, int]] = {
    "AutoencoderKLCogVideoX": (4, 8),
    "AutoencoderKLHunyuanVideo": (4, 8),
    "AutoencoderKLWan": (4, 8),
    "AutoencoderKLLTXVideo": (8, 32),
    "AutoencoderKLCosmos": (8, 8),
}


def _read_class_name(folder: Path) -> str | None:
    cfg = folder / "config.json"
    if not cfg.is_file():
        return None
    try:
        return json.loads(cfg.read_text()).get("_class_name")
    except (OSError, json.JSONDecodeError):
        return None


def _factors(vae: Any, cls: str) -> tuple[int, int]:
    """(temporal, spatial) compression of a loaded model."""
    cfg = vae.config
    own = vars(vae)  # LTX-Video sets the ratios as attributes; the others keep them in config (getattr would warn)
    t = own.get("temporal_compression_ratio") or cfg.get("temporal_compression_ratio") \
        or cfg.get("scale_factor_temporal") or VIDEO_VAES[cls][0]
    s = own.get("spatial_compression_ratio") or cfg.get("spatial_compression_ratio") \
        or cfg.get("scale_factor_spatial")
    if not s and cfg.get("block_out_channels"):  # CogVideoX: one 2x downsampling between blocks
        s = 2 ** (len(cfg["block_out_channels"]) - 1)
    return int(t), int(s or VIDEO_VAES[cls][1])


class DiffusersVideoAdapter(Adapter):
    info = AdapterInfo(family="diffusers-video", kind="continuous", modality="video", value_range=(-1.0, 1.0),
                       bits_per_element=16,
                       description="diffusers video VAEs (" + ", ".join(VIDEO_VAES) + "); frame rule per model "
                                   "(4n+1 or 8n+1), pretrained=<hub id or folder>, cls=<class>",
                       license="per model")
    max_batch_size = 1
    max_frames = 17

    def __init__(self, pretrained: str, cls: str | None = None, subfolder: str | None = None,
                 revision: str | None = None, device: str = "cpu", dtype: str = "fp32", sample: bool = False,
                 seed: int = 0, tiling: bool = False, decode_timestep: float | None = None,
                 decode_noise_scale: float | None = None, max_frames: int = 17) -> None:
        torch = require_torch()
        import diffusers

        self.torch = torch
        self.device, self.dtype = parse_device(device), parse_dtype(dtype)
        if not isinstance(pretrained, str) or not pretrained:
            raise AdapterArgumentError("diffusers-video: pretrained=<hub id or local folder> is required")
        local = Path(pretrained).expanduser()
        if subfolder is None and local.is_dir() and not (local / "config.json").is_file() and (local / "vae" / "config.json").is_file():
            subfolder = "vae"
        elif subfolder is None and not local.exists() and not pretrained.startswith(("/", ".", "~")):
            subfolder = "vae"  # hub ids of video pipelines keep the VAE in vae/
        folder = resolve_hub_folder(pretrained, revision=revision, subfolder=subfolder)
        cls = cls or _read_class_name(folder)
        if cls not in VIDEO_VAES or not hasattr(diffusers, cls):
            have = [c for c in VIDEO_VAES if hasattr(diffusers, c)]
            raise AdapterArgumentError(f"diffusers-video: cls={cls!r} is not a supported video VAE in diffusers "
                                       f"{diffusers.__version__}; use one of {', '.join(have)}")
        if not isinstance(max_frames, int) or max_frames < 1:
            raise AdapterArgumentError(f"diffusers-video: max_frames must be a positive integer, got {max_frames!r}")
        verbosity = diffusers.utils.logging.get_verbosity()
        diffusers.utils.logging.set_verbosity_error()  # no "install accelerate" advice on every load
        try:
            vae = getattr(diffusers, cls).from_pretrained(str(folder), torch_dtype=self.dtype)
        except (OSError, ValueError, RuntimeError) as exc:
            raise AdapterError(f"diffusers-video: cannot load {cls} from {folder}: {exc}") from exc
        finally:
            diffusers.utils.logging.set_verbosity(verbosity)
        self.vae = vae.to(self.device).eval()
        if tiling:
            self.vae.enable_tiling()
        self.cls = cls
        self.temporal, self.spatial = _factors(self.vae, cls)
        self.sample, self.seed = bool(sample), int(seed)
        self.max_frames = max_frames
        cfg = self.vae.config
        self.timestep_conditioning = bool(cfg.get("timestep_conditioning", False))
        if self.timestep_conditioning:
            self.decode_timestep = 0.05 if decode_timestep is None else float(decode_timestep)
            self.decode_noise_scale = self.decode_timestep if decode_noise_scale is None else float(decode_noise_scale)
        elif decode_timestep is not None or decode_noise_scale is not None:
            raise AdapterArgumentError(f"diffusers-video: {cls} from {pretrained} has no timestep-conditioned decoder; "
                                       f"drop decode_timestep/decode_noise_scale")
        else:
            self.decode_timestep = self.decode_noise_scale = None
        self.latent_channels = int(cfg.get("latent_channels") or cfg.get("z_dim") or 0) or None
        self.scaling = float(cfg.get("scaling_factor") or 1.0)
        self.shift = float(cfg.get("shift_factor") or 0.0)
        self.mean, self.std = self._stats()
        self.pretrained = pretrained
        self.info = AdapterInfo(
            family="diffusers-video", kind="continuous", modality="video", value_range=(-1.0, 1.0),
            spatial_compression=self.spatial, temporal_compression=self.temporal,
            latent_channels=self.latent_channels, bits_per_element=16, frame_rule=f"{self.temporal}n+1",
            description=f"{cls} ({pretrained}), {dtype_name(self.dtype)}, latent "
                        f"{'sample' if self.sample else 'mode'}", license="per model")

    def _stats(self) -> tuple[Any, Any]:
        """latents_mean/std as (1, C, T or 1, 1, 1) tensors, or (None, None) where the model has none."""
        torch = self.torch
        buffers = dict(self.vae.named_buffers(recurse=False))  # LTX-Video keeps them as buffers, others in config
        mean = buffers.get("latents_mean", self.vae.config.get("latents_mean"))
        std = buffers.get("latents_std", self.vae.config.get("latents_std"))
        if mean is None or std is None or not self.latent_channels:
            return None, None
        as_t = lambda v: torch.as_tensor(v, dtype=torch.float32, device=self.device).reshape(1, self.latent_channels, -1, 1, 1)  # noqa: E731
        return as_t(mean), as_t(std)

    def _per_frame(self, stat: Any, frames: int) -> Any:
        if stat.shape[2] in (1, frames):
            return stat
        if stat.shape[2] < frames:
            raise AdapterError(f"{self.spec or 'diffusers-video'}: {self.cls} defines latents_mean/std for "
                               f"{stat.shape[2]} latent frames but the clip has {frames}; use fewer frames (max_frames)")
        return stat[:, :, :frames]

    def _normalize(self, z: Any) -> Any:
        if self.mean is not None:
            t = z.shape[2]
            return (z.float() - self._per_frame(self.mean, t)) * self.scaling / self._per_frame(self.std, t)
        return (z.float() - self.shift) * self.scaling

    def _denormalize(self, z: Any) -> Any:
        if self.mean is not None:
            t = z.shape[2]
            return z * self._per_frame(self.std, t) / self.scaling + self._per_frame(self.mean, t)
        return z / self.scaling + self.shift

    def encode(self, batch: np.ndarray) -> dict[str, Any]:
        torch = self.torch
        n, t = batch.shape[:2]
        padded_t = frames_for_rule(t, self.info.frame_rule)
        x = to_model(batch, self.device, self.dtype, (-1.0, 1.0))  # (N, 3, T, H, W)
        if padded_t > t:  # repeat the last frame up to the model's k*n+1 rule
            x = torch.cat([x, x[:, :, -1:].expand(-1, -1, padded_t - t, -1, -1)], dim=2)
        x, hw = pad_to_multiple(x, self.spatial)
        with torch.inference_mode():
            out = self.vae.encode(x)
            dist = out.latent_dist if hasattr(out, "latent_dist") else out[0]
            if self.sample:
                gen = torch.Generator(device=self.device).manual_seed(self.seed)
                z = dist.sample(generator=gen)
            else:
                z = dist.mode()
        return {"z": self._normalize(z), "frames": t, "padded_frames": padded_t, "hw": hw,
                "pixels": padded_t * x.shape[-2] * x.shape[-1]}

    def decode(self, latent: dict[str, Any]) -> np.ndarray:
        torch = self.torch
        z = self._denormalize(latent["z"]).to(self.dtype)
        with torch.inference_mode():
            if self.timestep_conditioning:
                if self.decode_noise_scale:
                    gen = torch.Generator(device=self.device).manual_seed(self.seed)
                    noise = torch.randn(z.shape, generator=gen, device=self.device, dtype=z.dtype)
                    z = (1 - self.decode_noise_scale) * z + self.decode_noise_scale * noise
                temb = torch.full((z.shape[0],), self.decode_timestep, device=self.device, dtype=z.dtype)
                y = self.vae.decode(z, temb=temb).sample
            else:
                y = self.vae.decode(z).sample
        if y.shape[2] < latent["frames"]:
            raise AdapterError(f"{self.spec or 'diffusers-video'}: {self.cls} decoded {y.shape[2]} frames from "
                               f"{latent['padded_frames']} input frames (rule {self.info.frame_rule})")
        y = crop_to(y[:, :, :latent["frames"]], latent["hw"])
        return to_protocol(y, self.info.value_range, self.spec or "diffusers-video")

    def compression(self, latent: dict[str, Any], batch_shape: tuple[int, ...]) -> list[Compression]:
        shape = tuple(int(v) for v in latent["z"].shape[1:])
        bpp = continuous_bpp(shape, latent["pixels"], 16)
        return [Compression(latent_shape=shape, bits_per_pixel=bpp,
                            bpp_basis=f"latent elements x 16 bits over {latent['padded_frames']} encoded frames")
                for _ in range(batch_shape[0])]

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "cls": self.cls, "pretrained": self.pretrained, "sample": self.sample,
                "decode_timestep": self.decode_timestep, "decode_noise_scale": self.decode_noise_scale,
                "latents_normalized": "mean/std" if self.mean is not None else "scaling/shift"}

    def close(self) -> None:
        self.vae = None
