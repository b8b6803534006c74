"""Suites by name: built-in generated suites, manifests in data_manifests/, or a manifest path."""
from __future__ import annotations

import difflib
import importlib
import importlib.util
import json
from pathlib import Path
from typing import Any, Callable

from tfbench.errors import UnknownNameError
from tfbench.manifest import SCHEMA, Suite, load_suite_file

# name -> "module:function(data_root) -> Suite"
BUILTIN_SUITES: dict[str, str] = {
    "mini": "tfbench.mini:load_mini",          # the latest version (v2)
    "mini-v1": "tfbench.mini:load_mini_v1",    # results and golden files made before v2
    "mini-v2": "tfbench.mini:load_mini_v2",
    "mini-v3": "tfbench.mini:load_mini_v3",
    "tokbench": "tfbench.datasets.tokbench:load_tokbench",
    "tokbench-text": "tfbench.datasets.tokbench:load_tokbench_text",
    "tokbench-face": "tfbench.datasets.tokbench:load_tokbench_face",
    "mini-video": "tfbench.video.mini:load_mini_video",
}


def manifests_dir() -> Path:
    spec = importlib.util.find_spec("tfbench.data_manifests")
    assert spec is not None and spec.submodule_search_locations
    return Path(list(spec.submodule_search_locations)[0])


def _manifest_suites() -> dict[str, Path]:
    out = {}
    for path in sorted(manifests_dir().glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError:
            continue
        if isinstance(data, dict) and data.get("schema") == SCHEMA:
            out[str(data.get("name", path.stem))] = path
    return out


GENERATED_SUITES = ("mini", "mini-v1", "mini-v2", "mini-v3", "mini-video")  # built offline into the cache; the others read imported data


def versioned_name(name: str, version: str | None) -> str:
    """The suite name that loads exactly ``version`` of built-in suite ``name`` (``mini``, ``1`` -> ``mini-v1``),
    so that results and golden files keep rerunning the version they were made with; else ``name``."""
    pinned = f"{name}-v{version}"
    return pinned if version is not None and pinned in BUILTIN_SUITES else name


def list_suites() -> list[dict[str, Any]]:
    rows = [{"name": n, "kind": "built-in (generated offline)" if n in GENERATED_SUITES else
             "built-in (imported data, --data-root)", "target": t} for n, t in BUILTIN_SUITES.items()]
    rows += [{"name": n, "kind": "manifest", "target": str(p)} for n, p in _manifest_suites().items()]
    return rows


def _verified(suite: Any) -> Any:
    """Images (or video clips) that carry a sha256 are checked (once per file version: the result is cached)."""
    from tfbench.datasets.checksums import verify_suite

    verify_suite(suite)
    return suite


def load_suite(name: str, data_root: str | Path | None = None) -> Suite:
    """Resolve a suite name or manifest path; unknown names get a "did you mean"."""
    if name in BUILTIN_SUITES:
        module, _, fn = BUILTIN_SUITES[name].partition(":")
        loader: Callable[..., Suite] = getattr(importlib.import_module(module), fn)
        return loader(data_root)
    from tfbench.video.manifest import load_video_suite_file, video_manifest_path

    if (video := video_manifest_path(name)) is not None:  # a video suite manifest (tfbench.video-suite/1)
        return _verified(load_video_suite_file(video, data_root))
    manifests = _manifest_suites()
    path = Path(name)
    if name in manifests:
        return _verified(load_suite_file(manifests[name], data_root))
    if path.suffix == ".json" or path.is_file():
        return _verified(load_suite_file(path, data_root))
    if path.is_dir() and (path / "manifest.json").is_file():
        return _verified(load_suite_file(path / "manifest.json", data_root))
    known = list(BUILTIN_SUITES) + list(manifests)
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
    raise UnknownNameError(f"unknown suite {name!r}{hint} Known: {', '.join(known)}; or give a manifest.json path.")
