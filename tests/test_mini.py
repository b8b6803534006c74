"""The versioned `mini` suite: v3 by default, v1 and v2 still built byte for byte, deterministic builds, full
buckets, and golden files of v1 rerunning v1 (real builds, real OCR and face models)."""
import hashlib
import json

import pytest

from tfbench.cli import main
from tfbench.mini import build_mini, mini_dir
from tfbench.suites import list_suites, load_suite, versioned_name

# sha256 of mini v1's 20 image files, in manifest order, as built before v2 existed (the v1 generator is
# kept unchanged so that results and golden files made on v1 still compare)
V1_IMAGES_SHA256 = "2d901c9ce0a9f443d64033857f57cc385e268cd299cf33dafd07d92aff47b42c"
# the same for v2's 18 images (151 words, 50 faces), as built when v2 was `mini` (before v3's calibration)
V2_IMAGES_SHA256 = "24cf01333b4352a94ac1c20d71d87b42952d3739d77e1bdc9fb5a184a7d4b50b"


def _images_digest(manifest: dict) -> str:
    return hashlib.sha256("".join(im["sha256"] for im in manifest["images"]).encode()).hexdigest()


def test_mini_is_v3_and_versions_have_pinned_names(mini):
    assert (mini.name, mini.version) == ("mini", "3")
    names = {row["name"] for row in list_suites()}
    assert {"mini", "mini-v1", "mini-v2", "mini-v3"} <= names
    assert versioned_name("mini", "1") == "mini-v1" and versioned_name("mini", "2") == "mini-v2"
    assert versioned_name("mini", "3") == "mini-v3"
    assert versioned_name("mini-v1", "1") == "mini-v1" and versioned_name("tokbench", "1") == "tokbench"
    assert mini_dir("3") == mini.root


@pytest.mark.parametrize("res", ["256", "512", "1024"])
def test_every_bucket_is_filled(mini, res):
    for kind, items in (("text", [w for r in mini.images for w in r.words]),
                        ("face", [f for r in mini.images for f in r.faces])):
        e = mini.edges(kind, res)
        counts = [sum(e[k] <= x.ratio < e[k + 1] for x in items) for k in range(3)]
        assert min(counts) >= (20 if kind == "text" else 8), (kind, res, counts)


def test_v3_build_is_byte_for_byte_deterministic(mini, tmp_path):
    again = build_mini(tmp_path / "again", "3")
    assert again.read_bytes() == (mini.root / "manifest.json").read_bytes()
    for f in sorted(p.name for p in mini.root.iterdir()):
        assert (tmp_path / "again" / f).read_bytes() == (mini.root / f).read_bytes(), f


@pytest.fixture(scope="module")
def v1():
    return load_suite("mini-v1")


def test_v1_is_still_built_byte_for_byte(v1):
    manifest = json.loads((v1.root / "manifest.json").read_text())
    assert (manifest["name"], manifest["version"]) == ("mini", "1")
    assert _images_digest(manifest) == V1_IMAGES_SHA256
    assert sum(len(r.words) for r in v1.images) == 150 and sum(len(r.faces) for r in v1.images) == 50


def test_v2_is_still_built_byte_for_byte(_cache):
    manifest = json.loads((load_suite("mini-v2").root / "manifest.json").read_text())
    assert (manifest["name"], manifest["version"]) == ("mini", "2")
    assert _images_digest(manifest) == V2_IMAGES_SHA256
    assert sum(len(r["words"]) for r in manifest["images"] if "words" in r) == 151


def test_a_golden_file_made_on_v1_reruns_v1(v1, tmp_path, capsys):
    golden = tmp_path / "golden.json"
    assert main(["golden", "--adapter", "jpeg:quality=30", "--suite", "mini-v1", "-r", "256", "--out", str(golden)]) == 0
    data = json.loads(golden.read_text())
    data["suite"] = "mini"  # as golden files made before v2 say
    golden.write_text(json.dumps(data))
    assert data["results"][0]["suite"]["version"] == "1"
    capsys.readouterr()
    rc = main(["check", "--adapter", "jpeg:quality=30", "--golden", str(golden)])
    cap = capsys.readouterr()
    assert rc == 0 and "running jpeg:quality=30 on mini-v1 @ 256" in cap.err and "**PASS**" in cap.out


def _calibration_module():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "scripts" / "calibrate_mini.py"
    spec = importlib.util.spec_from_file_location("calibrate_mini", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_calibration_summary_gives_spreads_and_kendall_tau():
    cal = _calibration_module()
    specs = ["identity", "jpeg:quality=30", "jpeg:quality=5", "tae:variant=taef2,weights=/w"]

    def results(t_acc, f_sim):  # made-up results objects, only the fields the summary reads
        return {"metrics": {"text": {"t_acc": {"mean": t_acc}, "t_ned": {"mean": t_acc}}, "face": {"f_sim": {"mean": f_sim}}}}

    suite = {"512": {s: results(t, f) for s, t, f in zip(specs, (1.0, 0.6, 0.2, 0.7), (1.0, 0.9, 0.5, 0.95))}}
    real = {"text": {"512": {s: results(t, None) for s, t in zip(specs, (0.9, 0.5, 0.1, 0.45))}},
            "faces": {"512": {s: results(None, f) for s, f in zip(specs, (0.99, 0.93, 0.6, 0.9))}}}
    out = cal.summarize(suite, real, specs, ["512"])["512"]
    assert out["T-ACC"]["kendall_tau"] == pytest.approx(2 / 3)  # one of the six pairs swapped: (5 - 1) / 6
    assert out["F-Sim"]["kendall_tau"] == pytest.approx(2 / 3)
    spread = out["T-ACC"]["spreads"]["identity - jpeg:quality=30"]
    assert spread["suite"] == pytest.approx(0.4) and spread["real"] == pytest.approx(0.4)
    assert out["T-ACC"]["suite"]["tae:variant=taef2"] == 0.7  # the weights folder is left out of the label
