"""What a result *is* versus how it was *executed*.

An adapter spec mixes both: ``taef2:weights=../shared/weights,device=cuda,dtype=fp16``. Its identity
(the adapter's ``spec`` in results, the run-folder name, the leaderboard row) keeps only what defines
the model: the family or preset and its arguments, with every local file or folder replaced by its
checksum (``weights=sha256:9f2c...``), so the same weights give the same identity wherever they lie.
Execution settings (``device``, ``dtype``, ``batch_size``, ``threads`` and the local file locations)
are recorded in the run's budget instead. The same model on a CPU and a GPU is one row.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

EXECUTION_KEYS = ("device", "dtype", "batch_size", "threads")
WEIGHT_SUFFIXES = (".pth", ".pt", ".bin", ".safetensors", ".ckpt", ".onnx", ".json", ".yaml", ".yml", ".npz", ".model")
DIGEST_CHARS = 16  # hex digits of the sha256 kept in the identity (64 bits)
PATH_KEYS = ("weights", "encoder", "decoder", "pretrained", "config", "checkpoint", "path", "file", "folder", "dir",
             "model", "ckpt")


def split_args(spec: str) -> tuple[str, list[tuple[str, str]]]:
    """``name`` and the raw ``key=value`` pairs of a spec, as written (``python:mod:Attr:k=v`` keeps its name)."""
    spec = spec.strip()
    if spec.startswith("python:"):
        parts = spec.split(":", 3)
        name, args = ":".join(parts[:3]), parts[3] if len(parts) == 4 else ""
    else:
        name, _, args = spec.partition(":")
    pairs = []
    for part in args.split(","):
        if part.strip():
            key, _, value = part.partition("=")
            pairs.append((key.strip(), value.strip()))
    return name.strip(), pairs


def join_args(name: str, pairs: list[tuple[str, str]]) -> str:
    return f"{name}:{','.join(f'{k}={v}' for k, v in pairs)}" if pairs else name


def local_path(key: str, value: str) -> Path | None:
    """The existing file or folder a spec value names (URLs and hub ids do not): a value that looks like a
    path (``/``, ``~``, ``.``, a file suffix) or the value of a path-like key (``weights``, ``checkpoint``, ...)."""
    if "://" in value or not value:
        return None
    looks = "/" in value or "\\" in value or value.startswith(("~", ".")) or bool(Path(value).suffix)
    if not (looks or key.lower() in PATH_KEYS):
        return None
    path = Path(value).expanduser()
    try:
        return path if path.exists() else None
    except OSError:
        return None


def path_digest(path: Path, cache: Any = None) -> str:
    """sha256 of a file; of a folder: of its model files' relative names and sha256s (cached per file version)."""
    from tfbench.datasets.checksums import ChecksumCache

    own = cache is None
    cache = cache or ChecksumCache()
    try:
        if path.is_file():
            return cache.sha256(path)
        files = sorted(f for f in path.rglob("*") if f.is_file() and f.suffix.lower() in WEIGHT_SUFFIXES
                       and not any(part.startswith(".") for part in f.relative_to(path).parts))
        h = hashlib.sha256()
        for f in files:
            h.update(f"{f.relative_to(path).as_posix()}\0{cache.sha256(f)}\n".encode())
        return h.hexdigest()
    finally:
        if own:
            cache.save()


def identify(spec: str) -> tuple[str, dict[str, Any]]:
    """(identity spec, execution settings) of an adapter spec."""
    name, pairs = split_args(spec)
    kept: list[tuple[str, str]] = []
    execution: dict[str, Any] = {}
    for key, value in pairs:
        if key in EXECUTION_KEYS:
            execution[key] = value
            continue
        path = local_path(key, value)
        if path is not None:
            execution[f"{key}_path"] = str(path.resolve())
            value = f"sha256:{path_digest(path)[:DIGEST_CHARS]}"
        kept.append((key, value))
    return join_args(name, kept), execution


def slug(spec: str) -> str:
    """A folder-safe name for an adapter spec (``jpeg:quality=30`` -> ``jpeg_quality=30``)."""
    return re.sub(r"[^A-Za-z0-9=.,+-]+", "_", spec).strip("_") or "adapter"


def run_dir(out_root: Path, suite: str, spec: str, resolution: str) -> Path:
    """The folder of one run: ``OUT/<suite>/<adapter slug>@<resolution>``."""
    return Path(out_root) / suite / f"{slug(spec)}@{resolution}"
