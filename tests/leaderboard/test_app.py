"""Every page of the Streamlit app, driven with streamlit.testing.v1.AppTest on a store of real verified runs."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.testing.v1 import AppTest

from tests.leaderboard.conftest import improved_copy, run_folder, zip_run
from tfbench.leaderboard.importing import import_run
from tfbench.leaderboard.reference import import_reference
from tfbench.leaderboard.store import Store

APP = Path(__file__).resolve().parents[2] / "leaderboard"
SECRET = "test-secret-not-for-production"


@pytest.fixture()
def page(store_file: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TFBENCH_LEADERBOARD_STORE", str(store_file))
    monkeypatch.delenv("TFBENCH_LEADERBOARD_MAINTAINER_SECRET", raising=False)

    def run(name: str) -> AppTest:
        at = AppTest.from_file(str(APP / "views" / f"{name}.py"), default_timeout=90).run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    return run


KINDS = {  # AppTest does not expose a dataframe's key: each table of the app is told apart by its columns
    "leaderboard": lambda cols: "rank" in cols,
    "unverified_rows": lambda cols: "backends" in cols and "rank" not in cols,
    "papers": lambda cols: "suite" in cols and "backends" not in cols and "rank" not in cols,
    "front": lambda cols: "score" in cols,
}


def table(at: AppTest, kind: str) -> pd.DataFrame:
    [found] = [d.value for d in at.dataframe if KINDS[kind](set(d.value.columns))]
    return found


def chart_data(chart) -> pd.DataFrame:
    """The chart's largest dataset (a layered chart also carries the data of its Pareto line)."""
    frames = [convert_arrow_bytes_to_pandas_df(d.data.data) for d in chart.proto.datasets]
    return max(frames, key=len)


def test_table_ranks_one_selection_and_lists_published_rows_apart(page, store_file: Path) -> None:
    with Store(store_file) as store:
        import_reference(store)
    at = page("table")
    ranked = table(at, "leaderboard")
    assert ranked["adapter"].tolist() == ["identity", "webp:quality=30", "jpeg:quality=5"]
    assert ranked["rank"].tolist() == ["1", "1", "3"]  # shown as text: "—" where a mean is undefined
    assert at.selectbox(key="suite").value == "mini-lb v1" and at.selectbox(key="res").value == "256"
    assert any("Buckets at 256: text s/m/l = [0.02, 0.03) / [0.03, 0.04) / [0.04, 1)" in c.value for c in at.caption)
    assert [s.value for s in at.subheader] == ["mini-lb v1 @ 256",
                                              "Published: paper-reported: TokBench data, PARSeq + antelopev2"]
    papers = table(at, "papers")
    assert len(papers) == 22 and "rank" not in papers.columns and set(papers["res"]) == {"256"}

    at.selectbox(key="res").set_value("512").run()
    assert table(at, "leaderboard")["adapter"].tolist() == ["jpeg:quality=5"]
    at.selectbox(key="rank_by").set_value("F-Sim").run()
    assert table(at, "leaderboard")["rank"].tolist() == ["1"]


def test_unverified_rows_appear_only_when_asked(page, run_root: Path, store_file: Path) -> None:
    with Store(store_file) as store:
        bare = json.loads((run_folder(run_root, "identity", "256") / "results.json").read_text())
        bare["adapter"]["spec"] = "mystery-vae"
        store.import_results(bare, status="unverified", source="submission")
    at = page("table")
    assert "mystery-vae" not in table(at, "leaderboard")["adapter"].tolist()
    at.checkbox(key="unverified").check().run()
    assert table(at, "unverified_rows")["adapter"].tolist() == ["mystery-vae"]
    assert "mystery-vae" not in table(at, "leaderboard")["adapter"].tolist()


def test_model_page_shows_the_history_with_differences(page, run_root: Path, store_file: Path, tmp_path: Path) -> None:
    better = improved_copy(run_folder(run_root, "jpeg:quality=5", "256"), tmp_path / "better")
    with Store(store_file) as store:
        import_run(store, better / "results.json")
    at = page("model")
    option = next(o for o in at.selectbox(key="row").options if o.startswith("jpeg:quality=5 @ 256"))
    at.selectbox(key="row").set_value(option).run()
    assert not at.exception and "v2 verified" in option
    assert [s.value for s in at.subheader][1] == "History (2 versions)"
    changes = [c.value for c in at.code if "->" in c.value]
    assert len(changes) == 1 and "T-ACC: 0.2778 -> 1.0000 (+0.7222)" in changes[0]
    charts = at.get("vega_lite_chart")
    assert json.loads(charts[0].proto.spec).get("title") == "Scores per scale bucket"
    assert [c.value for c in at.code if c.language == "bash"] == [
        "tfbench run --suite mini-lb -a jpeg:quality=5 -r 256 --ocr rapidocr --face sface"]
    assert not any("Imported from" in c.value for c in at.caption)  # no server path in public mode


def test_compression_page_plots_one_selection_with_a_legend(page) -> None:
    at = page("compression")
    chart = at.get("vega_lite_chart")[0]
    spec = json.loads(chart.proto.spec)
    assert spec["title"] == "T-ACC vs bits per pixel: mini-lb v1 @ 256 [" + at.selectbox(key="sel").value.split("[")[1]
    encodings = [layer.get("encoding", {}) for layer in spec["layer"]]
    assert any(e.get("color", {}).get("title") == "Pareto front" for e in encodings)
    assert any(e.get("shape", {}).get("title") == "family" for e in encodings)
    data = chart_data(chart)
    assert len(data) == 3 and set(data["adapter"]) == {"identity", "jpeg:quality=5", "webp:quality=30"}
    front = table(at, "front")
    for _, p in data[~data.pareto].iterrows():  # each point off the front is beaten by a front point
        assert ((front.bpp <= p.bpp) & (front.score >= p.score)).any()


def test_crops_viewer_shows_worst_cases_first(page, run_root: Path) -> None:
    at = page("crops")
    option = next(o for o in at.selectbox(key="row").options if o.startswith("jpeg:quality=5 @ 256"))
    at.selectbox(key="row").set_value(option).run()
    at.slider(key="count").set_value(5).run()
    assert len(at.get("image")) == 10
    notes = [m.value for m in at.markdown if "ground truth" in m.value]
    assert len(notes) == 5 and "(misread)" in notes[0]
    records = [json.loads(line) for line in (run_folder(run_root, "jpeg:quality=5", "256") / "records.jsonl").open()]
    worst = min((w for r in records for w in r.get("words", []) if "t_acc" in w), key=lambda w: (w["t_acc"], w["t_ned"]))
    assert f"ground truth **{worst['gt']}**" in notes[0]


def test_public_submit_page_never_shows_the_queue_notes_or_paths(page, run_root: Path, store_file: Path) -> None:
    folder = run_folder(run_root, "webp:quality=30", "256")
    at = page("submit")
    at.file_uploader(key="results").set_value(("results.json", (folder / "results.json").read_bytes(),
                                               "application/json")).run()
    at.button(key="submit").click().run()
    assert [e.value for e in at.error][0].startswith("Refused: no records zip was received")
    at.file_uploader(key="bundle").set_value(("run.zip", zip_run(folder), "application/zip")).run()
    at.text_input(key="note").input("private note: call me on 555").run()
    at.button(key="submit").click().run()
    at.button(key="submit").click().run()  # the same content again
    assert [s.value for s in at.success] == ["Already pending as submission #1 (identical content); nothing new was "
                                            "queued."]
    text = " ".join(e.value for e in [*at.markdown, *at.caption, *at.info, *at.success, *at.error, *at.subheader])
    assert "555" not in text and str(store_file) not in text and "Pending" not in text and not at.dataframe
    with Store(store_file) as store:
        assert len(store.db.execute("SELECT id FROM submissions").fetchall()) == 1


def test_maintainer_page_is_locked_without_the_secret_and_approves_with_it(page, run_root: Path, store_file: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from tfbench.leaderboard.submissions import submit

    folder = run_folder(run_root, "webp:quality=30", "256")
    with Store(store_file) as store:
        submit(store, (folder / "results.json").read_bytes(), zip_run(folder), note="from the lab", client="t")
    at = page("maintainer")
    assert "Maintainer mode is off" in at.info[0].value and not at.code
    monkeypatch.setenv("TFBENCH_LEADERBOARD_MAINTAINER_SECRET", SECRET)
    at = page("maintainer")
    at.text_input(key="maintainer_entry").input("wrong").run()
    at.button(key="unlock").click().run()
    assert at.error[0].value == "That is not the secret configured on this server." and not at.code
    at.text_input(key="maintainer_entry").input(SECRET).run()
    at.button(key="unlock").click().run()
    assert any("Note: from the lab" in m.value for m in at.markdown)
    assert "identical to the current version 1" in at.code[0].value  # the imported run, submitted again
    at.button(key="approve_1").click().run()
    assert at.success[0].value.startswith("Approved #1: unchanged row #") and "(version 1, verified)" in at.success[0].value


def test_about_page_gives_protocol_metrics_buckets_and_citations(page) -> None:
    at = page("about")
    bib = [c.value for c in at.code if c.language == "bibtex"][0]
    assert "@article{wu2025tokbench" in bib and "arXiv:2505.18142" in bib and "@software{tfbench" in bib
    metrics = at.table[0].value
    assert list(metrics["column"]) == ["T-ACC", "T-NED", "F-Sim", "F-kept"]
    assert metrics.set_index("column").loc["F-Sim", "range"] == "-1 to 1"
    suites = at.table[1].value
    assert set(suites["suite"]) == {"mini-lb v1"} and "0.02, 0.03, 0.04, 1" in suites["text edges"].tolist()


def test_app_entry_point_serves_the_leaderboard_first(store_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TFBENCH_LEADERBOARD_STORE", str(store_file))
    at = AppTest.from_file(str(APP / "app.py"), default_timeout=90).run()
    assert not at.exception
    assert at.title[0].value == "tfbench leaderboard" and len(table(at, "leaderboard")) == 3
    at.switch_page(str(APP / "views" / "about.py")).run()
    assert not at.exception and at.title[0].value == "About this leaderboard"


def test_attempts_are_limited_per_client_and_minute() -> None:
    from tfbench.leaderboard.context import AttemptLimiter

    limiter = AttemptLimiter(3)
    assert [limiter.allow("web:1.2.3.4") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("web:5.6.7.8")  # another client has its own budget
