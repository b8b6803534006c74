"""Budgets survive resume: a rerun adds its own time to the recorded budget and says how much was resumed."""
import json

import pytest

from tfbench.budget import StageTimer, resumed_budget, session_budget
from tfbench.pipeline import MODEL_STAGES, evaluate
from tfbench.registry import create_adapter

from tests.small_suites import mini_subset


def test_resumed_budget_adds_times_and_keeps_the_first_runs_stages(tmp_path):
    results = tmp_path / "results.json"
    first = {"wall_s": 20.0, "peak_rss_mb": 800.0, "device": "cpu", "images_evaluated": 20, "images_resumed": 0,
             "stages": {"ocr": 6.0, "face": 4.0, "reconstruct": 2.0, "load": 1.0}, "model_s": 12.0, "overhead": 1.667,
             "sessions": 1, "images_without_budget": 0}
    results.write_text(json.dumps({"budget": first}))
    timer = StageTimer()
    timer.seconds = {"ocr": 0.5, "write": 0.25}
    now = session_budget(timer, MODEL_STAGES, device="cpu", images_evaluated=1, images_resumed=19)
    b = resumed_budget(results, now)
    assert b["wall_s"] == pytest.approx(20.0 + now["wall_s"]) and b["wall_s"] >= 20.0
    assert b["stages"] == {"face": 4.0, "load": 1.0, "ocr": 6.5, "reconstruct": 2.0, "write": 0.25}
    assert b["model_s"] == 12.5 and b["overhead"] == pytest.approx(b["wall_s"] / 12.5, abs=1e-3)
    assert (b["images_evaluated"], b["images_resumed"], b["sessions"], b["images_without_budget"]) == (1, 19, 2, 0)
    # the peak is the larger of the two sessions' (this process's own peak depends on the tests run before it)
    assert b["peak_rss_mb"] == max(800.0, now["peak_rss_mb"]) and b["last_session"]["images_resumed"] == 19
    high = tmp_path / "high.json"
    high.write_text(json.dumps({"budget": {**first, "peak_rss_mb": 1e6}}))
    assert resumed_budget(high, now)["peak_rss_mb"] == 1e6
    # nothing recorded (the earlier invocation was killed before results.json): what it did is counted, not timed
    alone = resumed_budget(tmp_path / "none.json", now)
    assert alone["sessions"] == 1 and alone["images_without_budget"] == 19 and alone["wall_s"] == now["wall_s"]
    # an older or edited results.json: unusable figures count as 0, never crash
    results.write_text(json.dumps({"budget": {"wall_s": "x", "stages": {"ocr": None}, "images_without_budget": True}}))
    odd = resumed_budget(results, now)
    assert odd["wall_s"] == now["wall_s"] and odd["stages"]["ocr"] == 0.5 and odd["images_without_budget"] == 0


@pytest.fixture(scope="module")
def two(mini_v1, tmp_path_factory):
    return mini_subset(mini_v1, tmp_path_factory.mktemp("mini2"), ("text_01", "face_00"), "mini2")


def test_rerunning_a_finished_run_keeps_its_measured_budget(two, scorers, tmp_path):
    first = evaluate(two, create_adapter("jpeg:quality=30"), "256", scorers, tmp_path)["budget"]
    again = evaluate(two, create_adapter("jpeg:quality=30"), "256", scorers, tmp_path)["budget"]
    assert first["wall_s"] > 0.1 and first["stages"]["ocr"] > 0 and first["sessions"] == 1
    assert again["images_evaluated"] == 0 and again["images_resumed"] == 2 and again["sessions"] == 2
    assert first["wall_s"] <= again["wall_s"] < first["wall_s"] + again["last_session"]["wall_s"] + 1e-3
    for stage, seconds in first["stages"].items():
        assert again["stages"][stage] >= seconds  # the first run's stage times are kept (summed)
    assert again["model_s"] >= first["model_s"] > 0
    on_disk = json.loads(next(tmp_path.rglob("results.json")).read_text())["budget"]
    assert on_disk == again


def test_a_killed_run_resumed_counts_what_it_could_not_time(two, scorers, tmp_path):
    evaluate(two, create_adapter("jpeg:quality=30"), "256", scorers, tmp_path)
    journal = next(tmp_path.rglob("records.jsonl"))
    journal.write_text(journal.read_text().splitlines()[0] + "\n")  # killed after the first image ...
    next(tmp_path.rglob("results.json")).unlink()  # ... before results.json was written
    b = evaluate(two, create_adapter("jpeg:quality=30"), "256", scorers, tmp_path)["budget"]
    assert (b["images_evaluated"], b["images_resumed"], b["images_without_budget"], b["sessions"]) == (1, 1, 1, 1)
