"""tfbench: how much readable text and recognisable faces survive a visual tokenizer."""
from tfbench._version import __version__

__all__ = ["__version__"]
