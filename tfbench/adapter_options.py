"""Pass run-wide options (``--device``, ``--dtype``) into the specs of adapters whose constructor takes them."""
from __future__ import annotations

import inspect

from tfbench.registry import expand_spec, resolve_factory


def accepts(spec: str, name: str) -> bool:
    """Whether the adapter a spec names takes the keyword ``name`` and the spec (or its preset) leaves it unset."""
    family, kwargs, _ = expand_spec(spec)
    if name in kwargs:
        return False
    try:
        params = inspect.signature(resolve_factory(family)).parameters
    except (TypeError, ValueError):
        return False
    return name in params


def with_option(spec: str, name: str, value: str) -> str:
    """``spec`` with ``name=value`` appended (``tae:variant=taef2`` -> ``tae:variant=taef2,device=cuda``)."""
    spec = spec.strip()
    has_args = spec.count(":") >= (3 if spec.startswith("python:") else 1) and not spec.endswith(":")
    return f"{spec},{name}={value}" if has_args else f"{spec.rstrip(':')}:{name}={value}"


def inject_runtime(spec: str, device: str | None = None, dtype: str | None = None) -> str:
    """Add ``device`` (unless it is the default cpu) and ``dtype`` to a spec whose adapter takes them."""
    for name, value in (("device", None if device in (None, "cpu") else device), ("dtype", dtype)):
        if value is not None and accepts(spec, name):
            spec = with_option(spec, name, value)
    return spec
