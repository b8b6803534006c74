"""`tfbench check` and `tfbench golden` on real mini runs (real OCR and face models)."""
import copy
import json
import xml.etree.ElementTree as ET

import pytest

from tfbench.check import Tolerance, compare
from tfbench.cli import main
from tfbench.errors import ResultsError, TfbenchError
from tfbench.pipeline import evaluate
from tfbench.registry import create_adapter


@pytest.fixture(scope="module")
def runs(mini, scorers, tmp_path_factory):
    """jpeg q30 at 256 and 512 in one run folder (the baseline)."""
    out = tmp_path_factory.mktemp("base")
    res = {r: evaluate(mini, create_adapter("jpeg:quality=30"), r, scorers, out) for r in ("256", "512")}
    return out, res


def _write(path, results):
    path.write_text(json.dumps({k: v for k, v in results.items() if k != "_path"}))
    return path


def _check(capsys, *argv):
    rc = main(["check", *map(str, argv)])
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def test_identical_results_pass(runs, capsys):
    out, _ = runs
    rc, table, _ = _check(capsys, "--results", out, "--baseline", out)
    assert rc == 0
    assert "**PASS**: 26 checks" in table  # 2 resolutions x (3 metrics x 4 buckets + failures)
    assert "| mini/jpeg:quality=30@512 | f_sim | small |" in table


def test_one_bucket_lowered_beyond_tolerance_fails(runs, tmp_path, capsys):
    _, res = runs
    base = _write(tmp_path / "base.json", res["256"])
    low = copy.deepcopy(res["256"])
    before = low["metrics"]["text"]["t_acc"]["small"]
    assert before > 0.05
    low["metrics"]["text"]["t_acc"]["small"] = before - 0.02
    new = _write(tmp_path / "new.json", low)
    junit = tmp_path / "junit.xml"
    rc, table, _ = _check(capsys, "--results", new, "--baseline", base, "--junit", junit)
    assert rc == 1
    failing = [line for line in table.splitlines() if "**FAIL** dropped" in line]
    assert len(failing) == 1 and "| t_acc | small |" in failing[0] and "-0.0200" in failing[0]
    assert "**FAIL**: 1 of 13 checks" in table
    suite = ET.parse(junit).getroot()
    assert suite.get("tests") == "13" and suite.get("failures") == "1"
    failed = [c for c in suite.iter("testcase") if c.find("failure") is not None]
    assert [c.get("name") for c in failed] == ["t_acc[small]"]
    # the same drop is within a looser tolerance, absolute or relative, and outside the checked buckets
    assert _check(capsys, "--results", new, "--baseline", base, "--max-drop", "0.025")[0] == 0
    relative = 100 * 0.021 / before
    assert _check(capsys, "--results", new, "--baseline", base, "--max-drop", f"{relative}%")[0] == 0
    assert _check(capsys, "--results", new, "--baseline", base, "--max-drop", f"{relative / 2}%")[0] == 1
    assert _check(capsys, "--results", new, "--baseline", base, "--buckets", "mean")[0] == 0
    assert _check(capsys, "--results", new, "--baseline", base, "--metrics", "f_sim,t_ned")[0] == 0


def test_improvements_and_more_failures(runs):
    _, res = runs
    better = copy.deepcopy(res["256"])
    better["metrics"]["face"]["f_sim"]["mean"] += 0.2
    assert all(c.ok for c in compare([better], [res["256"]], Tolerance(0.0)))
    broken = copy.deepcopy(res["256"])
    broken["failures"]["images"] = 3
    bad = [c for c in compare([broken], [res["256"]], Tolerance(0.5)) if not c.ok]
    assert [(c.metric, c.reason) for c in bad] == [("failed_images", "3 more image(s) failed")]


@pytest.mark.parametrize("field,value,message", [
    (("suite", "name"), "other", "different suite ('other' vs 'mini')"),
    (("suite", "version"), "1", "different suite version ('1' vs '3')"),  # mini v1 results against v3's
    (("backends", "text", "version"), "rapidocr 9.9 other", "different OCR backend"),
    (("backends", "face", "backend"), "arcface", "different face backend"),
    (("buckets", "text"), [0.1, 0.2, 0.3, 1.0], "different bucket edges"),
])
def test_incomparable_results_are_refused(runs, tmp_path, capsys, field, value, message):
    _, res = runs
    other = copy.deepcopy(res["256"])
    d = other
    for k in field[:-1]:
        d = d[k]
    d[field[-1]] = value
    rc, _, err = _check(capsys, "--results", _write(tmp_path / "new.json", other),
                        "--baseline", _write(tmp_path / "base.json", res["256"]))
    assert rc == 2
    assert err.startswith("tfbench: error: cannot compare") and message in err and err.count("\n") == 1


def test_different_resolution_is_refused(runs, tmp_path, capsys):
    _, res = runs
    rc, _, err = _check(capsys, "--results", _write(tmp_path / "a.json", res["512"]),
                        "--baseline", _write(tmp_path / "b.json", res["256"]))
    assert rc == 2 and "different resolution ('512' vs '256')" in err


def test_a_run_missing_from_the_new_results_fails(runs, tmp_path, capsys):
    out, res = runs
    rc, table, _ = _check(capsys, "--results", _write(tmp_path / "only256.json", res["256"]), "--baseline", out)
    assert rc == 1 and "mini/jpeg:quality=30@512 | results | - |" in table and "missing from the new results" in table


@pytest.mark.parametrize("argv,message", [
    (["--max-drop", "abc"], "--max-drop 'abc': expected a number"),
    (["--max-drop", "-1"], "must be a finite number >= 0"),
    (["--metrics", "t_acc,fsim"], "unknown metric 'fsim'"),
    (["--buckets", "tiny"], "--buckets 'tiny'"),
])
def test_bad_options_give_one_clear_line(runs, argv, message, capsys):
    out, _ = runs
    rc, _, err = _check(capsys, "--results", out, "--baseline", out, *argv)
    assert rc == 2 and err.startswith("tfbench: error:") and message in err and "Traceback" not in err


def test_bad_inputs(tmp_path, capsys):
    assert _check(capsys, "--results", tmp_path / "nope.json", "--baseline", tmp_path)[2].startswith(
        "tfbench: error: no such file or folder")
    (tmp_path / "results.json").write_text('{"schema": "something/else"}')
    assert "not a tfbench results file" in _check(capsys, "--results", tmp_path, "--baseline", tmp_path)[2]
    assert "check needs --results NEW and --baseline BASE" in _check(capsys, "--results", tmp_path)[2]
    assert "not a tfbench golden file" in _check(capsys, "--adapter", "identity", "--golden", tmp_path / "results.json")[2]
    with pytest.raises(TfbenchError, match="expected a number"):
        Tolerance.parse("1x%")


def test_golden_then_check_catches_a_real_regression(tmp_path, capsys):
    golden = tmp_path / "ci" / "golden.json"
    assert main(["golden", "--adapter", "jpeg:quality=30", "--out", str(golden), "-r", "256"]) == 0
    data = json.loads(golden.read_text())
    assert data["schema"] == "tfbench.golden/1" and data["adapter"] == "jpeg:quality=30"
    assert [r["suite"]["resolution"] for r in data["results"]] == ["256"]
    capsys.readouterr()
    rc, table, _ = _check(capsys, "--adapter", "jpeg:quality=30", "--golden", golden)
    assert rc == 0 and "**PASS**" in table  # same adapter, rerun: identical numbers
    # a worse "model version" (quality 5 instead of 30) must be caught, per bucket
    rc, table, _ = _check(capsys, "--adapter", "jpeg:quality=5", "--golden", golden, "--out", tmp_path / "new")
    assert rc == 1 and "| mini/jpeg:quality=5@256 | t_acc | mean |" in table
    assert (tmp_path / "new" / "mini" / "jpeg_quality=5@256" / "results.json").is_file()
    # a golden file also serves as --baseline for results computed elsewhere (one adapter each side: by resolution)
    rc, table, _ = _check(capsys, "--results", tmp_path / "new", "--baseline", golden)
    assert rc == 1 and "| mini/jpeg:quality=5@256 | t_acc | mean |" in table
    rc, _, err = _check(capsys, "--adapter", "jpeg:quality=5", "--golden", golden, "--out", tmp_path / "new")
    assert rc == 2 and "is not empty" in err


def test_pairing_with_nothing_in_common_is_refused(runs):
    _, res = runs
    a, b = copy.deepcopy(res["256"]), copy.deepcopy(res["512"])
    a2, b2 = copy.deepcopy(a), copy.deepcopy(b)
    a2["adapter"]["spec"] = b2["adapter"]["spec"] = "other"
    with pytest.raises(ResultsError, match="nothing to compare"):
        compare([a, a2], [b, b2], Tolerance(0.01))
