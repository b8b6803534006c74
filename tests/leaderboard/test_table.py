"""Table flattening, filters, sorting, exports and the Pareto front on real stored rows."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.leaderboard.conftest import run_folder
from tfbench.errors import TfbenchError
from tfbench.leaderboard.importing import import_paths
from tfbench.leaderboard.plots import pareto_front
from tfbench.leaderboard.store import Store
from tfbench.leaderboard.table import Filters, apply_filters, flatten, sort_table, to_csv, to_markdown

PAGES = Path(__file__).resolve().parents[2] / "leaderboard" / "views"


def test_modality_and_face_filters(runs: Path, tmp_path: Path) -> None:
    folder = run_folder(runs, "webp:quality=30", "256")
    data = json.loads((folder / "results.json").read_text())
    data["suite"]["modality"] = "video"
    data["metrics"]["face"] = {}
    (folder / "results.json").write_text(json.dumps(data))
    with Store(tmp_path / "s.sqlite") as store:
        import_paths(store, [runs])
        frame = flatten(store.results())
    video = apply_filters(frame, Filters(modalities=["video"], pin_baselines=False))
    assert video.adapter.tolist() == ["webp:quality=30"]
    assert sorted(apply_filters(frame, Filters(modalities=["image"])).adapter) == [
        "identity", "jpeg:quality=5", "jpeg:quality=5"]
    faces = apply_filters(frame, Filters(face_only=True, pin_baselines=False))
    assert "webp:quality=30" not in faces.adapter.tolist() and len(faces) == 3
    assert frame.set_index("adapter").loc["webp:quality=30", "face preservation"] == ""


def test_sorting_follows_metric_direction_and_exports_agree(store_file: Path) -> None:
    with Store(store_file) as store:
        frame = flatten(store.results())
    by_fsim = sort_table(frame, "F-Sim")
    assert by_fsim["F-Sim"].is_monotonic_decreasing and by_fsim.iloc[0].adapter == "identity"
    assert sort_table(frame, "bpp").bpp.is_monotonic_increasing
    with pytest.raises(TfbenchError, match="cannot sort by 'nope'"):
        sort_table(frame, "nope")
    csv_rows = to_csv(by_fsim).splitlines()
    md_rows = to_markdown(by_fsim).splitlines()[2:]
    assert len(csv_rows) - 1 == len(md_rows) == 4
    for c, m in zip(csv_rows[1:], md_rows, strict=True):
        assert c.split(",")[0] == m.split(" | ")[0].lstrip("| ")
    assert f"{by_fsim.iloc[0]['F-Sim']:.4f}" in csv_rows[1]


def test_pareto_front_on_known_points() -> None:
    points = pd.DataFrame({"bpp": [0.1, 0.2, 0.3, 0.4, 24.0], "T-ACC": [0.2, 0.1, 0.9, 0.9, 1.0]})
    assert pareto_front(points).tolist() == [True, False, True, False, True]


def test_every_page_explains_an_empty_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TFBENCH_LEADERBOARD_STORE", str(tmp_path / "empty.sqlite"))
    for page in ("table", "model", "compression", "crops"):
        at = AppTest.from_file(str(PAGES / f"{page}.py"), default_timeout=60).run()
        assert not at.exception and len(at.info) == 1, page
        assert "holds no results" in at.info[0].value or "No row" in at.info[0].value
