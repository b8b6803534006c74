"""Video codecs through PyAV (FFmpeg): H.264 (x264), H.265 (x265), AV1 (SVT-AV1), VP9 (libvpx).

Each clip of a batch is encoded as one raw elementary stream (no container) with the codec's
constant-quality mode (``crf``) and ``preset``, then decoded with FFmpeg's decoder. Bits per pixel
are measured on the real packets: stream bytes x 8 / (frames x height x width). Encoders run with a
fixed thread count so that a run is reproducible.
"""
from __future__ import annotations

import os
from fractions import Fraction
from typing import Any, ClassVar

import numpy as np

from tfbench.errors import AdapterArgumentError, TfbenchError
from tfbench.protocol import Adapter, AdapterInfo, Compression


def _to_uint8(batch: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(batch * 255.0), 0, 255).astype(np.uint8)


class VideoCodecAdapter(Adapter):
    """Encode each (T, H, W, 3) clip of a batch to a bitstream and decode it back."""

    encoder: ClassVar[str] = ""
    decoder: ClassVar[str] = ""
    crf_range: ClassVar[tuple[int, int]] = (0, 51)
    default_preset: ClassVar[str | int] = "medium"
    min_side: ClassVar[int] = 16  # smaller frames are padded (edge replicate) to this and cropped back
    max_batch_size = 1
    max_frames = 33

    def __init__(self, crf: int = 23, preset: str | int | None = None, threads: int = 1, fps: int = 25) -> None:
        lo, hi = self.crf_range
        family = self.info.family
        if isinstance(crf, bool) or not isinstance(crf, int) or not lo <= crf <= hi:
            raise AdapterArgumentError(f"{family}: crf must be an integer in {lo}..{hi}, got {crf!r}")
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
            raise AdapterArgumentError(f"{family}: threads must be a positive integer, got {threads!r}")
        if isinstance(fps, bool) or not isinstance(fps, int) or fps < 1:
            raise AdapterArgumentError(f"{family}: fps must be a positive integer, got {fps!r}")
        try:
            import av
        except ImportError as exc:  # pragma: no cover - depends on the extra
            raise TfbenchError(f"{family} needs PyAV: pip install 'tfbench[video]'") from exc
        if self.encoder not in av.codecs_available:
            raise TfbenchError(f"{family}: this PyAV/FFmpeg build has no {self.encoder} encoder; install the PyAV "
                               f"wheels from PyPI (they ship libx264, libx265, libsvtav1 and libvpx)")
        self._av = av
        self.crf = crf
        self.preset = self.default_preset if preset is None else preset
        self.threads = threads
        self.fps = fps

    def _options(self) -> dict[str, str]:
        return {"crf": str(self.crf), "preset": str(self.preset)}

    def _encode_clip(self, clip: np.ndarray) -> list[bytes]:
        """(T, H, W, 3) float clip in [0, 1] -> packets; frames are converted to 8 bit one at a time."""
        av = self._av
        t, h, w = clip.shape[:3]
        # yuv420p needs even sizes, and encoders misbehave on tiny frames: pad by repeating the last row/column
        h2, w2 = max(h + h % 2, self.min_side), max(w + w % 2, self.min_side)
        enc = av.CodecContext.create(self.encoder, "w")
        enc.width, enc.height, enc.pix_fmt = w2, h2, "yuv420p"
        enc.time_base, enc.framerate = Fraction(1, self.fps), Fraction(self.fps, 1)
        # threads go through the `threads` option; setting CodecContext.thread_count as well corrupted the heap
        # (PyAV 18: x264 then x265 in one process aborted with "free(): invalid next size")
        enc.options = {"threads": str(self.threads), **self._options()}
        packets: list[Any] = []
        for i in range(t):
            rgb = _to_uint8(clip[i])
            if (h2, w2) != (h, w):
                rgb = np.pad(rgb, ((0, h2 - h), (0, w2 - w), (0, 0)), mode="edge")
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24").reformat(format="yuv420p")
            frame.pts = i
            packets += enc.encode(frame)
        packets += enc.encode(None)
        return [bytes(p) for p in packets]

    def _decode_clip(self, packets: list[bytes], out: np.ndarray) -> None:
        """Decode packets into ``out`` ((T, H, W, 3) float32 in [0, 1]), one frame at a time."""
        av = self._av
        t, h, w = out.shape[:3]
        dec = av.CodecContext.create(self.decoder, "r")
        dec.options = {"threads": "1"}
        frames: list[Any] = []
        for data in packets:
            frames += dec.decode(av.Packet(data))
        frames += dec.decode(None)
        if len(frames) != t:
            raise TfbenchError(f"{self.spec or self.info.family}: decoded {len(frames)} frames from a stream of {t}")
        for i, f in enumerate(frames):
            np.multiply(f.to_ndarray(format="rgb24")[:h, :w], np.float32(1.0 / 255.0), out=out[i])

    def encode(self, batch: np.ndarray) -> list[dict[str, Any]]:
        return [{"packets": self._encode_clip(clip), "shape": clip.shape[:3]} for clip in batch]

    def decode(self, latent: list[dict[str, Any]]) -> np.ndarray:
        t, h, w = latent[0]["shape"]
        out = np.empty((len(latent), t, h, w, 3), dtype=np.float32)
        for k, item in enumerate(latent):
            if tuple(item["shape"]) != (t, h, w):
                raise TfbenchError(f"{self.spec or self.info.family}: clips of one batch must share a shape")
            self._decode_clip(item["packets"], out[k])
        return out

    def compression(self, latent: list[dict[str, Any]], batch_shape: tuple[int, ...]) -> list[Compression]:
        out = []
        for item in latent:
            t, h, w = item["shape"]
            nbytes = sum(len(p) for p in item["packets"])
            out.append(Compression(latent_shape=(nbytes,), bits_per_pixel=nbytes * 8 / (t * h * w),
                                   bpp_basis="measured elementary-stream bytes (no container)"))
        return out

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "crf": self.crf, "preset": self.preset, "encoder": self.encoder}


class H264Adapter(VideoCodecAdapter):
    info = AdapterInfo(family="h264", kind="codec", modality="video", frame_rule=None,
                       description="H.264/AVC (x264 via PyAV), yuv420p, crf 0-51, preset ultrafast..veryslow",
                       license="GPL-2.0 (x264)")
    encoder, decoder = "libx264", "h264"

    def _options(self) -> dict[str, str]:
        # cpu-independent: x264's own switch for exact reproducibility; without it this build's SIMD paths gave a
        # different stream on most runs of the same real footage (mbtree/AQ), so scores drifted between runs
        return {**super()._options(), "x264-params": "cpu-independent=1"}


class H265Adapter(VideoCodecAdapter):
    info = AdapterInfo(family="h265", kind="codec", modality="video", frame_rule=None,
                       description="H.265/HEVC (x265 via PyAV), yuv420p, crf 0-51, preset ultrafast..veryslow",
                       license="GPL-2.0 (x265)")
    encoder, decoder = "libx265", "hevc"
    min_side = 64  # x265 (PyAV 18 wheels) corrupted the heap on frames narrower than its 64-pixel CTU

    def _options(self) -> dict[str, str]:
        return {**super()._options(), "x265-params": f"log-level=error:pools={self.threads}:frame-threads=1"}


class Av1Adapter(VideoCodecAdapter):
    info = AdapterInfo(family="av1", kind="codec", modality="video", frame_rule=None,
                       description="AV1 (SVT-AV1 via PyAV, decoded with dav1d), crf 0-63, preset 0-13 (fast = high)",
                       license="BSD-3-Clause-Clear (SVT-AV1)")
    encoder = "libsvtav1"
    decoder = "libdav1d"
    crf_range = (0, 63)
    default_preset = 8

    def __init__(self, crf: int = 35, preset: int | None = None, threads: int = 1, fps: int = 25) -> None:
        os.environ.setdefault("SVT_LOG", "1")  # errors only; SVT-AV1 prints its config banner otherwise
        super().__init__(crf, preset, threads, fps)
        if isinstance(self.preset, bool) or not isinstance(self.preset, int) or not 0 <= self.preset <= 13:
            raise AdapterArgumentError(f"av1: preset must be an integer in 0..13, got {self.preset!r}")
        if self.decoder not in self._av.codecs_available:
            type(self).decoder = "av1"

    def _options(self) -> dict[str, str]:
        return {"crf": str(self.crf), "preset": str(self.preset), "svtav1-params": f"lp={self.threads}"}


class Vp9Adapter(VideoCodecAdapter):
    info = AdapterInfo(family="vp9", kind="codec", modality="video", frame_rule=None,
                       description="VP9 (libvpx via PyAV), constant quality (b:v 0), crf 0-63, preset = cpu-used 0-8",
                       license="BSD-3-Clause (libvpx)")
    encoder, decoder = "libvpx-vp9", "vp9"
    crf_range = (0, 63)
    default_preset = 4

    def __init__(self, crf: int = 31, preset: int | None = None, threads: int = 1, fps: int = 25) -> None:
        super().__init__(crf, preset, threads, fps)
        if isinstance(self.preset, bool) or not isinstance(self.preset, int) or not 0 <= self.preset <= 8:
            raise AdapterArgumentError(f"vp9: preset (cpu-used) must be an integer in 0..8, got {self.preset!r}")

    def _options(self) -> dict[str, str]:
        return {"crf": str(self.crf), "b": "0", "cpu-used": str(self.preset), "deadline": "good", "row-mt": "0"}
