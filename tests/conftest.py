"""Shared fixtures: the real mini suite and real metric models, built once per test session."""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def _throwaway_home() -> None:
    """Give the test session a fresh, temporary home: what the tests start (Ray's auth token, Chromium's
    profile, onnxruntime imported by rapidocr, pip's cache) never writes into the user's home or cache
    folder. pip keeps the user's configuration (its index and find-links)."""
    real = Path.home()
    for config in (real / ".config" / "pip" / "pip.conf", real / ".pip" / "pip.conf"):
        if config.is_file():
            os.environ.setdefault("PIP_CONFIG_FILE", str(config))
            break
    home = tempfile.mkdtemp(prefix="tfbench-test-home-")
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    os.environ["HOME"] = home
    for var in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        os.environ.pop(var, None)


_throwaway_home()


@pytest.fixture(scope="session", autouse=True)
def _cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Keep the suite cache out of the user's home unless TFBENCH_CACHE names one already."""
    if not os.environ.get("TFBENCH_CACHE"):  # unset or empty (empty means "the default" to tfbench)
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
