"""`tfbench face-check`: does a processed face keep (preserve) or lose (protect) its identity and expression?

pairs (pair media) -> score (per-face recognizer similarity, expression (expression, expression_onnx),
landmark drift, PSNR/SSIM) -> video (frames linked into face tracks, tracks) -> report (overall, per
group, largest gaps, expression confusion) -> gates (default verdict per mode) -> markdown. check.py runs them.
"""
