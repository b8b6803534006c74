"""Real run folders for the leaderboard tests: four adapter/resolution runs on `mini-lb` (five images of the
`mini` v1 suite as a manifest suite of their own), evaluated once per session with the real OCR and face models
and --keep-crops, and a store with that suite registered and the runs imported (verified)."""
from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import pytest

from tests.small_suites import mini_subset

# five images of `mini` v1 (pinned: its content never changes) keep a run to a few seconds and fill every text
# and face bucket at 256 and 512 (an empty bucket leaves TokBench's mean of bucket means undefined): text_00 and face_00 hold the small ones at 512
IMAGES = ("text_00", "text_01", "face_00", "face_01", "face_05")
SUITE = "mini-lb"
RUNS = (("identity", "256"), ("jpeg:quality=5", "256"), ("jpeg:quality=5", "512"), ("webp:quality=30", "256"))


@pytest.fixture(scope="session")
def lb_suite(tmp_path_factory: pytest.TempPathFactory, mini_v1):
    """The suite `mini-lb` (manifest in its own folder, images read from mini v1's)."""
    return mini_subset(mini_v1, tmp_path_factory.mktemp("mini-lb"), IMAGES, SUITE)


@pytest.fixture(scope="session")
def run_root(tmp_path_factory: pytest.TempPathFactory, lb_suite, scorers) -> Path:
    """OUT/mini-lb with one folder per run (results.json, records.jsonl, run.json, crops/)."""
    from tfbench.pipeline import evaluate
    from tfbench.registry import create_adapter

    out = tmp_path_factory.mktemp("lb-runs")
    for spec, res in RUNS:
        evaluate(lb_suite, create_adapter(spec), res, scorers, out, keep_crops=True)
    return out / SUITE


@pytest.fixture()
def runs(run_root: Path, tmp_path: Path) -> Path:
    """A private copy of the run folders that a test may modify."""
    return Path(shutil.copytree(run_root, tmp_path / SUITE))


def registered_store(path: Path, suite) -> Path:
    """A new store at ``path`` with ``suite`` registered."""
    from tfbench.leaderboard.store import Store
    from tfbench.leaderboard.suitedefs import from_suite, register

    with Store(path) as store:
        register(store, from_suite(suite), origin="test")
    return path


@pytest.fixture(scope="session")
def base_store(tmp_path_factory: pytest.TempPathFactory, lb_suite, run_root: Path) -> Path:
    """A store with `mini-lb` registered and the four runs imported (verified), built once."""
    from tfbench.leaderboard.importing import import_paths
    from tfbench.leaderboard.store import Store

    path = registered_store(tmp_path_factory.mktemp("lb-store") / "board.sqlite", lb_suite)
    with Store(path) as store:
        import_paths(store, [run_root])
    return path


@pytest.fixture()
def store_file(base_store: Path, tmp_path: Path) -> Path:
    """A private copy of the base store."""
    return Path(shutil.copy(base_store, tmp_path / "board.sqlite"))


@pytest.fixture()
def empty_store(lb_suite, tmp_path: Path) -> Path:
    """A store that knows `mini-lb` and holds nothing else."""
    return registered_store(tmp_path / "empty.sqlite", lb_suite)


def run_folder(root: Path, spec: str, res: str) -> Path:
    from tfbench.pipeline import run_dir

    return run_dir(root.parent, root.name, spec, res)


def zip_run(folder: Path, prefix: str = "", records: bytes | None = None) -> bytes:
    """The zip a submitter uploads: records.jsonl and crops/ of a run folder (``records`` replaces the journal)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{prefix}records.jsonl", records if records is not None else (folder / "records.jsonl").read_bytes())
        for png in sorted((folder / "crops").rglob("*.png")):
            zf.write(png, f"{prefix}{png.relative_to(folder).as_posix()}")
    return buf.getvalue()


def rewrite_run(folder: Path, dest: Path, edit) -> Path:
    """Copy a run folder, let ``edit(records, dest)`` change its records (and crops), and recompute results.json
    from the changed records with tfbench's aggregation, as `tfbench score` would: a self-consistent copy."""
    import json

    from tfbench.results import build_results

    shutil.copytree(folder, dest)
    records = [json.loads(line) for line in (dest / "records.jsonl").read_text().splitlines() if line.strip()]
    records = edit(records, dest) or records
    (dest / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    old = json.loads((dest / "results.json").read_text())
    new = build_results(adapter={k: old["adapter"][k] for k in ("spec", "family", "kind") if k in old["adapter"]},
                        suite=old["suite"], backends=old["backends"], records=records,
                        text_edges=tuple(old["buckets"]["text"]), face_edges=tuple(old["buckets"]["face"]),
                        budget=old["budget"], config=old["config"])
    (dest / "results.json").write_text(json.dumps(new))
    return dest


def misread_words(records: list[dict]) -> list[dict]:
    words = [w for r in records for w in r.get("words", []) if w.get("t_acc") == 0.0]
    assert words, "the run has no misread word"
    return words


def improved_copy(folder: Path, dest: Path) -> Path:
    """A consistent "better model" version of a run: every misread word's reconstruction crop replaced by its
    original crop (which the OCR reads correctly in `mini` v1) and the record updated to match. Verification
    passes it: crops cannot prove they came from the adapter (see tfbench.leaderboard.reread)."""
    def edit(records: list[dict], dest: Path) -> None:
        for w in misread_words(records):
            shutil.copy(dest / f"{w['crop']}.orig.png", dest / f"{w['crop']}.recon.png")
            w.update(pred=w["gt"], t_acc=1.0, t_ned=1.0)

    return rewrite_run(folder, dest, edit)
