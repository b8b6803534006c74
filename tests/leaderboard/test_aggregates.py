"""Verification recomputes exactly what `tfbench score` writes, and undefined means (an empty bucket) stay undefined:
verified as None, shown as —, never ranked above a defined mean."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from tests.leaderboard.conftest import RUNS, registered_store, rewrite_run, run_folder
from tests.small_suites import mini_subset
from tfbench.cli import main
from tfbench.errors import TfbenchError
from tfbench.leaderboard.importing import import_run
from tfbench.leaderboard.store import Store
from tfbench.leaderboard.suitedefs import lookup
from tfbench.leaderboard.table import (UNDEFINED, Selection, flatten, for_display, ranked, to_csv, to_markdown,
                                       undefined_note)
from tfbench.leaderboard.verify import verify_records


@pytest.mark.parametrize("spec,res", RUNS)
def test_verification_recomputes_byte_for_byte_what_tfbench_score_writes(spec: str, res: str, run_root: Path,
                                                                         base_store: Path, tmp_path: Path) -> None:
    folder = run_folder(run_root, spec, res)
    assert main(["score", str(folder), "-r", res, "-o", str(tmp_path / "scored.json")]) == 0
    scored = json.loads((tmp_path / "scored.json").read_text())
    stated = json.loads((folder / "results.json").read_text())
    assert json.dumps(scored["metrics"]) == json.dumps(stated["metrics"])  # the run's numbers are score's numbers
    records = [json.loads(line) for line in (folder / "records.jsonl").read_text().splitlines()]
    with Store(base_store) as store:
        definition = lookup(store, stated["suite"])
    assert verify_records(scored, records, definition)["aggregates"] == "recomputed, equal"
    # no tolerance: one unit in the last place of a mean is a different number
    mean = stated["metrics"]["text"]["t_acc"]["mean"]
    stated["metrics"]["text"]["t_acc"]["mean"] = math.nextafter(mean, -1.0)
    with pytest.raises(TfbenchError, match=rf"^metrics\.text\.t_acc\.mean: results.json says "
                                           rf"{math.nextafter(mean, -1.0)!r}, but its records give {mean!r} "):
        verify_records(stated, records, definition)


IMAGES_WITH_A_GAP = ("text_01", "face_01")  # face_01's faces at 256: three small, one large, no medium one


@pytest.fixture()
def gap_run(run_root: Path, mini_v1, tmp_path: Path) -> tuple[Path, Path]:
    """(run folder, store) of `mini-gap`, two images of mini v1 whose faces leave the medium bucket empty at 256: the
    q5 run's own records of those two images (each image is scored on its own), results rebuilt from them."""
    suite = mini_subset(mini_v1, tmp_path / "suite", IMAGES_WITH_A_GAP, "mini-gap")

    def keep(records: list[dict], dest: Path) -> list[dict]:
        return [r for r in records if r["image"] in IMAGES_WITH_A_GAP]

    folder = rewrite_run(run_folder(run_root, "jpeg:quality=5", "256"), tmp_path / "mini-gap" / "q5", keep)
    data = json.loads((folder / "results.json").read_text())
    data["suite"].update(name="mini-gap", manifest_sha256=suite.manifest_sha256)
    (folder / "results.json").write_text(json.dumps(data))
    return folder, registered_store(tmp_path / "gap.sqlite", suite)


def test_an_undefined_mean_is_verified_as_undefined_and_shown_as_a_dash_with_its_reason(gap_run, capsys) -> None:
    folder, path = gap_run
    data = json.loads((folder / "results.json").read_text())
    f_sim = data["metrics"]["face"]["f_sim"]
    assert data["metrics"]["face"]["n"] == {"small": 3, "medium": 0, "large": 1}
    assert f_sim["mean"] is None and f_sim["medium"] is None and f_sim["instance_mean"] is not None
    with Store(path) as store:
        before = store.fingerprint()
        filled = json.loads(json.dumps(data))
        filled["metrics"]["face"]["f_sim"]["mean"] = f_sim["instance_mean"]  # a number where the rule gives none
        (folder / "filled.json").write_text(json.dumps(filled))
        with pytest.raises(TfbenchError, match=rf"metrics\.face\.f_sim\.mean: results.json says "
                                               rf"{f_sim['instance_mean']!r}, but its records give None"):
            import_run(store, folder / "filled.json")
        assert store.fingerprint() == before
        assert import_run(store, folder / "results.json").status == "added"
        frame = flatten(store.results(latest=True))
    [row] = frame.to_dict("records")
    assert row["status"] == "verified" and math.isnan(row["F-Sim"]) and not math.isnan(row["T-ACC"])
    note = undefined_note(data)
    assert note.startswith("F-Sim, F-kept: empty bucket: medium (n s/m/l 3/0/1); instance means ")
    assert row["undefined"] == note and f"{f_sim['instance_mean']:.3f}" in note
    table = ranked(frame, Selection("mini-gap v1", "256", row["backends"]), "F-Sim")
    assert table["rank"].isna().all()  # no rank from an undefined mean
    md = to_markdown(table).splitlines()
    header = [c.strip() for c in md[0].strip("|").split("|")]
    cells = [c.strip() for c in md[2].strip("|").split("|")]
    assert cells[header.index("rank")] == UNDEFINED and cells[header.index("F-Sim")] == UNDEFINED
    assert cells[header.index("undefined")] == note
    assert "empty bucket: medium" in to_csv(table)
    capsys.readouterr()
    assert main(["leaderboard", "export", "--by", "F-Sim", "--store", str(path)]) == 0
    assert capsys.readouterr().out == to_markdown(table)
    assert main(["leaderboard", "export", "--by", "PSNR", "--store", str(path)]) == 2
    assert "--by 'PSNR': the board ranks by one of T-ACC, T-NED, F-Sim, F-kept" in capsys.readouterr().err


def _made_up(spec: str, t_acc: float | None, t_acc_medium: float | None) -> dict:
    """A stored row with MADE-UP values (test fixture only): enough of results.json for the table."""
    block = {"small": 0.5, "medium": t_acc_medium, "large": 0.9, "mean": t_acc, "instance_mean": 0.7}
    return {"adapter": {"spec": spec, "family": "x", "bits_per_pixel": 1.0},
            "suite": {"name": "s", "version": "1", "resolution": "256", "modality": "image"},
            "metrics": {"text": {"t_acc": block, "n": {"small": 2, "medium": 0 if t_acc is None else 1, "large": 3}}},
            "_row": {"id": hash(spec) % 1000, "status": "verified", "grp": "measured", "version": 1,
                     "text_backend": "ocr", "face_backend": "face"}}


def test_rows_with_an_undefined_mean_come_after_every_ranked_row() -> None:
    frame = flatten([_made_up("gap-a", None, None), _made_up("low", 0.2, 0.1), _made_up("gap-b", None, None),
                     _made_up("high", 0.8, 0.7)])
    table = ranked(frame, Selection("s v1", "256", "ocr + face"), "T-ACC")
    assert table["adapter"].tolist()[:2] == ["high", "low"] and set(table["adapter"][2:]) == {"gap-a", "gap-b"}
    assert table["rank"].tolist()[:2] == [1, 2] and table["rank"][2:].isna().all()
    assert table.iloc[3]["undefined"] == "T-ACC: empty bucket: medium (n s/m/l 2/0/3); instance mean 0.700"
    shown = for_display(table[["rank", "adapter", "T-ACC", "T-ACC m", "bpp"]]).to_dict("split")["data"]
    assert shown[0] == ["1", "high", "0.800", "0.700", 1.0]
    assert shown[3] == [UNDEFINED, table.iloc[3]["adapter"], UNDEFINED, UNDEFINED, 1.0]
    assert isinstance(table["rank"].dtype, pd.Int64Dtype)
