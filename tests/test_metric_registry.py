"""The metric registry: built-in declarations, lookups, registration, entry-point plugins, backend registries."""
import math
import re
import sys
import textwrap

import pytest

from tfbench.errors import TfbenchError, UnknownNameError
from tfbench.metrics import registry as reg
from tfbench.metrics.registry import (METRICS, MetricSpec, all_metrics, check_names, create_metric, default_check_names,
                                      get_metric, metric_for_key, metrics_for, record_keys, register_metric, registered,
                                      unregister_metric)


def _toy(**kw):
    fields = dict(name="t_acc_nocase", side="text", key="t_acc_nocase", modality="text", score_range=(0.0, 1.0),
                  label="T-ACC any case", inputs="reading", compute=lambda gt, pred: float(gt.lower() == pred.lower()))
    return MetricSpec(**{**fields, **kw})


def test_builtin_metrics_are_declared_once_with_their_conventions():
    names = [m.name for m in all_metrics()]
    assert names[:8] == ["t_acc", "t_ned", "text_psnr", "text_ssim", "f_sim", "f_kept", "face_psnr", "face_ssim"]
    assert len(names) == len(set(names))
    assert record_keys("text") == ("t_acc", "t_ned", "psnr", "ssim")
    assert record_keys("face") == ("f_sim", "f_kept", "psnr", "ssim")
    assert default_check_names() == ("t_acc", "t_ned", "f_sim")
    assert set(check_names()) >= {"t_acc", "t_ned", "f_sim", "text_psnr", "text_ssim", "face_psnr", "face_ssim"}
    t_acc, f_sim, psnr = get_metric("t_acc"), get_metric("f_sim"), get_metric("text_psnr")
    assert (t_acc.side, t_acc.key, t_acc.modality, t_acc.score_range, t_acc.lower_better) == ("text", "t_acc", "text", (0.0, 1.0), False)
    assert (f_sim.score_range, f_sim.higher_better, f_sim.table_label, f_sim.leaderboard_label) == ((-1.0, 1.0), True, "F-Sim", "F-Sim")
    assert (psnr.key, psnr.modality, psnr.unit, psnr.digits, psnr.score_range[1]) == ("psnr", "pixel", "dB", 1, math.inf)
    assert get_metric("f_sim_std").lower_better and get_metric("flicker_excess").modality == "temporal"
    assert [m.name for m in metrics_for("text", leaderboard=True)] == ["t_acc", "t_ned"]
    assert [m.name for m in metrics_for("face", leaderboard=True)] == ["f_sim", "f_kept"]
    assert [m.name for m in metrics_for(headline=True)] == ["t_acc", "t_ned", "f_sim"]
    assert [m.name for m in metrics_for(modality="pixel")] == ["text_psnr", "text_ssim", "face_psnr", "face_ssim"]
    assert metric_for_key("face", "psnr").name == "face_psnr" and metric_for_key("face", "nope") is None


def test_unknown_names_get_a_did_you_mean():
    with pytest.raises(UnknownNameError) as e:
        get_metric("f_simm")
    assert str(e.value) == ("unknown metric 'f_simm'; did you mean 'f_sim', 'face_ssim'? (registered: "
                            + ", ".join(m.name for m in all_metrics()) + ")")
    with pytest.raises(UnknownNameError) as e:
        get_metric("zzz")
    assert str(e.value).startswith("unknown metric 'zzz' (registered: t_acc, t_ned, ")
    with pytest.raises(UnknownNameError, match="unknown metric 'f_simm'; did you mean 'f_sim'"):
        get_metric("f_simm")
    with pytest.raises(UnknownNameError, match="unknown side 'txt'"):
        metrics_for("txt")
    with pytest.raises(KeyError, match="did you mean 'psnr'"):
        create_metric("psnrr")
    assert type(create_metric("psnr")).__name__ == "CropFidelity"  # by record key, by name, or by group
    assert type(create_metric("face_ssim")).__name__ == "CropFidelity"


def test_value_reads_a_results_dict_and_treats_undefined_as_none():
    results = {"metrics": {"text": {"t_acc": {"small": 0.5, "medium": None, "large": 1, "mean": None,
                                              "instance_mean": 0.75}}},
               "video": {"temporal": {"face": {"f_sim_std": 0.02}}}}
    t_acc = get_metric("t_acc")
    assert t_acc.value(results) is None and t_acc.value(results, "instance_mean") == 0.75
    assert t_acc.value(results, "large") == 1.0 and isinstance(t_acc.value(results, "large"), float)
    assert get_metric("t_ned").value(results) is None and get_metric("t_ned").block(results) is None
    assert get_metric("f_sim_std").value(results) == 0.02 and get_metric("f_sim_std").block(results) is None
    assert get_metric("t_acc").value({"metrics": {"text": {"t_acc": {"mean": float("nan")}}}}) is None
    assert get_metric("t_acc").value({"metrics": {"text": {"t_acc": {"mean": True}}}}) is None
    assert get_metric("t_acc").value({"metrics": {"text": {"t_acc": {"mean": 0.25}}}}) == 0.25  # mean by default
    assert get_metric("t_acc").block({"metrics": {"text": {"t_acc": 0.25}}}) is None  # not a block
    assert t_acc.format(0.123456) == "0.123" and get_metric("text_psnr").format(31.26) == "31.3"
    assert t_acc.format(None) == "-" and t_acc.format(None, missing="—") == "—"
    assert t_acc.in_range(1.0) and not t_acc.in_range(1.01) and get_metric("text_psnr").in_range(1e9)


def test_register_a_metric_in_one_place():
    before = record_keys("text")
    with registered(_toy()) as spec:
        assert get_metric("t_acc_nocase") is spec and record_keys("text") == before + ("t_acc_nocase",)
        assert "t_acc_nocase" in check_names() and "t_acc_nocase" not in default_check_names()
        assert METRICS["t_acc_nocase"] is spec  # the record-key view is live
        assert spec.compute_fn()("Hello", "hello") == 1.0
        assert [m.name for m in metrics_for("text", inputs="reading")] == ["t_acc", "t_ned", "t_acc_nocase"]
        with pytest.raises(TfbenchError, match="already registered"):
            register_metric(_toy())
        register_metric(_toy(label="again"), replace=True)
        assert get_metric("t_acc_nocase").label == "again"
    assert "t_acc_nocase" not in check_names() and record_keys("text") == before
    with pytest.raises(TfbenchError, match="text records already hold 't_acc' for 't_acc'"):
        register_metric(_toy(name="other", key="t_acc"))
    spec = register_metric(_toy(name="gone", key="gone"))
    assert unregister_metric("gone") is spec and "gone" not in check_names()


@pytest.mark.parametrize("change,message", [
    ({"name": "t-acc"}, "metric 't-acc': name must be an identifier"),
    ({"name": "t acc", "side": "pixels"}, "metric 't acc': name must be an identifier; side must be one of"),
    ({"score_range": (0.5, 0.5)}, "metric 't_acc_nocase': score_range must be (low, high) with low < high"),
    ({"inputs": "pixels"}, "metric 't_acc_nocase': inputs (reading | similarity) and compute go together"),
    ({"side": "pixels"}, "side must be one of"),
    ({"modality": "audio"}, "modality must be one of"),
    ({"score_range": (1.0, 0.0)}, "score_range must be"),
    ({"show_buckets": ("tiny",)}, "show_buckets must be taken from"),
    ({"compute": None}, "inputs (reading | similarity) and compute go together"),
    ({"aggregation": "temporal"}, "a temporal metric needs the path of its value in results.json$"),
    ({"aggregation": "median"}, "aggregation must be one of"),
])
def test_a_malformed_declaration_is_refused(change, message):
    with pytest.raises(TfbenchError, match=re.escape(message).replace(r"\$", "$")):
        _toy(**change)


def test_a_computed_by_scorer_metric_has_no_instance_function():
    with pytest.raises(TfbenchError, match="computed by its scorer"):
        get_metric("f_sim").compute_fn()
    with pytest.raises(TfbenchError, match=r"^metric 't_acc_nocase': cannot import 'no_such_module_xyz:f'"):
        _toy(compute="no_such_module_xyz:f").compute_fn()
    assert get_metric("t_acc").compute_fn()("ab", "ab") == 1.0  # imported lazily from "module:function"


def _dist(tmp_path, name, group_lines, module_source):
    """A real installed distribution (dist-info with entry points) on sys.path, without pip."""
    info = tmp_path / f"{name}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(group_lines))
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(module_source))


def test_metrics_and_backends_from_entry_points(tmp_path, monkeypatch):
    _dist(tmp_path, "toyplug", """\
        [tfbench.metrics]
        t_len_ok = toyplug:SPEC
        [tfbench.ocr_backends]
        upper = toyplug:UpperOcr
        [tfbench.face_backends]
        broken = toyplug:Missing
        """, """\
        from tfbench.metrics.registry import MetricSpec
        from tfbench.metrics.text import OcrBackend

        SPEC = MetricSpec("t_len_ok", "text", "t_len_ok", "text", (0.0, 1.0), label="length ok",
                          inputs="reading", compute=lambda gt, pred: float(len(gt) == len(pred)))

        class UpperOcr(OcrBackend):
            name = "upper"

            def recognize(self, crops):
                return ["UPPER" for _ in crops]
        """)
    monkeypatch.syspath_prepend(str(tmp_path))
    from tfbench.metrics.face import FACE_BACKENDS, create_face_backend
    from tfbench.metrics.text import OCR_BACKENDS, TextScorer, create_ocr_backend

    try:
        reg.refresh_plugins()
        assert get_metric("t_len_ok").label == "length ok" and "t_len_ok" in record_keys("text")
        assert list(OCR_BACKENDS) == ["rapidocr", "parseq", "paddleocr", "upper"] and "upper" in OCR_BACKENDS
        assert len(OCR_BACKENDS) == 4 and len(FACE_BACKENDS) == 4
        assert OCR_BACKENDS["upper"] == "toyplug:UpperOcr"
        assert TextScorer("upper").backend.name == "upper"  # the scorer builds a plugin backend by its name
        scores = TextScorer(create_ocr_backend("upper")).score([None, None], ["UPPER", "low"])
        assert scores == [{"pred": "UPPER", "t_acc": 1.0, "t_ned": 1.0, "t_len_ok": 1.0},
                          {"pred": "UPPER", "t_acc": 0.0, "t_ned": 0.0, "t_len_ok": 0.0}]
        assert "broken" in FACE_BACKENDS
        with pytest.raises(TfbenchError, match=r"face backend plugin 'broken' \(toyplug:Missing\) failed to load"):
            create_face_backend("broken")
        with pytest.raises(UnknownNameError, match="unknown OCR backend 'uper'; did you mean 'upper'.*tfbench.ocr_backends"):
            create_ocr_backend("uper")
    finally:
        monkeypatch.undo()
        sys.modules.pop("toyplug", None)
        reg.refresh_plugins()
    assert "t_len_ok" not in check_names() and "upper" not in OCR_BACKENDS


@pytest.mark.parametrize("target,message", [
    ("VALUE", r"^metric plugin 'bad' \(badmetric:VALUE\) is a int, not a MetricSpec$"),
    ("MISSING", r"^metric plugin 'bad' \(badmetric:MISSING\) failed to load: .*MISSING"),
])
def test_a_broken_metric_plugin_is_one_clear_error(tmp_path, monkeypatch, target, message):
    _dist(tmp_path, "badmetric", f"[tfbench.metrics]\nbad = badmetric:{target}\n", "VALUE = 3\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        with pytest.raises(TfbenchError, match=message):
            reg.refresh_plugins()
    finally:
        monkeypatch.undo()
        sys.modules.pop("badmetric", None)
        reg.refresh_plugins()


def test_small_accessors_pin_their_edges():
    t_acc = get_metric("t_acc")
    assert t_acc.in_range(0.0) and t_acc.in_range(1.0) and t_acc.in_range(-1e-9) and t_acc.in_range(1.0 + 1e-9)
    assert t_acc.in_range(1.0, slack=0.0) and t_acc.in_range(0.0, slack=0.0) and not t_acc.in_range(-1e-8)
    results = {"metrics": {"text": {"n": {"small": 1, "medium": 0, "large": 2}}, "face": {"n": [1, 2, 3]}}}
    assert t_acc.counts(results) == {"small": 1, "medium": 0, "large": 2}
    assert get_metric("f_sim").counts(results) is None and get_metric("f_sim_std").counts(results) is None
    assert get_metric("t_acc_flip_rate").counts(results) is None  # a temporal text metric has no bucket counts
    assert [m.name for m in metrics_for(check_default=True)] == ["t_acc", "t_ned", "f_sim"]
    assert "t_acc" not in [m.name for m in metrics_for(check_default=False)]
    with pytest.raises(UnknownNameError) as e:
        metrics_for("txt")
    assert str(e.value) == "unknown side 'txt' (sides: text, face, video)"
    assert metric_for_key("face", "f_sim_std") is None and metric_for_key("text", "psnr").name == "text_psnr"
    assert list(METRICS)[:4] == ["t_acc", "t_ned", "psnr", "ssim"] and len(METRICS) == len(list(METRICS))
    assert METRICS["psnr"] is get_metric("text_psnr")  # the first metric stored under a key
    assert t_acc.check_name == "t_acc" and get_metric("text_ssim").column_label == "SSIM"
    assert MetricSpec("x", "text", "x", "text", (0.0, 1.0)).table_label == "x"
    with pytest.raises(TfbenchError, match="register_metric takes a MetricSpec, got str"):
        register_metric("t_acc")
    with pytest.raises(TfbenchError, match=r"inputs='reading' is computed for text instances"):
        _toy(side="face")
    with pytest.raises(TfbenchError, match=r"inputs='similarity' is computed for face instances"):
        _toy(inputs="similarity")


def test_create_from_names_what_is_missing():
    class Thing:
        def __init__(self, size=1):
            self.size = size

    table = {"abc1": Thing, "abc2": Thing, "abc3": "no_such_module_xyz:Thing"}
    with pytest.raises(UnknownNameError) as e:
        reg.create_from(table, "abcx", "thing")
    assert str(e.value) == "unknown thing 'abcx'; did you mean 'abc3', 'abc2'? (available: abc1, abc2, abc3)"
    with pytest.raises(UnknownNameError) as e:
        reg.create_from(table, "zzz", "thing")
    assert str(e.value) == "unknown thing 'zzz' (available: abc1, abc2, abc3)"
    assert reg.create_from(table, "abc1", "thing", size=3).size == 3  # a class is used as it is
    with pytest.raises(TfbenchError, match=r"^thing 'abc3': cannot import 'no_such_module_xyz:Thing'"):
        reg.create_from(table, "abc3", "thing")
    with pytest.raises(UnknownNameError, match=r"^unknown metric 'psnrr'; did you mean 'psnr'"):
        create_metric("psnrr")
    from tfbench.metrics.text import OcrBackend

    class Reads(OcrBackend):
        name = "reads"

        def recognize(self, crops):
            return ["x"] * len(crops)

    scorer = create_metric("text", backend=Reads())  # keyword arguments reach the scorer
    assert scorer.backend.name == "reads" and scorer.score([None], ["x"])[0]["t_acc"] == 1.0


def test_backend_registries_list_builtins_then_plugins():
    from tfbench.metrics.backends import OCR_GROUP, BackendRegistry

    fresh = BackendRegistry(OCR_GROUP, {"mine": "tfbench.metrics.text:RapidOcrBackend"}, "OCR backend")
    assert (fresh.group, fresh.what, list(fresh), len(fresh)) == (OCR_GROUP, "OCR backend", ["mine"], 1)
    assert fresh["mine"] == "tfbench.metrics.text:RapidOcrBackend" and fresh.load("mine").__name__ == "RapidOcrBackend"
    fresh.register("other", "tfbench.metrics.text:TextScorer")
    assert list(fresh) == ["mine", "other"] and fresh.load("other").__name__ == "TextScorer"
    fresh.register("broken", "no_such_module_xyz:Ocr")
    with pytest.raises(TfbenchError, match=r"^OCR backend 'broken': cannot import 'no_such_module_xyz:Ocr'"):
        fresh.load("broken")
    many = BackendRegistry(OCR_GROUP, {"mine1": "a:b", "mine2": "a:b", "mine3": "a:b"}, "thing")
    with pytest.raises(UnknownNameError) as e:
        many.load("minex")
    assert str(e.value).startswith("unknown thing 'minex'; did you mean 'mine3', 'mine2'? (available: mine1, mine2, mine3;")
    with pytest.raises(UnknownNameError) as e:
        many.load("zzz")
    assert str(e.value).startswith("unknown thing 'zzz' (available: mine1, mine2, mine3; packages add")
    with pytest.raises(KeyError):
        fresh["missing"]
    with pytest.raises(UnknownNameError, match=r"unknown OCR backend 'minee'; did you mean 'mine'\? \(available: mine, other, broken; "
                                               r"packages add theirs under the 'tfbench.ocr_backends' entry-point group\)"):
        fresh.load("minee")


def test_refreshing_plugins_survives_a_plugin_metric_that_was_unregistered(tmp_path, monkeypatch):
    _dist(tmp_path, "gonemetric", "[tfbench.metrics]\nt_gone = gonemetric:SPEC\n", """\
        from tfbench.metrics.registry import MetricSpec

        SPEC = MetricSpec("t_gone", "text", "t_gone", "text", (0.0, 1.0))
        """)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        reg.refresh_plugins()
        assert "t_gone" in check_names()
        unregister_metric("t_gone")
        assert "t_gone" not in check_names()  # plugins are read once: an unregistered one stays away until a refresh
        reg.refresh_plugins()  # forgets it without tripping over its absence, and reads it again
        assert "t_gone" in check_names()
    finally:
        monkeypatch.undo()
        sys.modules.pop("gonemetric", None)
        reg.refresh_plugins()
    assert "t_gone" not in check_names()
