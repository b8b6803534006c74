"""tfbench: how much readable text and recognisable faces survive a visual tokenizer.

``tfbench.evaluate(model, suite="mini", resolutions=[256], value_range=(-1, 1))`` runs the benchmark from
Python (see :mod:`tfbench.api`); the command line is ``tfbench``.
"""
from typing import Any

from tfbench._version import __version__

__all__ = ["__version__", "evaluate", "as_adapter", "Results"]


def __getattr__(name: str) -> Any:  # the API is imported on first use: `import tfbench` stays light
    if name in ("evaluate", "as_adapter", "Results"):
        from tfbench import api

        return getattr(api, name)
    raise AttributeError(f"module 'tfbench' has no attribute {name!r}")
