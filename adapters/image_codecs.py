"""Classic image codecs through Pillow (JPEG, WebP, AVIF), reporting the real bits per pixel."""
from __future__ import annotations

import io

import numpy as np
from PIL import Image, features

from tfbench.errors import AdapterArgumentError, TfbenchError
from tfbench.protocol import Adapter, AdapterInfo, Compression


def to_uint8(batch: np.ndarray) -> np.ndarray:
    """[0, 1] float -> uint8 with rounding (what any 8-bit codec sees)."""
    return np.clip(np.rint(batch * 255.0), 0, 255).astype(np.uint8)


class PillowCodecAdapter(Adapter):
    """Encode each image to a real bitstream with Pillow and decode it back."""

    format: str = ""
    max_batch_size = 16

    def __init__(self, quality: int = 75) -> None:
        if not isinstance(quality, int) or isinstance(quality, bool) or not 0 <= quality <= 100:
            raise AdapterArgumentError(f"{self.info.family}: quality must be an integer in 0..100, got {quality!r}")
        self.quality = quality

    def _save_kwargs(self) -> dict:
        return {"quality": self.quality}

    def encode(self, batch: np.ndarray) -> list[bytes]:
        streams = []
        for img in to_uint8(batch):
            buf = io.BytesIO()
            Image.fromarray(img, "RGB").save(buf, format=self.format, **self._save_kwargs())
            streams.append(buf.getvalue())
        return streams

    def decode(self, latent: list[bytes]) -> np.ndarray:
        out = [np.asarray(Image.open(io.BytesIO(s)).convert("RGB"), dtype=np.float32) / 255.0 for s in latent]
        return np.stack(out)

    def compression(self, latent: list[bytes], batch_shape: tuple[int, ...]) -> list[Compression]:
        pixels = batch_shape[1] * batch_shape[2]
        return [Compression(latent_shape=(len(s),), bits_per_pixel=len(s) * 8 / pixels,
                            bpp_basis="measured bitstream bytes incl. headers") for s in latent]


class JpegAdapter(PillowCodecAdapter):
    info = AdapterInfo(family="jpeg", kind="codec", description="baseline JPEG (libjpeg via Pillow), 4:2:0")
    format = "JPEG"

    def _save_kwargs(self) -> dict:
        return {"quality": self.quality, "subsampling": 2}


class WebpAdapter(PillowCodecAdapter):
    info = AdapterInfo(family="webp", kind="codec", description="lossy WebP (libwebp via Pillow), method 4")
    format = "WEBP"

    def _save_kwargs(self) -> dict:
        return {"quality": self.quality, "method": 4}


class AvifAdapter(PillowCodecAdapter):
    info = AdapterInfo(family="avif", kind="codec", description="AVIF (libavif/aom via Pillow), speed 6")
    format = "AVIF"

    def __init__(self, quality: int = 50, speed: int = 6) -> None:
        if not features.check("avif"):
            raise TfbenchError("avif: this Pillow build has no AVIF support; install Pillow>=11.3 wheels")
        super().__init__(quality)
        if not isinstance(speed, int) or not 0 <= speed <= 10:
            raise AdapterArgumentError(f"avif: speed must be an integer in 0..10, got {speed!r}")
        self.speed = speed

    def _save_kwargs(self) -> dict:
        return {"quality": self.quality, "speed": self.speed}
