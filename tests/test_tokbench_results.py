"""Official TokBench per-instance outputs -> results.json, checked against the official aggregation
re-implemented here from compute_all_metrics.py (pool all sets, half-open buckets, np.mean per bucket,
np.mean of the bucket means; an empty bucket gives NaN)."""
from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from tfbench.cli import main
from tfbench.datasets.tokbench import IMPORTER_VERSION, TEXT_SETS
from tfbench.results import load_results
from tfbench.tokbench_results import import_official

TEXT_RANGES = {"256": [0.02, 0.03, 0.04, 1], "512": [0.01, 0.02, 0.03, 1], "1024": [0.005, 0.01, 0.02, 1]}
FACE_RANGES = {"256": [0.1, 0.2, 0.3, 1], "512": [0.05, 0.10, 0.2, 1], "1024": [0.02, 0.05, 0.1, 1]}


def _text_results(rng, n, bools=False):
    edges = [0.02, 0.03, 0.04, 1.0, 0.0199, 1.5, 0.01, 0.005]
    out = []
    for k in range(n):
        ratio = edges[k] if k < len(edges) else float(rng.uniform(0.004, 0.12))
        acc = int(rng.random() < 0.6)
        out.append({"gt": "word", "pred": "word" if acc else "wxrd", "ratio": ratio,
                    "accuracy": bool(acc) if bools else acc, "ned": 1.0 if acc else float(rng.uniform(0, 0.9))})
    return out


def _face_results(rng, n, lo=0.01, hi=0.7):
    return [{"ratio": float(rng.uniform(lo, hi)) if k > 1 else [0.1, 1.0][k], "similarity": float(rng.uniform(-0.1, 1)),
             "box": [0, 0, 1, 1], "gt": 1} for k in range(n)]


@pytest.fixture(scope="module")
def official(tmp_path_factory):
    """Files as eval_text.py / eval_face.py write them: two methods, settings 256 and 512."""
    d = tmp_path_factory.mktemp("official")
    rng = np.random.default_rng(7)
    for s in TEXT_SETS:
        data = {m: {f"{m}_{res}": {"results": {"accuracy": "x%", "ned": "y%"},
                                    "details": {f"{s}_{i}.jpg": {"file_name": f"{s}_{i}.jpg", "height": 10, "width": 10,
                                                                  "avg_acc": 0, "avg_ned": 0,
                                                                  "results": _text_results(rng, 12, bools=s == "tt")}
                                                for i in range(3)}}
                    for res in ("256", "512")} for m in ("mytok", "ori")}
        sparse = {"ic13": [0.006, 0.007, 0.015, 0.5], "ic15": [0.006, 0.5]}.get(s)  # ic15 alone: medium empty
        if sparse:
            data["sparse"] = {"sparse_1024": {"results": {}, "details": {f"{s}_x.jpg": {"results": [
                {"gt": "a", "pred": "a", "ratio": r, "accuracy": 1, "ned": 1.0 - k / 10} for k, r in enumerate(sparse)]}}}}
        (d / f"{s}.json").write_text(json.dumps(data))
    face = {m: {res: {"results": {"mean_similarity": 0.5},
                      "details": {f"f{i}.png": {"file_name": f"f{i}.png", "results": _face_results(rng, 7)}
                                  for i in range(5)}}
                for res in ("256", "512")} for m in ("mytok", "ori")}
    face["sparse"] = {"1024": {"results": {}, "details": {"a.png": {"results": _face_results(rng, 2) + [
        {"ratio": 0.03, "similarity": 0.4}, {"ratio": 0.04, "similarity": 0.6}, {"ratio": 0.5, "similarity": 0.9}]}}}}
    (d / "face.json").write_text(json.dumps(face))
    return d


def _official(directory, files, method, setting, key, ranges):
    """compute_all_metrics.py, reduced to one method/setting (same pooling, find_group and np.mean)."""
    pooled = []
    for name in files:
        data = json.loads((directory / name).read_text())
        for s, block in data[method].items():
            if s.split("_")[-1] == setting:
                for v in block["details"].values():
                    pooled.extend(v["results"])
    groups = [(ranges[i], ranges[i + 1]) for i in range(3)]
    vals = [[] for _ in groups]
    for v in pooled:
        for i, (lo, hi) in enumerate(groups):
            if lo <= v["ratio"] < hi:
                vals[i].append(v[key])
                break
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        means = [float(np.mean(x)) for x in vals]
        return means + [float(np.mean(means))], [len(x) for x in vals], len(pooled)


def _ours(block):
    return [block[b] if block[b] is not None else float("nan") for b in ("small", "medium", "large", "mean")]


@pytest.mark.parametrize("res", ["256", "512"])
def test_import_equals_the_official_aggregation(official, res):
    r = import_official(official, "mytok", res)
    text_files = [f"{s}.json" for s in TEXT_SETS]
    for key, metric in (("accuracy", "t_acc"), ("ned", "t_ned")):
        want, counts, total = _official(official, text_files, "mytok", res, key, TEXT_RANGES[res])
        assert _ours(r["metrics"]["text"][metric]) == pytest.approx(want, abs=1e-12)
    assert list(r["metrics"]["text"]["n"].values()) == counts
    assert r["metrics"]["text"]["uncounted"] == total - sum(counts) > 0  # below e0 or >= 1: dropped, but counted
    want, counts, total = _official(official, ["face.json"], "mytok", res, "similarity", FACE_RANGES[res])
    assert _ours(r["metrics"]["face"]["f_sim"]) == pytest.approx(want, abs=1e-12)
    assert r["metrics"]["face"]["uncounted"] == total - sum(counts)
    # one set alone, as the per-set breakdown reports it
    want, _, _ = _official(official, ["ic15.json"], "mytok", res, "accuracy", TEXT_RANGES[res])
    assert _ours(r["subsets"]["ic15"]["text"]["t_acc"]) == pytest.approx(want, abs=1e-12)
    assert r["suite"] == {"name": "tokbench", "version": IMPORTER_VERSION, "resolution": res, "modality": "image"}
    assert r["backends"]["text"]["backend"] == "tokbench-official" and "official" in r["backends"]["face"]["source"]


def test_an_empty_bucket_makes_the_mean_undefined_as_officially(official):
    r = import_official(official, "sparse", "1024", sets=("face",))
    want, counts, _ = _official(official, ["face.json"], "sparse", "1024", "similarity", FACE_RANGES["1024"])
    assert counts[1] == 0 and np.isnan(want[1]) and np.isnan(want[3])
    f = r["metrics"]["face"]["f_sim"]
    assert f["medium"] is None and f["mean"] is None
    assert f["small"] == pytest.approx(want[0]) and f["large"] == pytest.approx(want[2])
    assert r["suite"]["name"] == "tokbench-face"


def test_cli_writes_a_loadable_results_file(official, tmp_path, capsys):
    out = tmp_path / "r" / "results.json"
    assert main(["import-tokbench-results", str(official), "--method", "mytok", "--resolution", "256",
                 "--out", str(out)]) == 0
    r = load_results(out)
    assert r["schema"] == "tfbench.results/1" and r["adapter"]["spec"] == "mytok"
    assert r["config"]["settings"]["ic13"] == ["mytok_256"] and len(r["config"]["files_sha256"]) == 9
    assert "not counted (outside the buckets)" in capsys.readouterr().out


def _break(official, tmp_path, name, fn):
    d = tmp_path / "o"
    d.mkdir()
    for f in official.iterdir():
        (d / f.name).write_bytes(f.read_bytes())
    if fn is None:
        (d / name).unlink()
    elif isinstance(fn, str):
        (d / name).write_text(fn)
    else:
        data = json.loads((d / name).read_text())
        fn(data)
        (d / name).write_text(json.dumps(data))
    return d


@pytest.mark.parametrize("name,fn,message", [
    ("ic15.json", lambda d: d["mytok"]["mytok_256"]["details"]["ic15_1.jpg"]["results"][4].update(accuracy="1"),
     r"ic15.json: mytok.mytok_256.details\['ic15_1.jpg'\].results\[4\].accuracy: expected a finite number"),
    ("face.json", lambda d: d["mytok"]["256"]["details"]["f2.png"]["results"][0].pop("ratio"),
     r"face.json: mytok.256.details\['f2.png'\].results\[0\].ratio: expected a finite number"),
    ("tt.json", lambda d: d.pop("mytok"), r"tt.json: no method 'mytok' \(methods in this file: ori\)"),
    ("cord.json", lambda d: d["mytok"].pop("mytok_256"), r"cord.json: mytok: no setting for resolution 256"),
    ("sroie.json", '{"mytok": ', r"sroie.json: malformed JSON at line 1"),
    ("docvqa.json", None, r"docvqa.json not found: the official scripts write one JSON per set into their "
                          r"--save_dir; pass that folder \(or restrict the import with --sets\)"),
    ("ic13.json", "[1]", r"ic13.json: top level: expected \{method: \{setting: ...\}\}, got list$"),
    ("ic13.json", '{"a": {}, "b": {}}', r"ic13.json: no method 'mytok' \(methods in this file: a, b\)$"),
    ("ic13.json", "{}", r"ic13.json: no method 'mytok' \(methods in this file: none\)$"),
    ("ic13.json", '{"mytok": 3}', r"ic13.json: mytok: expected \{setting: \{results, details\}\}$"),
    ("ic13.json", '{"mytok": {"mytok_512": {}, "x_1024": {}}}',
     r"ic13.json: mytok: no setting for resolution 256 \(settings: mytok_512, x_1024\)$"),
    ("ic13.json", '{"mytok": {"mytok_256": 5}}',
     r"ic13.json: mytok.mytok_256.details: missing or not an object of file -> results$"),
    ("ic13.json", '{"mytok": {"mytok_256": {"details": {"f.jpg": 3}}}}',
     r"ic13.json: mytok.mytok_256.details\['f.jpg'\].results: missing or not a list of per-instance results$"),
    ("ic13.json", '{"mytok": {"mytok_256": {"details": {"f.jpg": {"results": [3]}}}}}',
     r"ic13.json: mytok.mytok_256.details\['f.jpg'\].results\[0\]: expected an object$"),
    ("ic13.json", '{"mytok": {"mytok_256": {"details": {"f.jpg": {"results": [{"ratio": true}]}}}}}',
     r"details\['f.jpg'\].results\[0\].ratio: expected a finite number, got True$"),
    ("ic13.json", '{"mytok": {"mytok_256": {"details": {"f.jpg": {"results": [{"ratio": 0.5, "accuracy": 1, "ned": "x"}]}}}}}',
     r"details\['f.jpg'\].results\[0\].ned: expected a finite number, got 'x'$"),
    ("face.json", '{"mytok": {"256": {"details": {"f.png": {"results": [{"ratio": 0.5, "similarity": NaN}]}}}}}',
     r"face.json: mytok.256.details\['f.png'\].results\[0\].similarity: expected a finite number, got nan$"),
])
def test_broken_official_files_give_one_clear_error(official, tmp_path, name, fn, message):
    d = _break(official, tmp_path, name, fn)
    with pytest.raises(Exception, match=message) as e:
        import_official(d, "mytok", "256")
    from tfbench.errors import TfbenchError
    assert isinstance(e.value, TfbenchError)
    assert main(["import-tokbench-results", str(d), "--method", "mytok", "-r", "256", "--out", str(tmp_path / "x.json")]) == 2
    assert not (tmp_path / "x.json").exists()


def test_suite_names_and_bad_arguments(official, tmp_path):
    from tfbench.errors import ResultsError, TfbenchError
    from tfbench.tokbench_results import suite_name

    assert suite_name(tuple(TEXT_SETS)) == "tokbench-text" and suite_name(("face",)) == "tokbench-face"
    assert suite_name(("ic15", "ic13")) == "tokbench[ic15+ic13]"
    r = import_official(official, "mytok", "256", sets=("ic13", "ic15"))
    assert r["suite"]["name"] == "tokbench[ic13+ic15]" and set(r["subsets"]) == {"ic13", "ic15"}
    assert r["config"]["sets"] == ["ic13", "ic15"] and set(r["config"]["files_sha256"]) == {"ic13.json", "ic15.json"}
    assert r["metrics"]["face"]["n_counted"] == 0 and r["metrics"]["face"]["f_sim"]["mean"] is None
    assert r["adapter"] == {"spec": "mytok", "family": "mytok", "kind": "imported",
                            "description": f"imported from official TokBench outputs in {official}"}
    assert r["budget"] == {} and r["config"]["method"] == "mytok"
    with pytest.raises(TfbenchError, match="--resolution '300': TokBench images are evaluated at 256, 512, 1024"):
        import_official(official, "mytok", "300")
    with pytest.raises(TfbenchError, match=r"unknown TokBench set\(s\) \['ic99'\]; known: ic13, ic15, tt, textocr, cord, "
                                           r"sroie, infograph, docvqa, face$"):
        import_official(official, "mytok", "256", sets=("ic99",))
    import hashlib

    assert r["config"]["files_sha256"]["ic13.json"] == hashlib.sha256((official / "ic13.json").read_bytes()).hexdigest()
    assert r["config"]["imported_from"] == str(official.resolve()) and r["config"]["settings"] == {
        "ic13": ["mytok_256"], "ic15": ["mytok_256"]}
    with pytest.raises(ResultsError, match="is not a folder"):
        import_official(official / "ic13.json", "mytok", "256")
    one = import_official(official, "mytok", "256", sets=("face",))
    assert "subsets" not in one and one["suite"]["name"] == "tokbench-face"


def test_per_set_breakdown_follows_the_empty_bucket_rule(official):
    """Every set alone, exactly as compute_all_metrics.py would aggregate that set: NaN (None) where a bucket is empty."""
    r = import_official(official, "mytok", "512")
    for s in TEXT_SETS:
        want, counts, _ = _official(official, [f"{s}.json"], "mytok", "512", "ned", TEXT_RANGES["512"])
        got = r["subsets"][s]["text"]["t_ned"]
        assert list(r["subsets"][s]["text"]["n"].values()) == counts
        for have, expected in zip(_ours(got), want):
            assert (np.isnan(expected) and np.isnan(have)) or have == pytest.approx(expected, abs=1e-12), s
    sparse = import_official(official, "sparse", "1024", sets=("ic13", "ic15", "face"))
    pooled, ic15 = sparse["metrics"]["text"]["t_ned"], sparse["subsets"]["ic15"]["text"]["t_ned"]
    assert sparse["metrics"]["text"]["n"] == {"small": 3, "medium": 1, "large": 2}
    assert pooled["mean"] == pytest.approx(np.mean([np.mean([1.0, 0.9, 1.0]), 0.8, np.mean([0.7, 0.9])]), abs=1e-15)
    assert sparse["subsets"]["ic15"]["text"]["n"] == {"small": 1, "medium": 0, "large": 1}
    assert ic15["medium"] is None and ic15["mean"] is None and ic15["instance_mean"] == pytest.approx(0.95)
    assert sparse["subsets"]["ic13"]["text"]["t_ned"]["mean"] is not None
