"""Every page of the Streamlit app, driven with streamlit.testing.v1.AppTest on a store of real runs."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.testing.v1 import AppTest

from tests.leaderboard.conftest import run_folder
from tests.leaderboard.test_submissions import zip_with

APP = Path(__file__).resolve().parents[2] / "leaderboard"


@pytest.fixture()
def page(store_file: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TFBENCH_LEADERBOARD_STORE", str(store_file))

    def run(name: str) -> AppTest:
        at = AppTest.from_file(str(APP / "views" / f"{name}.py"), default_timeout=60).run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    return run


def rows(at: AppTest) -> pd.DataFrame:
    """The page's one table (leaderboard, Pareto front or pending queue)."""
    [frame] = at.dataframe
    return frame.value


def chart_data(chart) -> pd.DataFrame:
    """The chart's largest dataset (a layered chart also carries the data of its Pareto line)."""
    frames = [convert_arrow_bytes_to_pandas_df(d.data.data) for d in chart.proto.datasets]
    return max(frames, key=len)


def test_table_filters_change_the_rows(page) -> None:
    at = page("table")
    table = rows(at)
    assert sorted(zip(table.adapter, table.res, strict=True)) == [("identity", "256"), ("jpeg:quality=5", "256"),
                                                      ("jpeg:quality=5", "512"), ("webp:quality=30", "256")]
    assert table["T-ACC"].is_monotonic_decreasing  # default sort: T-ACC, better first
    assert table.set_index("adapter").loc["identity", "T-ACC"] == 1.0
    assert table.baseline.tolist().count(True) == 3  # identity and JPEG rows are the baselines

    at.multiselect(key="family").set_value(["webp"]).run()
    assert sorted(rows(at).adapter) == ["identity", "jpeg:quality=5", "jpeg:quality=5", "webp:quality=30"]
    at.checkbox(key="pin").uncheck().run()
    assert rows(at).adapter.tolist() == ["webp:quality=30"]

    at.multiselect(key="family").set_value([]).run()
    at.multiselect(key="res").set_value(["512"]).run()
    assert rows(at).adapter.tolist() == ["jpeg:quality=5"]

    at.multiselect(key="res").set_value([]).run()
    lo, hi = at.slider(key="bpp").value
    at.slider(key="bpp").set_value((lo, 1.0)).run()  # codecs under 1 bpp: identity (24 bpp) drops out
    filtered = rows(at)
    assert "identity" not in filtered.adapter.tolist() and len(filtered) == 3 and (filtered.bpp <= 1.0).all()

    at.selectbox(key="sort").set_value("bpp").run()
    assert rows(at).bpp.is_monotonic_increasing
    assert "face preservation" in rows(at).columns
    assert rows(at)["face preservation"].str.contains(r"^\d\.\d{3} sim, \d+% kept$").all()
    assert "| webp:quality=30 |" in at.code[0].value  # the Markdown export of the same rows


def test_model_page_renders_its_plots_and_reproduce_command(page) -> None:
    at = page("model")
    options = at.selectbox(key="row").options
    at.selectbox(key="row").set_value(next(o for o in options if o.startswith("jpeg:quality=5 @ 256"))).run()
    assert not at.exception
    charts = at.get("vega_lite_chart")
    titles = [json.loads(c.proto.spec).get("title") for c in charts]
    assert titles[:2] == ["Scores per scale bucket", "Metric vs scale (instance size / image width)"]
    bars = chart_data(charts[0])
    assert set(bars.metric) == {"T-ACC", "T-NED", "F-Sim", "F-kept"} and set(bars.bucket) == {"small", "medium", "large"}
    curves = chart_data(charts[1])
    assert set(curves.resolution) == {"256", "512"} and set(curves.source) == {"instances"}
    assert curves.value.between(-1, 1).all() and len(curves) > 8
    assert [c.value for c in at.code] == ["tfbench run --suite mini -a jpeg:quality=5 -r 256 --ocr rapidocr --face sface"]
    assert [m.label for m in at.metric] == ["T-ACC", "T-NED", "F-Sim", "F-kept", "bits per pixel"]
    assert any("Budget" in m.value for m in at.markdown)


def test_compression_page_highlights_the_pareto_front(page) -> None:
    at = page("compression")
    chart = at.get("vega_lite_chart")[0]
    data = chart_data(chart)
    assert len(data) == 4 and "Pareto" in json.loads(chart.proto.spec)["title"]
    front = rows(at)
    assert set(front.adapter) <= set(data.adapter) and 1 <= len(front) <= 4
    # each point off the front is beaten by a front point: no more bits per pixel, no lower T-ACC
    for _, p in data[~data.pareto].iterrows():
        assert ((front.bpp <= p.bpp) & (front.score >= p.score)).any()
    assert data.loc[data.bpp.idxmin(), "pareto"]  # the cheapest point is always on the front
    at.radio(key="metric").set_value("F-Sim").run()
    assert rows(at).score.max() == pytest.approx(chart_data(at.get("vega_lite_chart")[0]).score.max())


def test_crops_viewer_shows_worst_cases_first(page, run_root: Path) -> None:
    at = page("crops")
    options = at.selectbox(key="row").options
    at.selectbox(key="row").set_value(next(o for o in options if o.startswith("jpeg:quality=5 @ 256"))).run()
    at.slider(key="count").set_value(5).run()
    images = at.get("image")
    assert len(images) == 10 and [i.proto.imgs[0].caption for i in images[:2]] == ["original", "reconstruction"]
    notes = [m.value for m in at.markdown if "ground truth" in m.value]
    assert len(notes) == 5 and "(misread)" in notes[0]
    records = [json.loads(line) for line in (run_folder(run_root, "jpeg:quality=5", "256") / "records.jsonl").open()]
    worst = min((w for r in records for w in r.get("words", []) if "t_acc" in w), key=lambda w: (w["t_acc"], w["t_ned"]))
    assert f"ground truth **{worst['gt']}**" in notes[0] and f"T-NED {worst['t_ned']:.3f}" in notes[0]
    at.radio(key="kind").set_value("face").run()
    sims = [float(m.value.split("F-Sim **")[1].split("**")[0]) for m in at.markdown if "F-Sim **" in m.value]
    assert len(sims) == 5 and sims == sorted(sims)


def test_submit_page_rejects_an_invalid_upload_and_accepts_a_valid_one(page, run_root: Path) -> None:
    at = page("submit")
    at.file_uploader(key="results").set_value(("results.json", b'{"schema": "tfbench.results/1", "adapter": 3}',
                                               "application/json")).run()
    at.button(key="submit").click().run()
    assert [e.value for e in at.error] == ["Rejected: results.json: missing or malformed `adapter`"]
    assert not at.success

    good = (run_folder(run_root, "webp:quality=30", "256") / "results.json").read_bytes()
    at.file_uploader(key="results").set_value(("results.json", good, "application/json")).run()
    at.file_uploader(key="bundle").set_value(("run.zip", zip_with("../../evil.png", b"\x89PNG\r\n\x1a\n"),
                                              "application/zip")).run()
    at.button(key="submit").click().run()
    assert len(at.error) == 1 and at.error[0].value.startswith("Rejected: zip entry '../../evil.png' has an unsafe path")
    assert not at.success

    at.file_uploader(key="bundle").set_value(None).run()
    at.button(key="submit").click().run()
    assert not at.error
    assert [s.value for s in at.success] == ["Accepted as submission #1; it is pending a maintainer's approval."]
    assert rows(at).adapter.tolist() == ["webp:quality=30"]


def test_app_entry_point_serves_the_leaderboard_first(store_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TFBENCH_LEADERBOARD_STORE", str(store_file))
    at = AppTest.from_file(str(APP / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert at.title[0].value == "tfbench leaderboard" and len(rows(at)) == 4
    at.switch_page(str(APP / "views" / "model.py")).run()
    assert not at.exception and at.title[0].value == "Model"
