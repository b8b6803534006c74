"""Adapter families, one module each; installed as ``tfbench.adapters`` (never as top-level ``adapters``)."""
