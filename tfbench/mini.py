"""The embedded `mini` suite, in versions: generated from a recipe, built once into the cache, deterministic.

- ``mini`` is the latest version (v3); ``mini-v1``, ``mini-v2`` and ``mini-v3`` name one version for good. Every
  version records its name as ``mini`` and its own ``version``, so results say which mini they used and
  results of different versions are never compared (``tfbench check`` refuses them); a golden file made
  on v1 reruns on v1 (:func:`tfbench.suites.versioned_name`).
- v1 (``data_manifests/mini-v1.json``, :mod:`tfbench.mini_v1`): clean renderings of 8 fonts on flat or
  simple backgrounds; faces of 8 people from 3 package photos.
- v2 (``data_manifests/mini-v2.json``, :mod:`tfbench.mini_text`, :mod:`tfbench.mini_faces`): words as
  photos and scans show them, faces of more people and poses (see the recipe's description).
- v3 (``data_manifests/mini-v3.json``, the v2 generator): v2's recipe calibrated against real photographed
  text with ``scripts/calibrate_mini.py``: mostly dark, uncoloured ink, and character sizes crowding the
  small end of each bucket, as in the real folders; same faces as v2.

Both keep only the words the OCR reads exactly on the original image, as TokBench does, so `identity` at
`native` scores exactly 1.
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any, Callable

import numpy as np

from tfbench.cache import build_once, cache_dir
from tfbench.errors import UnknownNameError
from tfbench.manifest import Suite, load_suite_file
from tfbench.mini_suite import recipe_key, write_suite
from tfbench.packaged import package_file  # noqa: F401  (tests and plugins locate package files through here)

LATEST = "3"
VERSIONS = ("1", "2", "3")


def recipe_path(version: str = LATEST) -> Path:
    """The recipe of one version, in the installed tfbench.data_manifests (or the source tree)."""
    if version not in VERSIONS:
        raise UnknownNameError(f"unknown mini version {version!r}; known: {', '.join(VERSIONS)}")
    spec = importlib.util.find_spec("tfbench.data_manifests")
    if spec is not None and spec.submodule_search_locations:
        folder = Path(list(spec.submodule_search_locations)[0])
    else:
        folder = Path(__file__).resolve().parent.parent / "data_manifests"
    return folder / f"mini-v{version}.json"


def generator_of(version: str) -> tuple[str, Callable[[dict, Path], tuple[list[dict], list[dict]]]]:
    """(generator version, function recipe, recipe folder -> (text canvases, face canvases))."""
    if version == "1":
        from tfbench import mini_v1

        def v1(recipe: dict, folder: Path) -> tuple[list[dict], list[dict]]:
            rng = np.random.default_rng(recipe["seed"])
            text = mini_v1.text_canvases(recipe, rng, folder)
            return text, mini_v1.face_canvases(recipe, rng)

        return mini_v1.GENERATOR_VERSION, v1
    from tfbench import mini_faces, mini_text

    def v2(recipe: dict, folder: Path) -> tuple[list[dict], list[dict]]:
        text = mini_text.text_canvases(recipe, np.random.default_rng(recipe["seed"]), folder)
        return text, mini_faces.face_canvases(recipe, np.random.default_rng(recipe["seed"] + 1))

    return mini_text.GENERATOR_VERSION, v2


def build_mini(dest: Path, version: str = LATEST, recipe: Path | None = None, ocr: Any = None) -> Path:
    """Generate one version of the suite into ``dest`` (images + manifest.json); returns the manifest path."""
    path = recipe or recipe_path(version)
    data = json.loads(path.read_text())
    generator, make = generator_of(str(data["version"]))
    if ocr is None:
        from tfbench.metrics.text import TextScorer

        ocr = TextScorer("rapidocr")
    text, faces = make(data, path.parent)
    return write_suite(dest, data, generator, text, faces, ocr)


def mini_dir(version: str = LATEST) -> Path:
    recipe = json.loads(recipe_path(version).read_text())
    generator, _ = generator_of(version)
    return cache_dir() / "suites" / f"mini-v{recipe['version']}-{recipe_key(recipe, generator)}"


def load_version(version: str) -> Suite:
    return load_suite_file(build_once(mini_dir(version), lambda dest: build_mini(dest, version)))


def load_mini(data_root: Path | None = None) -> Suite:
    """The latest `mini`, built into the cache on first use.

    ``data_root`` is ignored: mini is generated, never read from a user's data folder (a
    TFBENCH_DATA_ROOT set for another suite must not receive mini's files).
    """
    return load_version(LATEST)


def load_mini_v1(data_root: Path | None = None) -> Suite:
    """`mini` version 1 (what results and golden files made before v2 used)."""
    return load_version("1")


def load_mini_v2(data_root: Path | None = None) -> Suite:
    return load_version("2")


def load_mini_v3(data_root: Path | None = None) -> Suite:
    return load_version("3")

