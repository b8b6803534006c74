"""A third-party adapter package, installed for real, is found through the `tfbench.adapters` entry points."""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PLUGIN = Path(__file__).parent / "example_plugin"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """pip-install tests/example_plugin into a temporary folder; return an environment that sees it."""
    work = tmp_path_factory.mktemp("plugin")
    src = shutil.copytree(PLUGIN, work / "src")  # build artefacts stay out of the checkout
    target = work / "site"
    # offline build with the installed setuptools; venvs of Python >= 3.12 have none: then pip fetches it
    offline = ["--no-build-isolation", "--no-index"] if importlib.util.find_spec("setuptools") else []
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", *offline, "--quiet",
                           "--target", str(target), str(src)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(target), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tfbench.cli", *args], capture_output=True, text=True, env=env)


def test_entry_point_is_discovered_from_the_installed_metadata(installed):
    code = ("from importlib.metadata import entry_points; "
            "print([(e.name, e.value) for e in entry_points(group='tfbench.adapters')])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=installed, check=True).stdout
    assert "('example-blockmean', 'tfbench_example_plugin:BlockMean')" in out
    rows = {r["name"]: r for r in json.loads(run(installed, "adapters", "--json").stdout)}
    assert rows["example-blockmean"]["kind"] == "codec" and "8-bit mean" in rows["example-blockmean"]["description"]
    assert rows["example-blockmean"]["origin"] == "plugin" and rows["example-blockmean"]["distribution"]
    assert rows["jpeg"]["origin"] == "builtin" and "distribution" not in rows["jpeg"]
    assert "example-blockmean" not in {r["name"] for r in json.loads(run(dict(os.environ), "adapters", "--json").stdout)}


def test_bad_plugin_argument_is_one_clear_line(installed):
    proc = run(installed, "run", "-a", "example-blockmean:factr=2")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == (
        "tfbench: error: adapter 'example-blockmean' has no argument 'factr'; did you mean 'factor'? (arguments: factor)")


def test_installed_plugin_runs_on_mini(installed, mini, tmp_path):
    proc = run(installed, "run", "--suite", "mini", "-r", "256", "-a", "example-blockmean:factor=2",
               "--out", str(tmp_path), "--json", "--no-progress")
    assert proc.returncode == 0, proc.stderr
    (res,) = json.loads(proc.stdout)
    assert res["adapter"]["family"] == "example-blockmean" and res["adapter"]["spec"] == "example-blockmean:factor=2"
    assert res["adapter"]["bits_per_pixel"] == 6.0 and res["adapter"]["latent_shape"] == [128, 128, 3]  # 3 x 8 bits / 4 px
    text, face = res["metrics"]["text"], res["metrics"]["face"]
    # 2x block means blur the smallest words and faces more than the largest
    assert 0.0 < text["t_acc"]["mean"] <= 1.0 and text["t_acc"]["small"] <= text["t_acc"]["large"]
    assert 0.0 < face["f_sim"]["mean"] < 0.99 and face["f_sim"]["small"] < face["f_sim"]["large"]
    assert (tmp_path / "mini" / "example-blockmean_factor=2@256" / "results.json").is_file()
