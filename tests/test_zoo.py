"""Model zoo presets, local overrides of their downloads, and run-wide --device/--dtype injection."""
from __future__ import annotations

import inspect
import json

import pytest

torch = pytest.importorskip("torch")
diffusers = pytest.importorskip("diffusers")

from tfbench.adapter_options import inject_runtime  # noqa: E402
from tfbench.cli import main  # noqa: E402
from tfbench.registry import PRESETS, _load_presets, create_adapter, expand_spec, resolve_factory  # noqa: E402

EXPECTED = {"sd-vae-ft-mse", "sdxl-vae", "sd3-vae", "flux1-vae", "flux2-vae", "dc-ae-f32c32", "taesd", "taesdxl",
            "taesd3", "taef1", "taef2", "taesana", "taesd-diffusers", "cogvideox-vae", "hunyuan-video-vae", "wan2.1-vae"}


def test_every_preset_expands_to_a_family_that_takes_its_arguments():
    _load_presets()
    assert EXPECTED <= set(PRESETS)
    for name in EXPECTED:
        preset = PRESETS[name]
        family, kwargs, found = expand_spec(name)
        assert found is preset and preset.license and preset.source.startswith("https://")
        params = inspect.signature(resolve_factory(family)).parameters
        assert set(kwargs) <= set(params), (name, kwargs)
    assert expand_spec("taef2")[1] == {"variant": "taef2"}  # the hub location by default, never ../shared
    assert PRESETS["taef2"].source.startswith("https://github.com/madebyollin/taesd/")
    assert expand_spec("flux1-vae:dtype=bf16")[1] == {"pretrained": "black-forest-labs/FLUX.1-schnell",
                                                      "subfolder": "vae", "dtype": "bf16"}


def test_a_local_folder_overrides_the_preset_download(tmp_path):
    torch.manual_seed(0)
    vae = diffusers.AutoencoderKL(block_out_channels=(8, 16), layers_per_block=1, norm_num_groups=4, latent_channels=16,
                                  down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2)
    vae.save_pretrained(tmp_path / "flux1" / "vae")  # the layout of the hub repository: the preset adds subfolder=vae
    adapter = create_adapter(f"flux1-vae:pretrained={tmp_path / 'flux1'}")
    assert adapter.info.family == "diffusers-kl" and adapter.info.latent_channels == 16
    assert adapter.info.description.startswith(f"AutoencoderKL {tmp_path / 'flux1'}/vae")
    plain = create_adapter(f"diffusers-kl:pretrained={tmp_path / 'flux1'}")  # a local pipeline folder: vae/ is found
    assert plain.info.latent_channels == 16


def test_adapters_listing_shows_nominal_compression(capsys):
    assert main(["adapters", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["taef2"]["nominal_at_256"] == {"latent_shape": [32, 32, 32], "tokens": 1024, "bits_per_pixel": 8.0,
                                               "bpp_basis": "latent elements x 16 bits / pixels"}
    assert rows["flux1-vae"]["nominal_at_256"]["bits_per_pixel"] == 4.0
    assert rows["dc-ae-f32c32"]["nominal_at_256"]["latent_shape"] == [32, 8, 8]
    assert rows["jpeg"]["nominal_at_256"] is None  # codecs: measured from the bitstream
    assert main(["adapters"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("taef2 "))
    assert " 8 " in line and "= tae:variant=taef2 (MIT)" in line


def test_run_device_and_dtype_reach_adapters_that_take_them():
    assert inject_runtime("taef2", "cuda", "bf16") == "taef2:device=cuda,dtype=bf16"
    assert inject_runtime("tae:weights=/w", "cuda:1", None) == "tae:weights=/w,device=cuda:1"
    assert inject_runtime("flux1-vae:dtype=fp16", None, "bf16") == "flux1-vae:dtype=fp16"  # the spec wins
    assert inject_runtime("jpeg:quality=30", "cuda", "bf16") == "jpeg:quality=30"  # codecs take neither
    assert inject_runtime("taef2", "cpu", None) == "taef2"  # the default device changes nothing


def test_run_with_device_cuda_on_a_cpu_machine_is_one_clear_line(capsys):
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    assert main(["run", "-a", "tae:variant=taesd", "--device", "cuda", "--no-progress"]) == 2
    assert capsys.readouterr().err.strip() == (
        "tfbench: error: device 'cuda': this torch build sees no CUDA GPU; use device=cpu")
