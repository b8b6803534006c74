"""Model zoo: named presets mapping to a family, where its weights come from, and their licence.

``tfbench run --adapter flux1-vae`` downloads the weights once into ``$TFBENCH_CACHE/weights`` (default under
the user cache dir) and reuses them; any argument of the family overrides the preset, so a local copy wins:
``flux1-vae:pretrained=/models/flux1/vae`` or ``taef2:weights=/path/to/folder``. Imported lazily by the
registry (``tfbench.adapters.zoo``); it only registers names, it loads nothing.
"""
from __future__ import annotations

from tfbench.adapters.taesd import SOURCE as TAESD_SOURCE
from tfbench.adapters.taesd import VARIANTS as TAESD_VARIANTS
from tfbench.registry import Preset, register_preset

GATED = " Gated on the hub: accept the licence there and set HF_TOKEN before the first run."

DIFFUSERS_PRESETS: list[tuple[str, str, str, str | None, int, int, str, str]] = [
    # name, family, hub id, subfolder, spatial compression, latent channels, licence, description
    ("sd-vae-ft-mse", "diffusers-kl", "stabilityai/sd-vae-ft-mse", None, 8, 4, "MIT",
     "Stable Diffusion 1.x VAE, MSE-finetuned decoder (f8, 4 channels)"),
    ("sdxl-vae", "diffusers-kl", "stabilityai/sdxl-vae", None, 8, 4, "MIT", "SDXL VAE (f8, 4 channels)"),
    ("sd3-vae", "diffusers-kl", "stabilityai/stable-diffusion-3-medium-diffusers", "vae", 8, 16,
     "stabilityai-ai-community", "Stable Diffusion 3 VAE (f8, 16 channels)." + GATED),
    ("flux1-vae", "diffusers-kl", "black-forest-labs/FLUX.1-schnell", "vae", 8, 16, "Apache-2.0",
     "FLUX.1 VAE (f8, 16 channels; the same VAE as FLUX.1-dev)"),
    ("flux2-vae", "diffusers-kl", "black-forest-labs/FLUX.2-klein-4B", "vae", 8, 32,
     "Apache-2.0",
     "FLUX.2 VAE, AutoencoderKLFlux2 (f8, 32 channels; the same VAE as FLUX.2-dev)"),
    ("dc-ae-f32c32", "diffusers-dc", "mit-han-lab/dc-ae-f32c32-sana-1.1-diffusers", None, 32, 32, "MIT",
     "Deep Compression AutoEncoder of Sana 1.1 (f32, 32 channels)"),
    ("taesd-diffusers", "diffusers-tiny", "madebyollin/taesd", None, 8, 4, "MIT",
     "TAESD in diffusers format (AutoencoderTiny, f8, 4 channels)"),
]


# Video VAEs of the `diffusers-video` family (adapters/diffusers_video.py): f8 spatial, 4x temporal (4n+1 frames).
VIDEO_PRESETS: list[tuple[str, str, str, str, str, str]] = [
    # name, hub id, subfolder, diffusers class, licence, description
    ("cogvideox-vae", "THUDM/CogVideoX-2b", "vae", "AutoencoderKLCogVideoX", "Apache-2.0",
     "CogVideoX VAE (f8, 4x temporal, 16 channels)"),
    ("hunyuan-video-vae", "hunyuanvideo-community/HunyuanVideo", "vae", "AutoencoderKLHunyuanVideo",
     "tencent-hunyuan-community", "HunyuanVideo VAE (f8, 4x temporal, 16 channels)"),
    ("wan2.1-vae", "Wan-AI/Wan2.1-T2V-1.3B-Diffusers", "vae", "AutoencoderKLWan", "Apache-2.0",
     "Wan 2.1 VAE (f8, 4x temporal, 16 channels)"),
]


def _hub_spec(family: str, repo: str, subfolder: str | None) -> str:
    return f"{family}:pretrained={repo}" + (f",subfolder={subfolder}" if subfolder else "")


def register_all() -> None:
    for name, family, repo, subfolder, factor, channels, licence, description in DIFFUSERS_PRESETS:
        register_preset(Preset(
            name=name, spec=_hub_spec(family, repo, subfolder), description=description, license=licence,
            source=f"https://huggingface.co/{repo}" + (f"/tree/main/{subfolder}" if subfolder else ""),
            extra={"info": {"spatial_compression": factor, "latent_channels": channels}}))
    for name, repo, subfolder, cls, licence, description in VIDEO_PRESETS:
        register_preset(Preset(
            name=name, spec=_hub_spec("diffusers-video", repo, subfolder) + f",cls={cls}", description=description,
            license=licence, source=f"https://huggingface.co/{repo}/tree/main/{subfolder}",
            extra={"info": {"spatial_compression": 8, "temporal_compression": 4, "latent_channels": 16}}))
    for variant, v in TAESD_VARIANTS.items():
        register_preset(Preset(
            name=variant, spec=f"tae:variant={variant}", license="MIT",
            description=f"tiny autoencoder for the {v.target} (f{v.factor}, {v.latent_channels} channels), original .pth",
            source=TAESD_SOURCE.format(variant=variant, part="{encoder,decoder}"),
            extra={"info": {"spatial_compression": v.factor, "latent_channels": v.latent_channels}}))


register_all()
