"""One aggregation everywhere: the same records give byte-identical aggregates through results, `tfbench score`,
`tfbench merge`, and `import-tokbench-results` (its per-set breakdown included), with TokBench's empty-bucket rule.
(Ray and video runs are checked against `tfbench score` of their own journals in test_ray_engine / test_video_pipeline.)"""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from tfbench.aggregation import aggregate_instances, aggregate_records, undefined_reason
from tfbench.buckets import FACE_EDGES, TEXT_EDGES
from tfbench.errors import ResultsError
from tfbench.merge import merge_paths
from tfbench.records import RecordWriter, read_records
from tfbench.report import text_table
from tfbench.rescore import rescore
from tfbench.results import build_results
from tfbench.sharding import Shard
from tfbench.tokbench_results import import_official
from tests.official_outputs import dump, imported_view, official_outputs

TE, FE = TEXT_EDGES["256"], FACE_EDGES["256"]  # text 0.02, 0.03, 0.04, 1; face 0.1, 0.2, 0.3, 1


def _records() -> list[dict]:
    """Made-up records (values invented for the test): two text sets and faces; no text instance of any set
    falls in the medium bucket [0.03, 0.04), so the pooled text mean is undefined; ic15 has no large word."""
    rng = np.random.default_rng(11)
    recs = []
    ratios = {"ic13": [0.021, 0.025, 0.05, 0.2, 0.011, 1.0], "ic15": [0.022, 0.029, 0.0299, 0.015]}
    for s, rs in ratios.items():
        for i in range(3):
            words = []
            for k, r in enumerate(rs):
                acc = float(rng.random() < 0.6)
                words.append({"i": k, "gt": "word", "pred": "word" if acc else "wxrd", "ratio": r, "t_acc": acc,
                              "t_ned": 1.0 if acc else float(rng.uniform(0, 0.9)), "psnr": float(rng.uniform(20, 40)),
                              "ssim": float(rng.uniform(0.3, 1))})
            recs.append({"image": f"{s}/{s}_{i}.jpg", "subset": s, "status": "ok", "words": words, "faces": []})
    for i in range(5):
        faces = [{"i": k, "ratio": float(r), "f_sim": float(rng.uniform(-0.1, 1)), "f_kept": 0.0, "psnr": 30.0,
                  "ssim": 0.9} for k, r in enumerate(rng.uniform(0.05, 0.7, 4))]
        recs.append({"image": f"face/f{i}.png", "subset": "face", "status": "ok", "words": [], "faces": faces})
    return recs


def _results(records, **kw):
    return build_results(adapter={"spec": "mytok", "family": "mytok", "kind": "continuous"},
                         suite={"name": "toy", "version": "1", "resolution": "256", "modality": "image"},
                         backends={"text": {"backend": "rapidocr"}, "face": {"backend": "sface"}}, records=records,
                         text_edges=TE, face_edges=FE, budget=kw.pop("budget", {}), **kw)


def test_tokbench_rule_with_an_empty_bucket_and_the_instance_mean():
    agg = aggregate_records(_records(), TE, FE)
    text, ic15 = agg["metrics"]["text"], agg["subsets"]["ic15"]["text"]
    assert text["n"] == {"small": 15, "medium": 0, "large": 6} and text["n_counted"] == 21 and text["uncounted"] == 9
    t_acc = text["t_acc"]
    assert t_acc["medium"] is None and t_acc["mean"] is None  # TokBench: one empty bucket, no mean of bucket means
    small = [w["t_acc"] for r in _records() for w in r["words"] if 0.02 <= w["ratio"] < 0.03]
    large = [w["t_acc"] for r in _records() for w in r["words"] if 0.04 <= w["ratio"] < 1.0]
    assert t_acc["small"] == math.fsum(small) / 15 and t_acc["large"] == math.fsum(large) / 6
    assert t_acc["instance_mean"] == math.fsum(small + large) / 21  # always defined, over every counted word
    assert ic15["n"] == {"small": 9, "medium": 0, "large": 0} and ic15["t_ned"]["mean"] is None
    assert ic15["t_ned"]["instance_mean"] == ic15["t_ned"]["small"]
    assert undefined_reason(ic15["t_acc"], ic15["n"]) == "empty buckets: medium, large (n s/m/l 9/0/0)"
    assert undefined_reason(agg["metrics"]["face"]["f_sim"], agg["metrics"]["face"]["n"]) is None
    f = agg["metrics"]["face"]["f_sim"]
    assert f["mean"] == math.fsum([f["small"], f["medium"], f["large"]]) / 3
    nothing = aggregate_instances([], ("t_acc",), TE)
    assert nothing["t_acc"] == dict.fromkeys(("small", "medium", "large", "mean", "instance_mean"))
    assert (nothing["n_counted"], nothing["uncounted"]) == (0, 0)
    assert aggregate_instances([{"ratio": 0.5}], (), TE) == {"n": {"small": 0, "medium": 0, "large": 0},
                                                              "n_counted": 0, "uncounted": 1}
    assert set(agg["metrics"]["text"]) == {"t_acc", "t_ned", "psnr", "ssim", "n", "n_counted", "uncounted"}
    assert set(agg["metrics"]["face"]) == {"f_sim", "f_kept", "psnr", "ssim", "n", "n_counted", "uncounted"}


def test_every_path_gives_byte_identical_aggregates(tmp_path):
    records = _records()
    direct = aggregate_records(records, TE, FE)
    reverse = aggregate_records(list(reversed(records)), TE, FE)
    assert dump(reverse) == dump(direct)  # order independent (exactly rounded sums)

    # tfbench score: a run folder's journal rescored
    run = tmp_path / "run"
    run.mkdir()
    with RecordWriter(run / "records.jsonl") as w:
        for rec in reversed(records):
            w.append(rec)
    (run / "run.json").write_text(json.dumps({"suite": "toy", "suite_version": "1", "adapter": "mytok",
                                              "resolution": "256"}))
    (run / "results.json").write_text(json.dumps(_results(records)))
    scored = rescore(run, "256")
    assert dump(scored["metrics"]) == dump(direct["metrics"]) and dump(scored["subsets"]) == dump(direct["subsets"])

    # tfbench merge: two shard folders with their own journals and results
    config = {"suite": "toy", "suite_version": "1", "adapter": "mytok", "resolution": "256"}
    for k in (0, 1):
        shard = Shard(k, 2)
        part = [r for r in records if shard.contains(r["image"])]
        folder = tmp_path / "merged" / "toy" / "mytok@256" / shard.folder
        folder.mkdir(parents=True)
        with RecordWriter(folder / "records.jsonl") as w:
            for rec in part:
                w.append(rec)
        (folder / "run.json").write_text(json.dumps({**config, "shard": shard.label}))
        (folder / "results.json").write_text(json.dumps(_results(part, config={**config, "shard": shard.label})))
    assert 0 < sum(Shard(0, 2).contains(r["image"]) for r in records) < len(records)
    merged = merge_paths([tmp_path / "merged"])[0]
    assert dump(merged["metrics"]) == dump(direct["metrics"]) and dump(merged["subsets"]) == dump(direct["subsets"])

    # import-tokbench-results: the same instances as TokBench's per-instance outputs, pooled and per set
    sets = official_outputs(records, tmp_path / "official")
    imported = import_official(tmp_path / "official", "mytok", "256", sets=tuple(sets))
    assert dump(imported_view(imported["metrics"])) == dump(imported_view(direct["metrics"]))
    assert imported["metrics"]["text"]["t_acc"]["mean"] is None  # the empty medium bucket, as the official script
    assert imported["subsets"]["ic15"]["text"]["t_ned"]["mean"] is None  # and per set: ic15 has no medium/large word
    assert imported["subsets"]["ic15"]["text"]["t_ned"]["small"] is not None
    assert imported["subsets"]["face"]["face"]["f_sim"]["mean"] is not None
    for s in sets:
        assert dump(imported_view(imported["subsets"][s])) == dump(imported_view(direct["subsets"][s])), s


def test_show_prints_undefined_means_as_a_dash_with_the_reason_and_instance_mean():
    table = text_table([_results(_records())])
    row = table.splitlines()[2]
    cells = row.split()
    assert cells[:2] == ["mytok", "256"] and cells[3] == "—" and cells[5] == "—"  # T-ACC m and T-ACC mean
    t_acc = aggregate_records(_records(), TE, FE)["metrics"]["text"]["t_acc"]
    assert (f"— mytok @ 256: text mean of bucket means undefined (empty bucket: medium (n s/m/l 15/0/6)); "
            f"mean over all counted instances: T-ACC {t_acc['instance_mean']:.3f}, T-NED ") in table


@pytest.mark.parametrize("bad,message", [
    ({"t_acc": float("nan")}, "a word's `t_acc` is nan, not a finite number"),
    ({"t_ned": float("inf")}, "a word's `t_ned` is inf, not a finite number"),
    ({"psnr": float("-inf")}, "a word's `psnr` is -inf, not a finite number"),
    ({"ssim": "0.5"}, "a word's `ssim` is '0.5', not a finite number"),
    ({"t_acc": True}, "a word's `t_acc` is True, not a finite number"),
    ({"ratio": None}, "a word has no numeric `ratio`"),
])
def test_records_with_nan_inf_or_non_numbers_are_refused(bad, message):
    rec = {"image": "x", "status": "ok", "words": [{"ratio": 0.5, "t_acc": 1.0, "t_ned": 1.0, **bad}], "faces": []}
    with pytest.raises(ResultsError, match=rf"the record of image 'x' is malformed: {message}"):
        aggregate_records([rec], TE, FE)
    face = {"image": "y", "status": "ok", "words": [], "faces": [{"ratio": 0.5, "f_sim": float("nan")}]}
    with pytest.raises(ResultsError, match="a face's `f_sim` is nan"):
        aggregate_records([face], TE, FE)
    ok = {"image": "z", "status": "ok", "words": [{"ratio": float("inf"), "t_acc": 1.0}], "faces": []}
    assert aggregate_records([ok], TE, FE)["metrics"]["text"]["uncounted"] == 1  # an infinite ratio: no bucket
    huge = {"image": "h", "status": "ok", "words": [{"ratio": 0.5, "t_ned": 10**400}], "faces": []}
    with pytest.raises(ResultsError, match="a word's `t_ned` is 1000000000.*, not a finite number"):
        aggregate_records([huge], TE, FE)  # too large for a float: not finite either
    after_skip = {"image": "s", "status": "ok", "faces": [], "words": [{"ratio": 0.01, "skipped": "below"},
                                                                       {"ratio": 0.5, "t_acc": float("nan")}]}
    with pytest.raises(ResultsError, match="a word's `t_acc` is nan"):
        aggregate_records([after_skip], TE, FE)  # a skipped instance does not end the check of the others
    other_side = {"image": "o", "status": "ok", "words": [{"ratio": 0.5, "t_acc": 1.0, "f_sim": "n/a"}],
                  "faces": [{"ratio": 0.5, "f_sim": 0.9, "t_ned": "n/a"}]}
    assert aggregate_records([other_side], TE, FE)["counts"] == {"images": 1, "words": 1, "faces": 1, "unreadable_words": 0,
                                                                 "faces_without_landmarks": 0}  # not its keys


def test_a_registered_metric_flows_into_results_show_and_check(tmp_path, capsys):
    """Adding a metric is one registration: records carry it, results aggregate it, show and check read it."""
    from tfbench.check import Tolerance, compare, parse_metrics
    from tfbench.cli import main
    from tfbench.metrics.registry import MetricSpec, registered
    from tfbench.metrics.text import TextScorer
    from tfbench.metrics.text import OcrBackend

    class Echo(OcrBackend):  # an OCR that reads a fixed string: the metric below is computed from its reading
        name = "echo"

        def recognize(self, crops):
            return ["hello" for _ in crops]

    toy = MetricSpec("t_acc_nocase", "text", "t_acc_nocase", "text", (0.0, 1.0), label="T-ACC any case",
                     short_label="T-ACCi", show_buckets=("mean",), inputs="reading",
                     compute=lambda gt, pred: float(gt.lower() == pred.lower()))
    with registered(toy):
        scores = TextScorer(Echo()).score([None, None], ["Hello", "world"])
        assert [s["t_acc_nocase"] for s in scores] == [1.0, 0.0] and [s["t_acc"] for s in scores] == [0.0, 0.0]
        words = [{"ratio": r, **s} for r, s in zip((0.025, 0.035), scores)] + [{"ratio": 0.5, **scores[0]}]
        base = _results([{"image": "a", "status": "ok", "words": words, "faces": []}])
        assert base["metrics"]["text"]["t_acc_nocase"] == {"small": 1.0, "medium": 0.0, "large": 1.0,
                                                           "mean": 2 / 3, "instance_mean": 2 / 3}
        (tmp_path / "base.json").write_text(json.dumps(base))
        assert main(["show", str(tmp_path / "base.json")]) == 0
        header = capsys.readouterr().out.splitlines()[0]
        assert "T-ACCi" in header.split()
        worse = json.loads(json.dumps(base))
        worse["metrics"]["text"]["t_acc_nocase"]["large"] = 0.5
        (tmp_path / "new.json").write_text(json.dumps(worse))
        assert parse_metrics("t_acc_nocase") == ("t_acc_nocase",)
        bad = [c for c in compare([worse], [base], Tolerance(0.01), ["t_acc_nocase"]) if not c.ok]
        assert [(c.metric, c.bucket) for c in bad] == [("t_acc_nocase", "large")]
        rc = main(["check", "--results", str(tmp_path / "new.json"), "--baseline", str(tmp_path / "base.json"),
                   "--metrics", "t_acc,t_acc_nocase"])
        assert rc == 1 and "| toy/mytok@256 | t_acc_nocase | large | 1.0000 | 0.5000 |" in capsys.readouterr().out
    assert main(["check", "--results", str(tmp_path / "new.json"), "--baseline", str(tmp_path / "base.json"),
                 "--metrics", "t_acc_nocase"]) == 2  # unregistered again: an unknown metric


def test_failures_counts_and_compression_are_aggregated_from_records():
    ok = [{"image": f"i{k}", "status": "ok", "words": [{"ratio": 0.5, "t_acc": 1.0}], "faces": [],
           "compression": {"bits_per_pixel": bpp, "tokens": 256, "latent_shape": [16, 32, 32], "bpp_basis": "fp16"}}
          for k, bpp in enumerate((1.0, 2.0, 4.5))]
    bad = [{"image": f"e{k:02d}", "status": "error", "stage": "adapter", "error": "boom", "n_words": 2, "n_faces": 1}
           for k in range(22)]
    agg = aggregate_records(list(reversed(ok + bad)), TE, FE)  # examples are listed in image-id order
    assert agg["counts"] == {"images": 25, "words": 3, "faces": 0, "unreadable_words": 0, "faces_without_landmarks": 0}
    assert agg["failures"]["images"] == 22 and agg["failures"]["words"] == 44 and agg["failures"]["faces"] == 22
    assert len(agg["failures"]["examples"]) == 20 and agg["failures"]["examples"][0] == {
        "image": "e00", "stage": "adapter", "error": "boom"}
    assert agg["compression"] == {"bits_per_pixel": 2.5, "tokens": 256.0, "latent_shape": [16, 32, 32], "bpp_basis": "fp16"}
    mixed = [dict(ok[0]), {**ok[1], "compression": {"bits_per_pixel": 3.0, "latent_shape": [16, 8, 8], "bpp_basis": "x"}},
             {**ok[2], "compression": None}]
    comp = aggregate_records(mixed, TE, FE)["compression"]
    assert comp == {"bits_per_pixel": 2.0, "tokens": 256.0, "latent_shape": None, "bpp_basis": None}
    assert aggregate_records([], TE, FE)["compression"] == dict.fromkeys(("bits_per_pixel", "tokens", "latent_shape",
                                                                          "bpp_basis"))
    assert "subsets" not in agg and "groups" not in agg["metrics"]["face"]
    skipped = {"image": "s", "status": "ok", "faces": [], "words": [{"ratio": 0.01, "skipped": "below"},
                                                                     {"ratio": 0.5, "t_acc": 0.0}]}
    assert aggregate_records([skipped], TE, FE)["counts"]["words"] == 1  # skipped instances are not counted at all


@pytest.mark.parametrize("rec,message", [
    ({"status": "error", "n_words": -1}, "`n_words` is not a count"),
    ({"status": "error", "n_faces": "3"}, "`n_faces` is not a count"),
    ({"subset": 3}, "`subset` is not text"),
    ({"words": {"a": 1}}, "`words` is not a list of objects"),
    ({"faces": [1]}, "`faces` is not a list of objects"),
    ({"compression": []}, "`compression` is not an object"),
    ({"compression": {"tokens": float("nan")}}, "`compression.tokens` is not a finite number"),
    ({"compression": {"bits_per_pixel": "8"}}, "`compression.bits_per_pixel` is not a finite number"),
    ({"compression": {"latent_shape": [4, 2.5]}}, "`compression.latent_shape` is not a list of integers"),
    ({"compression": {"latent_shape": "4x4"}}, "`compression.latent_shape` is not a list of integers"),
    ({"compression": {"bpp_basis": 16}}, "`compression.bpp_basis` is not text"),
])
def test_malformed_records_name_the_image_and_the_fix(rec, message):
    from tfbench.aggregation import record_problem

    full = {"image": "img7", "status": "ok", "words": [], "faces": [], **rec}
    assert record_problem(full) == message
    with pytest.raises(ResultsError, match=rf"record of image 'img7' is malformed: {message}; delete its line from the "
                                           r"run's records.jsonl and rerun the same command"):
        aggregate_records([full], TE, FE)
    assert record_problem({"image": "e", "status": "error", "n_words": 2, "n_faces": 0}) is None
    assert record_problem({"image": "o", "status": "ok", "words": [{"ratio": "n/a", "skipped": "x"}],
                           "compression": {"latent_shape": [1, 2], "bpp_basis": "b", "tokens": 4}}) is None


def test_results_files_are_built_loaded_and_found(tmp_path):
    from tfbench.results import SCHEMA, find_results, git_revision, load_results

    from tfbench._version import __version__

    r = _results(_records(), budget={"wall_s": 1.0}, config={"k": 1})
    assert r["tfbench_version"] == __version__ and r["git"] == git_revision()
    assert r["schema"] == SCHEMA == "tfbench.results/1" and r["buckets"] == {"text": list(TE), "face": list(FE)}
    assert r["budget"] == {"wall_s": 1.0} and r["config"] == {"k": 1} and r["created"].endswith("+00:00")
    assert "compression" not in r and r["adapter"]["spec"] == "mytok"
    assert "bits_per_pixel" not in r["adapter"]  # no image had one: nothing invented
    assert _results([])["config"] == {}
    folder = tmp_path / "a" / "b"
    folder.mkdir(parents=True)
    (folder / "results.json").write_text(json.dumps(r))
    (tmp_path / "a" / "results.json").write_text(json.dumps(r))
    loaded = load_results(folder)
    assert loaded["_path"] == str(folder / "results.json") and loaded["metrics"] == json.loads(json.dumps(r["metrics"]))
    assert find_results([tmp_path]) == [tmp_path / "a" / "b" / "results.json", tmp_path / "a" / "results.json"]
    assert find_results([folder / "results.json"]) == [folder / "results.json"]
    assert find_results([folder / "results.json", tmp_path / "a"]) == [folder / "results.json"] * 2 + [
        tmp_path / "a" / "results.json"]  # every argument contributes, in order
    with pytest.raises(ResultsError, match="no such file or folder"):
        find_results([tmp_path / "nope"])
    for broken, message in (({"schema": "x"}, "not a tfbench results file \\(schema 'x', expected 'tfbench.results/1'\\)"),
                            ([1], "not a tfbench results file \\(schema None"),
                            ({**r, "suite": "mini"}, r"bad.json: suite: expected an object, got str")):
        (tmp_path / "bad.json").write_text(json.dumps(broken))
        with pytest.raises(ResultsError, match=message):
            load_results(tmp_path / "bad.json")
    with pytest.raises(ResultsError, match="results file not found"):
        load_results(tmp_path / "missing.json")
    import subprocess

    head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    assert git_revision() == (head or None) and (git_revision() is None or len(git_revision()) == 40)


def test_git_revision_is_the_checkouts_wherever_tfbench_runs_from(tmp_path, monkeypatch):
    from tfbench.results import git_revision

    here = git_revision()
    monkeypatch.chdir(tmp_path)  # not a git checkout: the revision still comes from where the code lives
    assert git_revision() == here


def test_git_revision_is_none_in_a_checkout_without_commits(tmp_path, monkeypatch):
    import shutil
    import subprocess

    from tfbench import results

    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    probe = subprocess.run(["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True)
    assert probe.returncode != 0 and probe.stdout.strip() == "HEAD"  # git prints the unresolved name and fails
    monkeypatch.setattr(results, "__file__", str(tmp_path / "results.py"))  # as if the code lived in that checkout
    assert results.git_revision() is None



def test_face_groups_break_scores_down_per_label_value():
    def face(sim, groups, ratio):
        return {"ratio": ratio, "f_sim": sim, "f_kept": float(sim >= 0.363), "psnr": 30.0, "ssim": 0.9, "groups": groups}

    recs = [{"image": "a", "status": "ok", "words": [], "faces": [
                face(0.9, {"age": "20-29", "skin": "I"}, 0.15), face(0.7, {"age": "20-29"}, 0.5)]},
            {"image": "b", "status": "ok", "words": [], "faces": [
                face(0.3, {"age": "60+", "skin": "V"}, 0.25), face(0.5, {"age": "60+", "skin": "V"}, 0.5),
                face(0.6, {}, 0.5)]}]
    groups = aggregate_records(recs, TE, FE)["metrics"]["face"]["groups"]
    assert list(groups) == ["age", "skin"] and list(groups["age"]["values"]) == ["20-29", "60+"]
    young, old = groups["age"]["values"]["20-29"], groups["age"]["values"]["60+"]
    assert young["n"] == {"small": 1, "medium": 0, "large": 1} and old["n"] == {"small": 0, "medium": 1, "large": 1}
    assert young["f_sim"]["mean"] is None and young["f_sim"]["instance_mean"] == 0.8
    assert old["f_kept"]["instance_mean"] == 0.5 and young["f_kept"]["instance_mean"] == 1.0
    assert groups["age"]["max_gap"] == {"f_sim": pytest.approx(0.4), "f_kept": 0.5, "psnr": 0.0, "ssim": 0.0}
    assert groups["age"]["gap_of"] == "instance_mean"
    assert list(groups["skin"]["values"]) == ["I", "V"] and groups["skin"]["values"]["V"]["n_counted"] == 2
    assert groups["skin"]["max_gap"]["f_sim"] == pytest.approx(0.9 - 0.4)
    one = aggregate_records([recs[0]], TE, FE)["metrics"]["face"]["groups"]
    assert one["skin"]["max_gap"] == {}  # one value: no gap to report
    assert list(one["skin"]["values"]) == ["I"] and one["age"]["values"]["20-29"]["n_counted"] == 2


def test_undefined_reason_names_the_empty_buckets_with_their_counts():
    block = {"small": 0.5, "medium": None, "large": None, "mean": None}
    assert undefined_reason(block, {"small": 4, "medium": 0, "large": 0}) == "empty buckets: medium, large (n s/m/l 4/0/0)"
    assert undefined_reason(block, None) == "empty buckets: medium, large (n s/m/l 0/0/0)"
    assert undefined_reason(block, {"small": 4}) == "empty buckets: medium, large (n s/m/l 4/0/0)"
    assert undefined_reason({"small": 1, "medium": 1, "large": 1, "mean": None}, {}) == "no value"
    assert undefined_reason({"mean": 0.5}, {}) is None


def test_optional_record_fields_curation_marks_and_unnamed_subsets():
    """Made-up records: a failed image without counts, a face-only and a text-only image, skipped and excluded
    instances (excluded ones are counted per reason, skipped ones are not scored), an image without a set."""
    failed = {"image": "a_failed", "status": "error", "stage": "decode", "error": "bad file"}
    faces_only = {"image": "b_faces", "subset": "people", "status": "ok", "faces": [
        {"ratio": 0.5, "f_sim": 0.75},
        {"ratio": 0.5, "skipped": "not scorable: no landmarks", "excluded": "no_landmarks"},
        {"ratio": 0.5, "skipped": "not scorable: no landmarks", "excluded": "no_landmarks"},
        {"ratio": 0.05, "skipped": "below the smallest bucket at this resolution"}]}
    words_only = {"image": "c_words", "status": "ok", "words": [
        {"ratio": 0.5, "t_acc": 1.0},
        {"ratio": 0.5, "skipped": "unreadable on the original", "excluded": "unreadable"},
        {"ratio": 0.5, "excluded": "some-other-mark", "t_acc": 0.0}]}
    agg = aggregate_records([failed, faces_only, words_only], TE, FE)
    assert agg["failures"]["images"] == 1 and (agg["failures"]["words"], agg["failures"]["faces"]) == (0, 0)
    assert agg["counts"] == {"images": 3, "words": 2, "faces": 1, "unreadable_words": 1, "faces_without_landmarks": 2}
    assert agg["metrics"]["face"]["f_sim"]["instance_mean"] == 0.75 and agg["metrics"]["face"]["n"]["large"] == 1
    assert agg["metrics"]["text"]["t_acc"]["instance_mean"] == 0.5
    assert sorted(agg["subsets"]) == ["", "people"]  # an image without a set is listed under the empty name
    assert agg["subsets"][""]["text"]["n"]["large"] == 2 and agg["subsets"]["people"]["face"]["n"]["large"] == 1
