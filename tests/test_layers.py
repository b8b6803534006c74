"""Layer contracts (.importlinter via scripts/check_layers.py): kept by the code, and broken by a deliberately
wrong import (an adapter importing the CLI; a module importing another's _private name) in a copy."""
from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
import check_layers  # noqa: E402

pytestmark = pytest.mark.skipif(importlib.util.find_spec("importlinter") is None,
                                reason="import-linter is not installed (pip install -e '.[test]')")


def test_every_layer_contract_is_kept():
    status, report = check_layers.check()
    assert status == 0, report
    assert "broken" not in report.lower().replace("0 broken", "")


@pytest.fixture()
def copy(tmp_path: Path) -> Path:
    """The package sources and contracts in a scratch repository."""
    for folder in set(check_layers.LAYOUT.values()):
        shutil.copytree(REPO / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy(REPO / ".importlinter", tmp_path / ".importlinter")
    return tmp_path


def test_an_adapter_importing_the_cli_breaks_the_contract(copy):
    ref = copy / "adapters" / "reference.py"
    ref.write_text(ref.read_text().replace("from __future__ import annotations\n",
                                           "from __future__ import annotations\n\nfrom tfbench.cli import main\n", 1))
    status, report = check_layers.check(copy)
    assert status == 1
    assert "Metrics and adapters never import the pipeline, engines, CLI or leaderboard BROKEN" in report
    assert "tfbench.adapters is not allowed to import tfbench.cli" in report
    assert "tfbench.adapters.reference -> tfbench.cli (l.4)" in report


def test_a_private_name_from_another_module_breaks_the_contract(copy):
    path = copy / "tfbench" / "report.py"
    path.write_text(path.read_text() + "\nfrom tfbench.registry import _coerce\n")
    status, report = check_layers.check(copy)
    assert status == 1 and "tfbench.report imports _coerce from tfbench.registry" in report


def test_importing_a_command_module_outside_the_cli_breaks_the_contract(copy):
    path = copy / "tfbench" / "results.py"
    path.write_text(path.read_text() + "\nimport tfbench.commands.show\n")
    status, report = check_layers.check(copy)
    assert status == 1 and "Nothing imports tfbench.commands but the CLI BROKEN" in report
