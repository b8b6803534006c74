"""`tfbench check` when TokBench's rule leaves a value undefined: nothing is skipped silently (made-up records)."""
import json
import xml.etree.ElementTree as ET

from tfbench.buckets import FACE_EDGES, TEXT_EDGES
from tfbench.check import Tolerance, compare, junit_xml, markdown_report
from tfbench.cli import main
from tfbench.results import build_results


def _results(words, faces=()):
    """results.json of one image; words/faces: (ratio, value) pairs for t_acc/t_ned and f_sim (values invented)."""
    rec = {"image": "a", "status": "ok", "words": [{"ratio": r, "t_acc": v, "t_ned": v} for r, v in words],
           "faces": [{"ratio": r, "f_sim": v} for r, v in faces]}
    return build_results(adapter={"spec": "tok", "family": "tok", "kind": "continuous"},
                         suite={"name": "own", "version": "1", "resolution": "256", "modality": "image"},
                         backends={}, records=[rec], text_edges=TEXT_EDGES["256"], face_edges=FACE_EDGES["256"], budget={})


def test_an_undefined_baseline_mean_is_checked_on_the_instance_mean():
    # no medium word (0.03 <= ratio < 0.04): the mean of bucket means is undefined on both sides
    base = _results([(0.025, 1.0), (0.025, 1.0), (0.5, 1.0)], [(0.15, 0.9), (0.25, 0.8), (0.5, 0.95)])
    new = _results([(0.025, 1.0), (0.025, 0.0), (0.5, 1.0)], [(0.15, 0.9), (0.25, 0.8), (0.5, 0.95)])
    assert base["metrics"]["text"]["t_acc"]["mean"] is None and base["metrics"]["text"]["t_acc"]["instance_mean"] == 1.0
    rows = {(c.metric, c.bucket): c for c in compare([new], [base], Tolerance(0.01), ["t_acc", "f_sim"])}
    medium = rows[("t_acc", "medium")]
    assert medium.ok and medium.reason == "n/a: empty in the baseline" and medium.baseline is None
    inst = rows[("t_acc", "instance_mean")]
    assert ("t_acc", "mean") not in rows and not inst.ok and inst.baseline == 1.0 and inst.new == 2 / 3
    assert inst.reason.startswith("baseline mean undefined (empty bucket: medium (n s/m/l 2/0/1)): compared the "
                                  "instance mean; dropped by 0.3333")
    assert not rows[("t_acc", "small")].ok and rows[("f_sim", "mean")].ok  # defined means are checked as always
    table = markdown_report(list(rows.values()), Tolerance(0.01))
    assert "| own/tok@256 | t_acc | medium | - | - | - | - | n/a: empty in the baseline |" in table
    assert table.endswith("(1 not applicable: no value in the baseline)")
    suite = ET.fromstring(junit_xml(list(rows.values()), Tolerance(0.01)).split("\n", 1)[1])
    assert suite.get("skipped") == "1" and suite.get("failures") == "2"
    same = {(c.metric, c.bucket): c for c in compare([base], [base], Tolerance(0.0), ["t_acc"])}
    assert same[("t_acc", "instance_mean")].ok and "compared the instance mean" in same[("t_acc", "instance_mean")].reason


def test_a_mean_that_becomes_undefined_fails_with_the_reason(tmp_path, capsys):
    base = _results([(0.025, 1.0), (0.035, 1.0), (0.5, 1.0)])
    new = _results([(0.025, 1.0), (0.5, 1.0)])  # the medium word is gone: no mean of bucket means
    (tmp_path / "base.json").write_text(json.dumps(base))
    (tmp_path / "new.json").write_text(json.dumps(new))
    rc = main(["check", "--results", str(tmp_path / "new.json"), "--baseline", str(tmp_path / "base.json"),
               "--metrics", "t_acc", "--buckets", "mean,instance_mean"])
    out = capsys.readouterr().out
    assert rc == 1
    assert ("| own/tok@256 | t_acc | mean | 1.0000 | - | - | 0.0100 | **FAIL** no value in the new results "
            "(empty bucket: medium (n s/m/l 1/0/1)) |") in out
    assert "| own/tok@256 | t_acc | instance_mean | 1.0000 | 1.0000 | +0.0000 | 0.0100 | ok |" in out
