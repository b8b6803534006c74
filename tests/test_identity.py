"""Run identity vs execution settings: device, dtype, batch size, threads and local file locations are recorded in
the budget, never in the adapter's spec or the run-folder name; local files are named by their checksum."""
import json
import shutil

import pytest

from tfbench.engine import RunOptions, run_suite
from tfbench.pipeline import run_dir
from tfbench.registry import create_adapter
from tfbench.run_identity import identify

from tests.small_suites import mini_subset


def test_execution_settings_are_not_identity(shared, tmp_path):
    weights = shared / "weights"
    cpu, cpu_exec = identify(f"taef2:weights={weights}")
    gpu, gpu_exec = identify(f"taef2:weights={weights},device=cuda,dtype=fp16,batch_size=2")
    assert cpu == gpu and cpu.startswith("taef2:weights=sha256:") and len(cpu.split("sha256:")[1]) == 16
    assert gpu_exec == {"weights_path": str(weights.resolve()), "device": "cuda", "dtype": "fp16", "batch_size": "2"}
    assert cpu_exec == {"weights_path": str(weights.resolve())}
    copy = shutil.copytree(weights, tmp_path / "elsewhere")  # the same files elsewhere are the same model
    assert identify(f"taef2:weights={copy}")[0] == cpu


def test_local_files_are_identified_by_content(tmp_path):
    a, b = tmp_path / "a" / "bits.txt", tmp_path / "b" / "bits.txt"
    for f, text in ((a, "3"), (b, "3")):
        f.parent.mkdir()
        f.write_text(text)
    ia, ib = identify(f"python:tests.engine_models:FromFile:weights={a}")[0], identify(f"python:tests.engine_models:FromFile:weights={b}")[0]
    assert ia == ib and "sha256:" in ia and str(tmp_path) not in ia
    b.write_text("4")
    assert identify(f"python:tests.engine_models:FromFile:weights={b}")[0] != ia
    # values that only look like words, hub ids and URLs stay as written
    assert identify("jpeg:quality=30")[0] == "jpeg:quality=30"
    assert identify("diffusers-kl:pretrained=stabilityai/sdxl-vae,tiling=true")[0] == "diffusers-kl:pretrained=stabilityai/sdxl-vae,tiling=true"
    assert identify("tae:encoder=https://example.org/x.pth")[0] == "tae:encoder=https://example.org/x.pth"


@pytest.fixture()
def bits_file(tmp_path):
    f = tmp_path / "weights" / "bits.txt"
    f.parent.mkdir()
    f.write_text("2")
    return f


def test_cpu_and_other_device_runs_share_one_folder_and_record_their_execution(mini_v1, scorers, tmp_path, bits_file):
    small = mini_subset(mini_v1, tmp_path / "suite", ("text_01", "face_01"), "mini2")
    spec = f"python:tests.engine_models:FromFile:weights={bits_file}"
    first = run_suite(small, [create_adapter(spec)], ["256"], scorers, tmp_path / "out")[0]
    again = run_suite(small, [create_adapter(spec + ",device=cuda:7")], ["256"], scorers, tmp_path / "out",
                      RunOptions(execution={"threads": 2}))[0]
    folder = first["_path"].split("mini2/")[1]
    assert first["_path"] == again["_path"] and "device" not in folder and tmp_path.name not in folder and "sha256" in folder
    assert first["adapter"]["spec"] == again["adapter"]["spec"] and "sha256:" in first["adapter"]["spec"]
    assert again["budget"]["images_resumed"] == 2 and again["metrics"] == first["metrics"]
    assert again["budget"]["execution"] == {"threads": 2, "weights_path": str(bits_file.resolve()), "device": "cuda:7"}


def test_an_old_run_folder_named_by_the_typed_spec_is_resumed(mini_v1, scorers, tmp_path, bits_file, capsys):
    small = mini_subset(mini_v1, tmp_path / "suite", ("text_01", "face_01"), "mini2")
    spec = f"python:tests.engine_models:FromFile:weights={bits_file}"
    first = run_suite(small, [create_adapter(spec)], ["256"], scorers, tmp_path / "out")[0]
    new = run_dir(tmp_path / "out", "mini2", first["adapter"]["spec"], "256")
    old = run_dir(tmp_path / "out", "mini2", spec, "256")  # the name tfbench gave it before
    assert new != old
    shutil.move(new, old)
    config = json.loads((old / "run.json").read_text())
    (old / "run.json").write_text(json.dumps({**config, "adapter": spec}))
    again = run_suite(small, [create_adapter(spec)], ["256"], scorers, tmp_path / "out")[0]
    assert "moved the run folder" in capsys.readouterr().err
    assert not old.exists() and again["_path"] == first["_path"]
    assert again["budget"]["images_resumed"] == 2 and again["budget"]["images_evaluated"] == 0
    assert json.loads((new / "run.json").read_text())["adapter"] == first["adapter"]["spec"]
