"""The importer against a real run on the TokBench-layout fixture: the run's own records, written as TokBench's
per-instance outputs and imported, aggregate byte-identically, pooled and per set, with the empty-bucket rule.
(Kept out of the mutation-testing selection: it runs the real pipeline.)"""
from __future__ import annotations

from pathlib import Path

import pytest

from tfbench.aggregation import aggregate_records
from tfbench.buckets import FACE_EDGES, TEXT_EDGES
from tfbench.records import read_records
from tfbench.tokbench_results import import_official
from tests.official_outputs import dump, imported_view, official_outputs

TE, FE = TEXT_EDGES["256"], FACE_EDGES["256"]


@pytest.fixture(scope="module")
def tokbench_run(tmp_path_factory, scorers):
    """The TokBench-layout fixture imported as a suite and run through the real pipeline (identity at 256)."""
    from tfbench.datasets.tokbench import import_tokbench
    from tfbench.pipeline import evaluate
    from tfbench.registry import create_adapter
    from tfbench.suites import load_suite
    from tests.tokbench_fixture import build_tokbench

    root = tmp_path_factory.mktemp("tokbench")
    build_tokbench(root)
    import_tokbench(root)
    results = evaluate(load_suite("tokbench", root), create_adapter("identity"), "256", scorers,
                       tmp_path_factory.mktemp("runs"))
    return results, read_records(Path(results["_path"]).with_name("records.jsonl"))


def test_a_run_on_the_tokbench_layout_and_its_official_outputs_import_identically(tokbench_run, tmp_path):
    """The run's own records, written as TokBench's per-instance outputs and imported: the same pooled and per-set
    numbers, to the byte; and on a part of them where a bucket is empty, the same undefined mean."""
    results, records = tokbench_run
    sets = official_outputs(records, tmp_path / "all")
    imported = import_official(tmp_path / "all", "mytok", "256", sets=tuple(sets))
    assert len(sets) == 9 and set(imported["subsets"]) == set(results["subsets"])
    assert dump(imported_view(imported["metrics"])) == dump(imported_view(results["metrics"]))
    for s in sets:
        assert dump(imported_view(imported["subsets"][s])) == dump(imported_view(results["subsets"][s])), s
    # a part of the same records with an empty face bucket: the run's aggregation and the importer agree on None
    part = [r for r in records if r["subset"] == "face" and r["image"].endswith(("t1.jpg", "face2.jpg"))]
    agg = aggregate_records(part, TE, FE)
    assert None in [agg["metrics"]["face"]["f_sim"][b] for b in ("small", "medium", "large")]
    assert agg["metrics"]["face"]["f_sim"]["mean"] is None and agg["metrics"]["face"]["n_counted"] > 0
    official_outputs(part, tmp_path / "part")
    again = import_official(tmp_path / "part", "mytok", "256", sets=("face",))
    assert dump(imported_view(again["metrics"])) == dump(imported_view(agg["metrics"]))
