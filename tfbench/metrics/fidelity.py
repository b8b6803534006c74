"""PSNR and SSIM of instance crops: scikit-image's definitions, computed bit for bit without scikit-image.

scikit-image's ``peak_signal_noise_ratio``, ``rgb2gray`` and ``structural_similarity`` (uniform 7x7
window, sample covariance, K1 = 0.01, K2 = 0.03) are repeated here operation for operation on SciPy's
``uniform_filter``, so every score is the same double as scikit-image's (tests/test_fidelity.py compares
them bit for bit). What this buys: scikit-image's metrics import ``scipy.stats`` (about 1.5 s of CPU per
run, against 0.4 s for ``scipy.ndimage``), check and dispatch on every call, and filter the five window
means of one SSIM in five calls instead of one.
"""
from __future__ import annotations

import numpy as np

from tfbench.metrics.registry import get_metric

PSNR_CAP = 100.0  # identical crops: report 100 dB instead of infinity (JSON has no inf)
LUMA = (0.2125, 0.7154, 0.0721)  # skimage.color.rgb2gray (ITU-R BT.709)
K1, K2 = 0.01, 0.03


def psnr(original: np.ndarray, reconstruction: np.ndarray, data_range: float = 255.0) -> float:
    """skimage.metrics.peak_signal_noise_ratio: 10 log10(R^2 / MSE) over every channel, in float64."""
    a = np.asarray(original, dtype=np.float64)
    b = np.asarray(reconstruction, dtype=np.float64)
    err = np.mean((a - b) ** 2, dtype=np.float64)
    return float(10 * np.log10((float(data_range) ** 2) / err))


def luma(rgb_u8: np.ndarray) -> np.ndarray:
    """skimage.color.rgb2gray of a uint8 RGB image: float64 in [0, 1]."""
    rgb = np.multiply(rgb_u8, 1.0 / 255, dtype=np.float64)
    return rgb @ np.array(LUMA, dtype=np.float64)


def ssim(gray1: np.ndarray, gray2: np.ndarray, win_size: int = 7, data_range: float = 1.0) -> float:
    """skimage.metrics.structural_similarity of two float64 2-D images (uniform window, sample covariance)."""
    if any(s < win_size for s in gray1.shape) or win_size % 2 == 0:
        raise ValueError(f"SSIM needs an odd window no larger than the image; got {win_size} for {gray1.shape}")
    np_ = win_size ** 2
    cov_norm = np_ / (np_ - 1)
    from scipy.ndimage import uniform_filter  # imported when first used: about 0.4 s of CPU

    stacked = np.stack([gray1, gray2, gray1 * gray1, gray2 * gray2, gray1 * gray2])
    # one call for the five window means: SciPy filters every line of each map exactly as it would alone
    ux, uy, uxx, uyy, uxy = uniform_filter(stacked, size=(1, win_size, win_size))
    vx = cov_norm * (uxx - ux * ux)
    vy = cov_norm * (uyy - uy * uy)
    vxy = cov_norm * (uxy - ux * uy)
    c1 = (K1 * data_range) ** 2
    c2 = (K2 * data_range) ** 2
    a1, a2, b1, b2 = (2 * ux * uy + c1, 2 * vxy + c2, ux ** 2 + uy ** 2 + c1, vx + vy + c2)
    s = (a1 * a2) / (b1 * b2)
    pad = (win_size - 1) // 2
    return float(s[pad:-pad or None, pad:-pad or None].mean(dtype=np.float64))


class CropFidelity:
    infos = (get_metric("text_psnr"), get_metric("text_ssim"), get_metric("face_psnr"), get_metric("face_ssim"))
    lower_better = False

    def score(self, original: np.ndarray, reconstruction: np.ndarray) -> dict[str, float | None]:
        """uint8 RGB crops of equal shape -> {psnr (RGB, 8-bit), ssim (luma)}; ssim None under 3 px."""
        if original.shape != reconstruction.shape:
            raise ValueError(f"crops differ in shape: {original.shape} vs {reconstruction.shape}")
        if np.array_equal(original, reconstruction):
            value = PSNR_CAP
        else:
            value = min(PSNR_CAP, psnr(original, reconstruction))
        side = min(original.shape[:2])
        win = min(7, side if side % 2 else side - 1)
        score = None
        if win >= 3:
            score = ssim(luma(original), luma(reconstruction), win_size=win)
        return {"psnr": value, "ssim": score}
