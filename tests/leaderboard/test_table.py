"""Table flattening, comparable selections, ranks, exports, the Pareto front and registry-driven columns."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.leaderboard.conftest import run_folder
from tfbench.errors import TfbenchError
from tfbench.leaderboard.columns import column_help, score_columns
from tfbench.leaderboard.plots import pareto_front
from tfbench.leaderboard.reference import import_reference
from tfbench.leaderboard.store import Store
from tfbench.leaderboard.table import (Selection, default_selection, flatten, ranked, references, selections,
                                       sort_table, to_csv, to_markdown)
from tfbench.metrics.registry import MetricSpec, registered

PAGES = Path(__file__).resolve().parents[2] / "leaderboard" / "views"


def test_one_selection_is_ranked_and_others_never_mix_in(store_file: Path) -> None:
    with Store(store_file) as store:
        import_reference(store)  # 76 published rows: their own group, never ranked
        frame = flatten(store.results(latest=True))
    sel = default_selection(frame)
    assert sel is not None and (sel.suite, sel.res) == ("mini-lb v1", "256")  # 3 rows at 256, 1 at 512
    assert [n for _, n in selections(frame)] == [3, 1]
    table = ranked(frame, sel)
    assert table["adapter"].tolist()[-1] == "jpeg:quality=5" and set(table["res"]) == {"256"}
    assert table["rank"].tolist() == [1, 1, 3]  # identity and webp both read every word: they share rank 1
    assert set(table["status"]) == {"verified"} and set(table["group"]) == {"measured"}
    other = ranked(frame, Selection("mini-lb v1", "512", sel.backends))
    assert other["adapter"].tolist() == ["jpeg:quality=5"] and other["rank"].tolist() == [1]
    papers = references(frame, res="256", modality="image")
    assert len(papers) == 22 and set(papers["group"]) == {"paper-reported: TokBench data, PARSeq + antelopev2"}
    assert papers.set_index("adapter").loc["Resize", "T-ACC"] == pytest.approx(0.9302)  # 93.02 % in the CSV


def test_sorting_follows_each_metric_direction_and_exports_agree(store_file: Path) -> None:
    with Store(store_file) as store:
        frame = flatten(store.results(latest=True))
    by_fsim = sort_table(frame, "F-Sim")
    assert by_fsim["F-Sim"].is_monotonic_decreasing and by_fsim.iloc[0].adapter == "identity"
    assert sort_table(frame, "bpp").bpp.is_monotonic_increasing
    with pytest.raises(TfbenchError, match="cannot sort by 'nope'"):
        sort_table(frame, "nope")
    table = ranked(frame, default_selection(frame))
    csv_rows = to_csv(table).splitlines()
    md_rows = to_markdown(table).splitlines()[2:]
    assert len(csv_rows) - 1 == len(md_rows) == 3
    for c, m in zip(csv_rows[1:], md_rows, strict=True):
        assert c.split(",")[:2] == [x.strip() for x in m.strip("|").split("|")[:2]]


def test_column_help_states_range_direction_and_bucket_edges() -> None:
    edges = {"text": [0.02, 0.03, 0.04, 1.0], "face": [0.1, 0.2, 0.3, 1.0]}
    assert column_help("T-ACC m", edges).endswith("Range 0 to 1; higher is better. Bucket m: instance scale in "
                                                  "[0.03, 0.04).")
    assert "Range -1 to 1; higher is better" in column_help("F-Sim", edges)
    assert column_help("F-Sim", edges).endswith("Mean of the small, medium and large bucket means; — (undefined) when a "
                                                   "bucket is empty.")


def test_pareto_front_on_known_points() -> None:
    points = pd.DataFrame({"bpp": [0.1, 0.2, 0.3, 0.4, 24.0], "T-ACC": [0.2, 0.1, 0.9, 0.9, 1.0]})
    assert pareto_front(points).tolist() == [True, False, True, False, True]


def test_a_registered_metric_becomes_leaderboard_columns(run_root: Path, empty_store: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A toy metric registered with a leaderboard label shows up in the table, with its range and direction."""
    toy = MetricSpec("toy_crispness", "text", "toy_crispness", "text", (0.0, 10.0), lower_better=True,
                     label="Crisp", leaderboard_label="Crisp", description="a toy metric for this test")
    data = json.loads((run_folder(run_root, "identity", "256") / "results.json").read_text())
    data["metrics"]["text"]["toy_crispness"] = {"small": 1.0, "medium": 2.0, "large": 3.0, "mean": 2.0}
    with registered(toy):
        with Store(empty_store) as store:  # stored directly: this test is about the table, not verification
            store.import_results(data, status="verified")
            with pytest.raises(TfbenchError, match=r"toy_crispness.mean = 12.0 is outside its range \[0.0, 10.0\]"):
                bad = json.loads(json.dumps(data))
                bad["metrics"]["text"]["toy_crispness"]["mean"] = 12.0
                store.import_results(bad)
        assert score_columns()[-4:] == ["Crisp s", "Crisp m", "Crisp l", "Crisp"]
        assert column_help("Crisp").startswith("a toy metric for this test. Range 0 to 10; lower is better.")
        monkeypatch.setenv("TFBENCH_LEADERBOARD_STORE", str(empty_store))
        at = AppTest.from_file(str(PAGES / "table.py"), default_timeout=60).run()
        assert not at.exception, [e.value for e in at.exception]
        [table] = [d.value for d in at.dataframe if "rank" in d.value.columns]
        assert table.loc[0, "Crisp"] == "2.000" and table.loc[0, "Crisp l"] == "3.000"  # shown with its digits
        assert "Crisp" in at.selectbox(key="rank_by").options
    assert "Crisp" not in score_columns()
