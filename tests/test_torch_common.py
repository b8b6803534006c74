"""Torch helpers: tensor conversion, padding, safe checkpoint loading, local/cached weight resolution."""
from __future__ import annotations

import os
import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from tfbench.adapters.torch_common import (crop_to, load_state_dict, pad_to_multiple, parse_device, parse_dtype,  # noqa: E402
                                           resolve_hub_folder, resolve_url_file, save_state_dict, to_model,
                                           to_protocol, weights_cache)
from tfbench.errors import AdapterArgumentError, AdapterError, MissingWeightsError, TfbenchError  # noqa: E402


class RunsCommand:
    """A pickled object that runs a shell command when unpickled the ordinary way."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_to_model_maps_range_and_layout_and_back():
    rng = np.random.default_rng(0)
    img = rng.random((2, 5, 7, 3), dtype=np.float32)
    x = to_model(img, parse_device("cpu"), parse_dtype("fp32"), (-1.0, 1.0))
    assert tuple(x.shape) == (2, 3, 5, 7) and x.dtype == torch.float32
    assert torch.allclose(x[1, 2], torch.from_numpy(img[1, :, :, 2]) * 2 - 1)
    assert np.abs(to_protocol(x, (-1.0, 1.0)) - img).max() < 1e-6
    video = rng.random((1, 4, 5, 7, 3), dtype=np.float32)
    v = to_model(video, parse_device("cpu"), parse_dtype("bf16"))
    assert tuple(v.shape) == (1, 3, 4, 5, 7) and v.dtype == torch.bfloat16
    assert np.abs(to_protocol(v) - video).max() < 4e-3  # bf16 has 8 mantissa bits
    assert to_protocol(torch.full((1, 3, 2, 2), 1.1)).max() == 1.0  # overshoot is clamped to [0, 1] ...
    with pytest.raises(AdapterError, match=r"raw output spans \[3, 3\].*probably returns \[0, 255\]"):
        to_protocol(torch.full((1, 3, 2, 2), 3.0))  # ... a range mix-up is refused before any clamping
    with pytest.raises(AdapterError, match=r"\(N,H,W,3\)"):
        to_model(img[..., :2], parse_device("cpu"), parse_dtype("fp32"))


@pytest.mark.parametrize("shape", [(2, 3, 37, 50), (1, 3, 5, 37, 50)])
def test_pad_to_multiple_replicates_edges_and_crop_undoes_it(shape):
    x = torch.rand(shape)
    padded, size = pad_to_multiple(x, 16)
    assert tuple(padded.shape[-2:]) == (48, 64) and size == (37, 50)
    assert torch.equal(padded[..., 47, :50], x[..., 36, :])  # bottom rows repeat the last row
    assert torch.equal(crop_to(padded, size), x)
    same, _ = pad_to_multiple(torch.rand(1, 3, 32, 32), 16)
    assert tuple(same.shape) == (1, 3, 32, 32)


def test_device_and_dtype_errors():
    assert parse_dtype("bf16") == torch.bfloat16 and parse_dtype("fp16") == torch.float16
    with pytest.raises(AdapterArgumentError, match="use fp32, fp16 or bf16"):
        parse_dtype("int4")
    with pytest.raises(AdapterArgumentError, match="not a torch device"):
        parse_device("gpu0")
    assert parse_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")


def test_lightning_style_checkpoint_loads_tensors_without_running_code(tmp_path):
    marker = tmp_path / "PWNED"
    state = {"w": torch.randn(2, 3), "b": torch.ones(3, dtype=torch.float16)}
    torch.save({"state_dict": state, "callbacks": {RunsCommand: {"x": 1}}, "hook": RunsCommand(marker)},
               tmp_path / "last.ckpt")
    with pytest.raises(pickle.UnpicklingError):  # what plain weights_only loading says about this file
        torch.load(tmp_path / "last.ckpt", weights_only=True)
    loaded = load_state_dict(tmp_path / "last.ckpt")
    assert not marker.exists()
    assert set(loaded) == {"w", "b"} and torch.equal(loaded["w"], state["w"]) and loaded["b"].dtype == torch.float16


def test_a_file_with_only_code_is_refused(tmp_path):
    marker = tmp_path / "PWNED"
    torch.save(RunsCommand(marker), tmp_path / "evil.pth")
    with pytest.raises(TfbenchError, match="expected a dict of tensors"):
        load_state_dict(tmp_path / "evil.pth")
    assert not marker.exists()
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(TfbenchError, match="not a readable PyTorch checkpoint"):
        load_state_dict(tmp_path / "junk.pth")


def test_safetensors_and_plain_state_dicts_round_trip(tmp_path):
    state = {"a": torch.arange(6.0).reshape(2, 3)}
    for name in ("w.safetensors", "w.pth"):
        assert torch.equal(load_state_dict(save_state_dict(state, tmp_path / name))["a"], state["a"])
    with pytest.raises(MissingWeightsError, match="does not exist"):
        load_state_dict(tmp_path / "missing.pth")


def test_cached_url_download_is_reused_and_local_paths_win(tmp_path, monkeypatch):
    monkeypatch.setenv("TFBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("TFBENCH_OFFLINE", "1")
    url = "https://example.invalid/models/tiny_encoder.pth"
    with pytest.raises(MissingWeightsError, match=r"tiny_encoder.pth are not cached.*put it at .*cache/weights/taesd/tiny_encoder.pth"):
        resolve_url_file(url, "taesd")
    cached = weights_cache("taesd") / "tiny_encoder.pth"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"x")
    assert resolve_url_file(url, "taesd") == cached  # the cache is used, no network needed
    local = tmp_path / "mine.pth"
    local.write_bytes(b"y")
    assert resolve_url_file(str(local), "taesd") == local


def test_local_model_folder_with_subfolder(tmp_path):
    (tmp_path / "pipe" / "vae").mkdir(parents=True)
    assert resolve_hub_folder(str(tmp_path / "pipe"), subfolder="vae") == tmp_path / "pipe" / "vae"
    with pytest.raises(MissingWeightsError, match="does not exist"):
        resolve_hub_folder(str(tmp_path / "pipe"), subfolder="unet")
    with pytest.raises(AdapterArgumentError, match="neither an existing folder nor a hub id"):
        resolve_hub_folder("not-a-repo-id")
