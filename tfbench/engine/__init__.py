"""The run engine shared by `tfbench run` (images and video), `--engine ray` and the Python API."""
from tfbench.engine.core import RunOptions, run_suite

__all__ = ["RunOptions", "run_suite"]
