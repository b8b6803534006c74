"""Shared fixtures: the real mini suite and real metric models, built once per test session."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(scope="session", autouse=True)
def _cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Keep the suite cache out of the user's home unless TFBENCH_CACHE is set already."""
    if "TFBENCH_CACHE" not in os.environ:
        os.environ["TFBENCH_CACHE"] = str(tmp_path_factory.mktemp("tfbench-cache"))
    return Path(os.environ["TFBENCH_CACHE"])


@pytest.fixture(scope="session")
def shared() -> Path:
    if not (SHARED / "data").is_dir():
        pytest.skip("../shared (real test images and weights) is not present beside the checkout")
    return SHARED


@pytest.fixture(scope="session")
def mini(_cache: Path):
    from tfbench.suites import load_suite

    return load_suite("mini")


@pytest.fixture(scope="session")
def mini_v1(_cache: Path):
    """`mini` version 1, whose content is fixed for good (tests/test_mini.py pins it byte for byte): the tests that
    run a few chosen images (tests/small_suites.py) and pin their numbers use it, so a new mini version changes
    neither their images nor their figures, and its 11-14-word text images keep those runs short."""
    from tfbench.suites import load_suite

    return load_suite("mini-v1")


@pytest.fixture(scope="session")
def scorers():
    from tfbench.pipeline import Scorers

    return Scorers.create()
