"""The adapters/ folder is importable only as tfbench.adapters, never as the PyPI name `adapters`."""
import importlib.util
from pathlib import Path

import tfbench.adapters

REPO = Path(__file__).resolve().parents[1]


def test_adapter_families_come_from_this_repository():
    assert Path(tfbench.adapters.__file__).resolve().parent in (REPO / "adapters", Path(tfbench.__file__).parent / "adapters")


def test_nothing_imports_the_top_level_name_adapters():
    """`adapters` on PyPI is an unrelated package: our code must only ever say tfbench.adapters."""
    import re

    pattern = re.compile(r"^\s*(from|import)\s+adapters\b", re.M)
    for f in list((REPO / "tfbench").rglob("*.py")) + list((REPO / "adapters").rglob("*.py")) + list((REPO / "tests").rglob("*.py")):
        assert not pattern.search(f.read_text()), f
    assert "tfbench.adapters" in str(tfbench.adapters.__spec__.name)


def test_core_does_not_import_pipeline_from_metrics_or_adapters():
    for folder in (REPO / "tfbench" / "metrics", REPO / "adapters"):
        for f in folder.glob("*.py"):
            text = f.read_text()
            assert "tfbench.pipeline" not in text and "tfbench.cli" not in text and "tfbench.commands" not in text, f


def test_every_package_folder_is_in_the_wheel():
    """pyproject lists packages explicitly (the folders are remapped): a new subpackage must be added there."""
    import tomllib

    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    roots = {src: name for name, src in config["package-dir"].items()}
    found = set()
    for src, name in roots.items():
        for init in (REPO / src).rglob("__init__.py"):
            rel = init.parent.relative_to(REPO / src).parts
            found.add(".".join((name, *rel)))
    assert found == listed, f"missing from pyproject: {sorted(found - listed)}; stale: {sorted(listed - found)}"
