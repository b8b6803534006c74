"""The paper-faithful backends (parseq, paddleocr, arcface) fail fast and say what to install or
download, and where to put it, when their package or weights are missing (as on this offline machine)."""
from __future__ import annotations

import importlib.util
import json
import socket
import time

import pytest
from PIL import Image

from tfbench.cli import main
from tfbench.errors import MissingWeightsError
from tfbench.downloads import require_host
from tfbench.metrics.face import create_face_backend
from tfbench.metrics.text import create_ocr_backend


def _reachable(host: str) -> bool:
    try:
        socket.create_connection((host, 443), timeout=3).close()
        return True
    except OSError:
        return False


@pytest.mark.skipif(importlib.util.find_spec("doctr") is not None, reason="python-doctr is installed here")
def test_parseq_without_doctr_says_what_to_install():
    t = time.monotonic()
    with pytest.raises(MissingWeightsError, match=r'pip install "python-doctr\[torch\]".*or use --ocr rapidocr'):
        create_ocr_backend("parseq")
    assert time.monotonic() - t < 5


@pytest.mark.skipif(importlib.util.find_spec("paddleocr") is not None, reason="paddleocr is installed here")
def test_paddleocr_without_the_package_says_what_to_install():
    with pytest.raises(MissingWeightsError, match="pip install paddleocr paddlepaddle"):
        create_ocr_backend("paddleocr")


def test_unreachable_host_fails_in_seconds_with_the_manual_step():
    t = time.monotonic()
    with pytest.raises(MissingWeightsError, match=r"model X is not on disk and nohost.invalid cannot be reached.*put it in /y"):
        require_host("nohost.invalid", "model X", "Download it and put it in /y.", timeout=3)
    assert time.monotonic() - t < 10


def test_arcface_without_pack_offline_says_what_to_download_and_where(tmp_path, monkeypatch):
    if _reachable("github.com"):
        pytest.skip("github.com is reachable: the backend would download the 300 MB pack")
    monkeypatch.setenv("TFBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("TFBENCH_ARCFACE_DIR", raising=False)
    t = time.monotonic()
    with pytest.raises(MissingWeightsError, match=rf"antelopev2.zip .* so that {tmp_path / 'cache'}/insightface/models/"
                                                  rf"antelopev2/glintr100.onnx exists"):
        create_face_backend("arcface")
    assert time.monotonic() - t < 15


def test_arcface_finds_a_nested_pack_and_rejects_a_damaged_model(tmp_path, monkeypatch):
    from tfbench.metrics.face_arcface import find_recognition_model

    nested = tmp_path / "antelopev2" / "antelopev2"  # how some insightface zips unpack
    nested.mkdir(parents=True)
    (nested / "glintr100.onnx").write_bytes(b"not an onnx model")
    monkeypatch.setenv("TFBENCH_ARCFACE_DIR", str(tmp_path / "antelopev2"))
    assert find_recognition_model() == nested / "glintr100.onnx"
    with pytest.raises(MissingWeightsError, match=r"cannot load .*glintr100.onnx .* delete it and unzip"):
        create_face_backend("arcface")


@pytest.mark.skipif(importlib.util.find_spec("doctr") is not None, reason="python-doctr is installed here")
def test_run_with_a_missing_backend_is_one_clear_line(tmp_path, capsys):
    Image.new("RGB", (64, 32), (255, 255, 255)).save(tmp_path / "a.png")
    (tmp_path / "manifest.json").write_text(json.dumps({"schema": "tfbench.suite/1", "name": "one", "version": "1",
        "images": [{"file": "a.png", "width": 64, "height": 32, "words": [{"text": "a", "box": [1, 1, 30, 30]}]}]}))
    assert main(["run", "--suite", str(tmp_path / "manifest.json"), "--ocr", "parseq", "-a", "identity",
                 "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tfbench: error: the `parseq` OCR backend needs docTR") and "Traceback" not in err
