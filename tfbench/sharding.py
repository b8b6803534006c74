"""Deterministic shards of a suite: which images one of N processes evaluates.

An image belongs to shard ``sha256(image id) mod N`` (stable across machines and Python runs, unlike
``hash()``), so N processes that each run ``--shard K/N`` cover every image exactly once and
``tfbench merge`` can combine their records into the results of a single run. Without ``--shard``,
torchrun (``RANK``/``WORLD_SIZE``) and SLURM (``SLURM_PROCID``/``SLURM_NTASKS``) variables pick the
shard. Each shard writes its own run folder (``.../<adapter>@<res>/shard-K-of-N/``).
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from typing import Mapping

from tfbench.errors import TfbenchError

ENV_PAIRS: tuple[tuple[str, str], ...] = (("RANK", "WORLD_SIZE"), ("SLURM_PROCID", "SLURM_NTASKS"))
_FOLDER = re.compile(r"^shard-(\d+)-of-(\d+)$")


class ShardError(TfbenchError, ValueError):
    """A shard specification (``--shard K/N`` or RANK/WORLD_SIZE variables) that cannot be used."""


def shard_index(image_id: str, count: int) -> int:
    """Shard of one image: the first 8 bytes of sha256(id) as an integer, mod ``count``."""
    digest = hashlib.sha256(str(image_id).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count


@dataclass(frozen=True)
class Shard:
    index: int  # 0-based, like RANK
    count: int

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise ShardError(f"shard {self.index}/{self.count} does not exist: shards are numbered 0..N-1 "
                             f"(for 2 shards run --shard 0/2 and --shard 1/2)")

    def contains(self, image_id: str) -> bool:
        return shard_index(image_id, self.count) == self.index

    @property
    def label(self) -> str:
        return f"{self.index}/{self.count}"

    @property
    def folder(self) -> str:
        return f"shard-{self.index}-of-{self.count}"

    @classmethod
    def from_folder(cls, name: str) -> "Shard | None":
        m = _FOLDER.match(name)
        return cls(int(m.group(1)), int(m.group(2))) if m else None


def parse_shard(text: str) -> Shard | None:
    """``"K/N"`` -> Shard (None for N == 1, which means no sharding)."""
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", str(text))
    if not m:
        raise ShardError(f"--shard {text!r}: expected K/N with 0 <= K < N, e.g. --shard 0/4")
    shard = Shard(int(m.group(1)), int(m.group(2)))
    return shard if shard.count > 1 else None


def shard_from_env(environ: Mapping[str, str] | None = None) -> Shard | None:
    """The shard torchrun (RANK/WORLD_SIZE) or SLURM (SLURM_PROCID/SLURM_NTASKS) assigns, if any."""
    env = os.environ if environ is None else environ
    for rank_var, size_var in ENV_PAIRS:
        if size_var in env:
            rank, size = env.get(rank_var, ""), env[size_var]
            if not (rank.strip().isdigit() and size.strip().isdigit()):
                raise ShardError(f"{rank_var}={rank!r} and {size_var}={size!r} must be non-negative integers; "
                                 f"unset them or pass --shard K/N (--shard 0/1 runs everything)")
            try:
                return parse_shard(f"{rank}/{size}")
            except ShardError as exc:
                raise ShardError(f"{rank_var}={rank} with {size_var}={size}: {exc}") from None
    return None


def resolve_shard(option: str | None, environ: Mapping[str, str] | None = None) -> Shard | None:
    """``--shard`` wins over the environment; ``--shard 0/1`` turns sharding off explicitly."""
    return parse_shard(option) if option is not None else shard_from_env(environ)
