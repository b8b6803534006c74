"""Execution engines besides the in-process pipeline (``tfbench run --engine ...``)."""
