"""Real run folders for the leaderboard tests: four adapter/resolution runs on part of the `mini` suite,
evaluated once per session with the real OCR and face models and --keep-crops."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

# five images of `mini` keep a run to a few seconds and fill every text and face bucket at 256 and 512 (an empty
# bucket leaves TokBench's mean of bucket means undefined): text_00 and face_00 hold the small ones at 512
IMAGES = {"text_00", "text_01", "face_00", "face_01", "face_05"}
RUNS = (("identity", "256"), ("jpeg:quality=5", "256"), ("jpeg:quality=5", "512"), ("webp:quality=30", "256"))


@pytest.fixture(scope="session")
def run_root(tmp_path_factory: pytest.TempPathFactory, mini, scorers) -> Path:
    """OUT/mini with one folder per run (results.json, records.jsonl, run.json, crops/)."""
    from tfbench.pipeline import evaluate
    from tfbench.registry import create_adapter

    out = tmp_path_factory.mktemp("lb-runs")
    for spec, res in RUNS:
        evaluate(mini, create_adapter(spec), res, scorers, out, select=lambda r: r.id in IMAGES, keep_crops=True)
    return out / "mini"


@pytest.fixture()
def runs(run_root: Path, tmp_path: Path) -> Path:
    """A private copy of the run folders that a test may modify."""
    return Path(shutil.copytree(run_root, tmp_path / "mini"))


@pytest.fixture()
def store_file(run_root: Path, tmp_path: Path) -> Path:
    """A store file with the four runs imported."""
    from tfbench.leaderboard.importing import import_paths
    from tfbench.leaderboard.store import Store

    path = tmp_path / "board.sqlite"
    with Store(path) as store:
        import_paths(store, [run_root])
    return path


def run_folder(root: Path, spec: str, res: str) -> Path:
    from tfbench.pipeline import run_dir

    return run_dir(root.parent, root.name, spec, res)
