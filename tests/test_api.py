"""`tfbench.evaluate` from Python: the same engine and numbers as the CLI, declared value ranges that cannot be
bypassed, and the documented training-loop example (real models, real torch modules)."""
import contextlib
import io
import json
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the torch examples need the `neural` extra")

import tfbench  # noqa: E402
from tfbench.cli import main  # noqa: E402
from tfbench.errors import AdapterArgumentError, AdapterError  # noqa: E402

from tests.engine_models import tiny_ae  # noqa: E402
from tests.small_suites import mini_subset  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
IDS = ("text_01", "text_02", "face_01", "face_02")


@pytest.fixture(scope="module")
def small(mini_v1, tmp_path_factory):
    return mini_subset(mini_v1, tmp_path_factory.mktemp("mini4"), IDS, "mini4")


def test_a_torch_module_scores_as_the_cli_scores_the_same_model(small, tmp_path):
    module = tiny_ae()
    module.train()
    api = tfbench.evaluate(module, suite=small, resolutions=[256, 512], value_range=(-1, 1))
    assert module.training  # evaluated in eval mode, its mode restored
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["run", "--suite", str(small.source), "--data-root", str(small.root), "-a",
                     "python:tests.engine_models:tiny_ae_adapter", "-r", "256", "-r", "512", "--out", str(tmp_path),
                     "--json", "--no-progress"]) == 0
    cli = json.loads(buf.getvalue())
    assert [r["metrics"] for r in api] == [r["metrics"] for r in cli]  # every digit
    assert api[0]["adapter"]["bits_per_pixel"] == cli[0]["adapter"]["bits_per_pixel"] == 8.0  # 8 ch at 1/4, fp16
    assert api.at(512)["suite"]["resolution"] == "512" and set(api.scores()) == {"256", "512"}
    assert api.scores()["256"]["f_sim"] is None  # four images leave a face bucket empty: the mean is undefined
    assert 0 <= api.scores("instance_mean")["256"]["f_sim"] < 0.9 and "_path" not in api[0]  # a fresh temporary folder
    assert "TinyAE" in api.table()


def test_plain_callables_numpy_and_torch(small, tmp_path):
    numpy_identity = tfbench.evaluate(lambda x: x, suite=small, value_range=(0, 1))
    torch_identity = tfbench.evaluate(lambda x: x.clone(), suite=small, value_range=(-1, 1), tensor="torch")
    adapter = tfbench.evaluate(tfbench.as_adapter(lambda x: x, (0, 1), name="again"), suite=small, out=tmp_path)
    assert numpy_identity[0]["metrics"] == torch_identity[0]["metrics"] == adapter[0]["metrics"]
    assert numpy_identity.scores()["256"]["t_acc"] == 1.0
    assert Path(adapter[0]["_path"]).is_file()  # with `out`, a normal run folder


@pytest.mark.parametrize("model,value_range,message", [
    (lambda x: x * 255, (0, 1), r"span \[0, 255\] .*expected \[0, 1\]"),          # returns 8-bit values
    (lambda x: x * 2 - 1, (0, 1), r"probably returns \[-1, 1\]"),                  # returns [-1, 1]
    (lambda x: np.full_like(x, np.nan), (0, 1), "NaN/Inf"),
])
def test_the_range_check_cannot_be_bypassed(small, model, value_range, message):
    with pytest.raises(AdapterError, match=message):
        tfbench.evaluate(model, suite=small, value_range=value_range)


def test_a_module_returning_another_range_than_declared_is_refused(small):
    class Wrong(torch.nn.Module):  # declared [-1, 1], returns [0, 255]
        def encode(self, x):
            return x

        def decode(self, z):
            return (z + 1) * 127.5

    with pytest.raises(AdapterError, match=r"\[0, 255\]"):
        tfbench.evaluate(Wrong(), suite=small, value_range=(-1, 1))


def test_the_value_range_must_be_declared(small):
    with pytest.raises(AdapterArgumentError, match="declare the value range"):
        tfbench.evaluate(lambda x: x, suite=small)
    with pytest.raises(AdapterArgumentError, match="low < high"):
        tfbench.evaluate(lambda x: x, suite=small, value_range=(1, 0))
    with pytest.raises(AdapterArgumentError, match="has no encode"):
        tfbench.evaluate(torch.nn.Conv2d(3, 3, 1), suite=small, value_range=(0, 1))


def test_the_training_loop_example_runs(small, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["training_loop.py", "--steps", "4", "--every", "2", "--suite", str(small.source),
                                      "--data-root", str(small.root)])
    runpy.run_path(str(REPO / "docs" / "examples" / "training_loop.py"), run_name="__main__")
    lines = [x for x in capsys.readouterr().out.splitlines() if x.startswith("step ")]
    assert [x.split(":")[0] for x in lines] == ["step 2", "step 4"] and all("T-ACC" in x and "F-Sim" in x for x in lines)


def test_the_pytest_example_passes_as_a_test_of_its_own():
    import os
    import subprocess

    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir",
                           str(REPO / "docs" / "examples"), str(REPO / "docs" / "examples" / "test_tokenizer_fidelity.py")],
                          capture_output=True, text=True, timeout=900, env={**os.environ, "PYTHONPATH": str(REPO)},
                          cwd=str(REPO / "docs" / "examples"))
    assert done.returncode == 0 and "3 passed" in done.stdout, done.stdout[-2000:] + done.stderr[-2000:]
