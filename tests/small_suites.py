"""Subsets of the real mini suite as manifest suites, to keep engine and fault tests short."""
import json
from pathlib import Path

from tfbench.manifest import Suite, load_suite_file


def mini_subset(mini: Suite, folder: Path, ids: tuple[str, ...], name: str) -> Suite:
    """The images ``ids`` of mini (same files, same ground truth) as suite ``name``; manifest in ``folder``."""
    data = json.loads((mini.root / "manifest.json").read_text())
    data["name"], data["images"] = name, [im for im in data["images"] if im["id"] in ids]
    assert len(data["images"]) == len(ids)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_text(json.dumps(data))
    return load_suite_file(folder / "manifest.json", mini.root)
