"""A real `mini-video` run (H.264, crf 45, 256) imports into the store, verified, and shows on the board."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.leaderboard.conftest import zip_run
from tfbench.errors import TfbenchError
from tfbench.leaderboard import submissions as sub
from tfbench.leaderboard.importing import import_run
from tfbench.leaderboard.store import Store

PAGES = Path(__file__).resolve().parents[2] / "leaderboard" / "views"


@pytest.fixture(scope="module")
def video_run(tmp_path_factory: pytest.TempPathFactory, scorers) -> Path:
    pytest.importorskip("av", reason="video runs need PyAV (pip install 'tfbench[video]')")
    from tfbench.pipeline import evaluate
    from tfbench.registry import create_adapter
    from tfbench.suites import load_suite

    out = tmp_path_factory.mktemp("video-runs")
    results = evaluate(load_suite("mini-video"), create_adapter("h264:crf=45"), "256", scorers, out)
    return Path(results["_path"]).parent


def test_a_video_run_imports_verified_and_shows_on_the_board(video_run: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    records = [json.loads(line) for line in (video_run / "records.jsonl").read_text().splitlines()]
    indices = [(r["image"], w["i"]) for r in records for w in r["words"]]
    assert len(indices) > len(set(indices))  # word indices repeat across the frames of a clip
    path = tmp_path / "board.sqlite"
    with Store(path) as store:  # mini-video is built in: the board registers it on first import
        outcome = import_run(store, video_run / "results.json")
        assert outcome.status == "added" and outcome.instances == sum(
            1 for r in records for x in r["words"] + r["faces"] if not x.get("skipped"))
        [row] = store.results()
        assert row["_row"]["status"] == "verified" and row["suite"]["modality"] == "video"
        assert row["_row"]["verification"]["suite"] == "mini-video v1" and row["_row"]["verification"]["images"] == 4
        frames = {i.frame for i in store.instances(row["_row"]["id"])}
        assert len(frames) > 1 and -1 not in frames
        assert import_run(store, video_run / "results.json").status == "unchanged"
    monkeypatch.setenv("TFBENCH_LEADERBOARD_STORE", str(path))
    at = AppTest.from_file(str(PAGES / "table.py"), default_timeout=90).run()
    assert not at.exception, [e.value for e in at.exception]
    [table] = [d.value for d in at.dataframe if "rank" in d.value.columns]
    assert table["adapter"].tolist() == ["h264:crf=45"] and table["rank"].tolist() == ["1"]
    assert at.selectbox(key="suite").value == "mini-video v1"
    assert table.loc[0, "T-ACC"] == f"{row['metrics']['text']['t_acc']['mean']:.3f}"  # as the table shows it


def test_a_submitted_video_run_cannot_be_ranked_without_crops(video_run: Path, tmp_path: Path) -> None:
    with Store(tmp_path / "board.sqlite") as store:
        from tfbench.leaderboard.suitedefs import load_and_register

        load_and_register(store, "mini-video")
        queued = sub.submit(store, (video_run / "results.json").read_bytes(), zip_run(video_run), client="t")
        before = store.fingerprint()
        with pytest.raises(TfbenchError, match="video runs keep no crops, so their readings cannot be re-read"):
            sub.approve(store, queued.id)
        assert store.fingerprint() == before
