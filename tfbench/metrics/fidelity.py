"""PSNR and SSIM of instance crops (scikit-image implementations)."""
from __future__ import annotations

import numpy as np
from skimage.color import rgb2gray
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from tfbench.metrics.registry import get_metric

PSNR_CAP = 100.0  # identical crops: report 100 dB instead of infinity (JSON has no inf)


class CropFidelity:
    infos = (get_metric("text_psnr"), get_metric("text_ssim"), get_metric("face_psnr"), get_metric("face_ssim"))
    lower_better = False

    def score(self, original: np.ndarray, reconstruction: np.ndarray) -> dict[str, float | None]:
        """uint8 RGB crops of equal shape -> {psnr (RGB, 8-bit), ssim (luma)}; ssim None under 3 px."""
        if np.array_equal(original, reconstruction):
            psnr = PSNR_CAP
        else:
            psnr = min(PSNR_CAP, float(peak_signal_noise_ratio(original, reconstruction, data_range=255)))
        side = min(original.shape[:2])
        win = min(7, side if side % 2 else side - 1)
        ssim = None
        if win >= 3:
            ssim = float(structural_similarity(rgb2gray(original), rgb2gray(reconstruction), win_size=win, data_range=1.0))
        return {"psnr": psnr, "ssim": ssim}
