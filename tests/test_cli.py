import json
import subprocess
import sys

import pytest

from tfbench.cli import main


def test_default_command_prints_the_table(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "-a", "identity", "-a", "jpeg:quality=30", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "identity" in out and "jpeg:quality=30" in out and "T-ACC" in out and "F-Sim" in out
    assert (tmp_path / "tfbench-results/mini/jpeg_quality=30@256/results.json").is_file()
    assert main(["show", "tfbench-results"]) == 0
    shown = capsys.readouterr().out
    assert shown.count("\n") >= 4 and "jpeg:quality=30" in shown


@pytest.mark.parametrize("argv,message", [
    (["run", "-a", "jpgg"], "unknown adapter 'jpgg'; did you mean 'jpeg'"),
    (["run", "-a", "jpeg:quality=abc"], "quality must be an integer"),
    (["run", "-a", "jpeg:q=3"], "no argument 'q'"),
    (["run", "--suite", "minii"], "unknown suite 'minii'; did you mean 'mini'"),
    (["run", "-r", "300x"], "--resolution '300x'"),
    (["show", "/nonexistent/dir"], "no such file or folder"),
])
def test_bad_input_gives_one_clear_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("tfbench: error:") and message in err and "Traceback" not in err


def test_console_script_lists_adapters():
    out = subprocess.run([sys.executable, "-m", "tfbench.cli", "adapters", "--json"], capture_output=True, text=True, check=True)
    names = {r["name"] for r in json.loads(out.stdout)}
    assert {"identity", "jpeg", "webp", "avif"} <= names
