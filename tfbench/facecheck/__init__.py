"""`tfbench face-check`: does a processed face keep (preserve) or lose (protect) its identity?

pairs (pair media) -> score (per-face recognizer similarity, landmark drift, PSNR/SSIM) ->
report (overall, per group, largest gaps, Markdown) -> gates (CI pass/fail). check.py runs them.
"""
