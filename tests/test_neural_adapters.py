"""Every neural family runs end to end through its real loading path on a tiny random model saved to disk.

Like timm's per-model tests: each case builds a randomly initialised model with the real library, saves it the
way its users find it (diffusers folder, original .pth files, taming YAML + Lightning-style checkpoint), loads
it through the registry spec, and checks the adapter against the library's own forward pass.
"""
from __future__ import annotations

import math
import os
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

torch = pytest.importorskip("torch")
diffusers = pytest.importorskip("diffusers")

from tfbench.adapters.torch_adapter import Latent  # noqa: E402
from tfbench.errors import AdapterArgumentError, AdapterError, MissingWeightsError, TfbenchError  # noqa: E402
from tfbench.registry import BUILTIN_ADAPTERS, create_adapter  # noqa: E402
from tests.tiny_decoders import quiet_output  # noqa: E402

NEURAL_MODULES = ("diffusers_image", "taesd", "taming_vqgan")
H, W = 37, 50  # not a multiple of any compression factor: exercises padding and cropping


@dataclass
class Case:
    """A tiny model saved to disk, the spec that loads it, and the library's own reconstruction of it."""

    family: str
    spec: str
    factor: int
    channels: int
    codebook: int | None
    reference: Callable[[Any], Any]  # [0, 1] NCHW tensor (H, W multiples of factor) -> [0, 1] NCHW tensor


def _tiny_kl(root: Path, cls: Any, **extra: Any) -> Any:
    torch.manual_seed(0)
    return quiet_output(cls(block_out_channels=(8, 16), layers_per_block=1, norm_num_groups=4,
                            down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
                            **extra))


def case_kl(root: Path) -> Case:
    vae = _tiny_kl(root, diffusers.AutoencoderKL, latent_channels=4, scaling_factor=0.5, shift_factor=0.1).eval()
    vae.save_pretrained(root / "sd" / "vae")  # a pipeline repository layout: needs subfolder=vae
    ref = lambda x: ((vae.decode(vae.encode(x * 2 - 1).latent_dist.mode()).sample + 1) / 2).clamp(0, 1)
    return Case("diffusers-kl", f"diffusers-kl:pretrained={root / 'sd'},subfolder=vae", 2, 4, None, ref)


def case_flux2(root: Path) -> Case:
    vae = _tiny_kl(root, diffusers.AutoencoderKLFlux2, latent_channels=8).eval()
    vae.save_pretrained(root / "flux2")
    ref = lambda x: ((vae.decode(vae.encode(x * 2 - 1).latent_dist.mode()).sample + 1) / 2).clamp(0, 1)
    return Case("diffusers-kl", f"diffusers-kl:pretrained={root / 'flux2'}", 2, 8, None, ref)


def case_tiny(root: Path) -> Case:
    torch.manual_seed(0)
    vae = diffusers.AutoencoderTiny(encoder_block_out_channels=(8, 8), decoder_block_out_channels=(8, 8),
                                    num_encoder_blocks=(1, 1), num_decoder_blocks=(1, 1), latent_channels=4).eval()
    vae.save_pretrained(root / "tiny")
    ref = lambda x: ((vae.decode(vae.encode(x * 2 - 1).latents).sample + 1) / 2).clamp(0, 1)
    return Case("diffusers-tiny", f"diffusers-tiny:pretrained={root / 'tiny'}", 2, 4, None, ref)


def case_dc(root: Path) -> Case:
    torch.manual_seed(0)
    vae = diffusers.AutoencoderDC(
        latent_channels=8, attention_head_dim=4, encoder_block_types=("ResBlock", "EfficientViTBlock"),
        decoder_block_types=("ResBlock", "EfficientViTBlock"), encoder_block_out_channels=(8, 16),
        decoder_block_out_channels=(8, 16), encoder_layers_per_block=(1, 1), decoder_layers_per_block=(1, 1),
        encoder_qkv_multiscales=((), (5,)), decoder_qkv_multiscales=((), (5,))).eval()
    vae.save_pretrained(root / "dc")
    ref = lambda x: ((vae.decode(vae.encode(x * 2 - 1).latent).sample + 1) / 2).clamp(0, 1)
    return Case("diffusers-dc", f"diffusers-dc:pretrained={root / 'dc'}", 2, 8, None, ref)


def case_vq(root: Path) -> Case:
    torch.manual_seed(0)
    vae = diffusers.VQModel(block_out_channels=(8, 16), layers_per_block=1, norm_num_groups=4,
                            down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
                            latent_channels=4, num_vq_embeddings=32, vq_embed_dim=4).eval()
    quiet_output(vae)
    vae.save_pretrained(root / "vq")
    # diffusers quantizes inside decode(): the adapter's code-index path must give the same images
    ref = lambda x: ((vae.decode(vae.encode(x * 2 - 1).latents).sample + 1) / 2).clamp(0, 1)
    return Case("diffusers-vq", f"diffusers-vq:pretrained={root / 'vq'}", 2, 4, 32, ref)


def _tae_case(root: Path, variant: str) -> Case:
    from tfbench.adapters.taesd import VARIANTS, build

    torch.manual_seed(0)
    enc, dec = build(variant)
    folder = root / variant
    folder.mkdir()
    torch.save(enc.state_dict(), folder / f"{variant}_encoder.pth")
    torch.save(dec.state_dict(), folder / f"{variant}_decoder.pth")
    ref = lambda x: dec(enc(x)).clamp(0, 1)
    v = VARIANTS[variant]
    return Case("tae", f"tae:weights={folder}", v.factor, v.latent_channels, None, ref)  # variant from file names


TAMING_CONFIG = """\
model:
  base_learning_rate: 4.5e-06
  target: taming.models.vqgan.VQModel
  params:
    embed_dim: 8
    n_embed: 64
    ddconfig: {double_z: false, z_channels: 8, resolution: 32, in_channels: 3, out_ch: 3, ch: 32,
               ch_mult: [1, 1, 2], num_res_blocks: 1, attn_resolutions: [8], dropout: 0.0}
    lossconfig:
      target: taming.modules.losses.vqperceptual.VQLPIPSWithDiscriminator
      params: {disc_start: 0, disc_weight: 0.8, codebook_weight: 1.0}
"""


class LightningCallbackStandIn:
    """Lightning checkpoints pickle callback objects; this one would run a command if it were unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def case_taming(root: Path) -> Case:
    taming_available()
    from tfbench.adapters.taming_vqgan import build_vqgan, read_config

    (root / "model.yaml").write_text(TAMING_CONFIG)
    torch.manual_seed(0)
    model = quiet_output(build_vqgan(*read_config(root / "model.yaml")).eval())
    state = model.state_dict()
    state["loss.discriminator.main.0.weight"] = torch.randn(4, 3, 4, 4)  # training-only keys are dropped
    torch.save({"state_dict": state, "epoch": 3, "callbacks": {"ModelCheckpoint": LightningCallbackStandIn(root / "PWNED")}},
               root / "last.ckpt")

    def ref(x: Any) -> Any:  # taming's own VectorQuantizer forward, as VQModel.forward does it
        quant, _, _ = model.quantize(model.quant_conv(model.encoder(x * 2 - 1)))
        return ((model.decoder(model.post_quant_conv(quant)) + 1) / 2).clamp(0, 1)

    return Case("taming-vqgan", f"taming-vqgan:config={root / 'model.yaml'},checkpoint={root / 'last.ckpt'}", 4, 8, 64, ref)


def taming_available() -> None:
    """taming-transformers cannot be an extra (its metadata pulls torchvision + lightning): install it --no-deps."""
    try:
        import taming.modules.vqvae.quantize  # noqa: F401
        return
    except ModuleNotFoundError:
        pass
    import tempfile

    target = tempfile.mkdtemp(prefix="tfbench-taming-")
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", target,
                           "taming-transformers==0.0.1"], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip("taming-transformers is not installed and PyPI is unreachable; "
                    "pip install --no-deps taming-transformers==0.0.1")
    sys.path.insert(0, target)


CASES: dict[str, tuple[str, Callable[[Path], Case]]] = {  # case -> (family, builder)
    "diffusers-kl": ("diffusers-kl", case_kl),
    "diffusers-kl-flux2": ("diffusers-kl", case_flux2),
    "diffusers-tiny": ("diffusers-tiny", case_tiny),
    "diffusers-dc": ("diffusers-dc", case_dc),
    "diffusers-vq": ("diffusers-vq", case_vq),
    "tae-taesd": ("tae", lambda root: _tae_case(root, "taesd")),
    "tae-taef2": ("tae", lambda root: _tae_case(root, "taef2")),
    "tae-taesana": ("tae", lambda root: _tae_case(root, "taesana")),
    "taming-vqgan": ("taming-vqgan", case_taming),
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Case]:
    return {}


def get_case(name: str, built: dict[str, Case], tmp_path_factory: pytest.TempPathFactory) -> Case:
    if name not in built:
        built[name] = CASES[name][1](tmp_path_factory.mktemp(name))
    return built[name]


def batch(n: int = 2, h: int = H, w: int = W, seed: int = 0) -> np.ndarray:
    """Smooth random images (a real autoencoder's input is not white noise)."""
    rng = np.random.default_rng(seed)
    small = rng.random((n, 4, 5, 3), dtype=np.float32)
    yy = np.linspace(0, 3, h)[:, None].repeat(w, 1)
    xx = np.linspace(0, 4, w)[None, :].repeat(h, 0)
    y0, x0 = np.floor(yy).astype(int).clip(0, 2), np.floor(xx).astype(int).clip(0, 3)
    fy, fx = (yy - y0)[..., None], (xx - x0)[..., None]
    out = (small[:, y0, x0] * (1 - fy) * (1 - fx) + small[:, y0 + 1, x0] * fy * (1 - fx)
           + small[:, y0, x0 + 1] * (1 - fy) * fx + small[:, y0 + 1, x0 + 1] * fy * fx)
    return out.astype(np.float32)


def test_every_registered_neural_family_has_a_tiny_case():
    ours = {name for name, target in BUILTIN_ADAPTERS.items()
            if isinstance(target, str) and target.split(":")[0].rsplit(".", 1)[-1] in NEURAL_MODULES}
    assert ours == {family for family, _ in CASES.values()}
    assert ours == {"diffusers-kl", "diffusers-tiny", "diffusers-dc", "diffusers-vq", "tae", "taming-vqgan"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_family_round_trips_through_its_real_loading_path(name, built, tmp_path_factory):
    case = get_case(name, built, tmp_path_factory)
    adapter = create_adapter(case.spec)
    info = adapter.info
    assert info.family == case.family and info.spatial_compression == case.factor
    assert info.latent_channels == case.channels and info.codebook_size == case.codebook
    assert info.kind == ("discrete" if case.codebook else "continuous")

    x = batch()
    latent = adapter.encode(x)
    f = case.factor
    grid = (math.ceil(H / f), math.ceil(W / f))
    want = (2, *grid) if case.codebook else (2, case.channels, *grid)
    assert tuple(latent.tensor.shape) == want
    recon = adapter.decode(latent)
    assert recon.shape == x.shape and recon.dtype == np.float32 and 0.0 <= recon.min() and recon.max() <= 1.0
    assert torch.equal(adapter.encode(x).tensor, latent.tensor)  # deterministic (KL: mode, not a sample)

    comp = adapter.compression(latent, x.shape)
    assert len(comp) == 2 and comp[0].latent_shape == want[1:] and comp[0].tokens == grid[0] * grid[1]
    if case.codebook:
        assert comp[0].bits_per_pixel == pytest.approx(grid[0] * grid[1] * math.log2(case.codebook) / (H * W))
    else:
        assert comp[0].bits_per_pixel == pytest.approx(case.channels * grid[0] * grid[1] * 16 / (H * W))

    # the adapter's conventions (value range, mode(), code lookup) reproduce the library's own forward pass
    x_ref = batch(h=4 * f, w=6 * f, seed=1)
    with torch.inference_mode():
        ref = case.reference(torch.from_numpy(x_ref).permute(0, 3, 1, 2)).permute(0, 2, 3, 1).numpy()
    ours = adapter.reconstruct(x_ref)
    assert np.abs(ours - ref).max() < 1e-4


def test_feeding_01_to_a_minus1_1_model_is_what_the_adapter_avoids(built, tmp_path_factory):
    """The comparison above can fail: the same VAE fed [0, 1] directly gives other images."""
    case = get_case("diffusers-kl", built, tmp_path_factory)
    adapter = create_adapter(case.spec)
    vae = adapter.model
    x = batch(h=8, w=12, seed=1)
    with torch.inference_mode():
        t = torch.from_numpy(x).permute(0, 3, 1, 2)
        wrong = vae.decode(vae.encode(t).latent_dist.mode()).sample.clamp(0, 1).permute(0, 2, 3, 1).numpy()
    assert np.abs(adapter.reconstruct(x) - wrong).max() > 1e-2


def test_scale_latents_applies_both_factors_and_keeps_the_reconstruction(built, tmp_path_factory):
    case = get_case("diffusers-kl", built, tmp_path_factory)
    raw, scaled = create_adapter(case.spec), create_adapter(case.spec + ",scale_latents=true")
    x = batch()
    z_raw, z_scaled = raw.encode(x).tensor, scaled.encode(x).tensor
    assert torch.allclose(z_scaled, (z_raw - 0.1) * 0.5, atol=1e-6)
    assert np.abs(raw.decode(raw.encode(x)) - scaled.decode(scaled.encode(x))).max() < 1e-5


def test_bf16_and_tiling_slicing_are_separate_configurations(built, tmp_path_factory):
    case = get_case("diffusers-kl", built, tmp_path_factory)
    x = batch()
    fp32 = create_adapter(case.spec).reconstruct(x)
    bf16 = create_adapter(case.spec + ",dtype=bf16")
    assert "bf16" in bf16.info.description and bf16.model.dtype == torch.bfloat16
    assert np.abs(bf16.reconstruct(x) - fp32).mean() < 0.02
    sliced = create_adapter(case.spec + ",slicing=true")
    assert "sliced" in sliced.info.description and sliced.model.use_slicing
    assert np.abs(sliced.reconstruct(x) - fp32).max() < 1e-5  # one image at a time: same numbers
    tiled = create_adapter(case.spec + ",tiling=true")  # the tiny config's tiles are 32 px: 38x50 is tiled
    assert "tiled" in tiled.info.description and tiled.model.use_tiling
    recon = tiled.reconstruct(x)
    assert recon.shape == x.shape and np.abs(recon - fp32).max() > 1e-3  # a different configuration


def test_tae_8bit_latents_are_uint8_codes_counted_at_8_bits(built, tmp_path_factory):
    case = get_case("tae-taef2", built, tmp_path_factory)
    full, coded = create_adapter(case.spec), create_adapter(case.spec + ",latent_bits=8")
    x = batch()
    latent = coded.encode(x)
    assert latent.tensor.dtype == torch.uint8 and tuple(latent.tensor.shape) == (2, 32, 5, 7)
    comp = coded.compression(latent, x.shape)[0]
    assert comp.bits_per_pixel == pytest.approx(32 * 5 * 7 * 8 / (H * W)) and "8 bits" in comp.bpp_basis
    z = full.encode(x).tensor
    expected = torch.round((z / 6 + 0.5).clamp(0, 1) * 255)
    assert torch.equal(latent.tensor.float(), expected)
    assert coded.decode(latent).shape == x.shape
    with pytest.raises(AdapterArgumentError, match="latent_bits must be 16"):
        create_adapter(case.spec + ",latent_bits=4")


def test_fp16_on_a_force_upcast_vae_computes_in_fp32_as_diffusers_pipelines_do(built, tmp_path_factory):
    case = get_case("diffusers-kl", built, tmp_path_factory)  # AutoencoderKL configs default to force_upcast
    adapter = create_adapter(case.spec + ",dtype=fp16")
    assert adapter.model.dtype == torch.float32 and "fp16 requested but config force_upcast" in adapter.info.description
    tiny = create_adapter(get_case("diffusers-tiny", built, tmp_path_factory).spec + ",dtype=fp16")
    assert tiny.model.dtype == torch.float16  # AutoencoderTiny does not ask for it


def test_taming_checkpoint_loads_without_running_its_pickled_objects(built, tmp_path_factory):
    case = get_case("taming-vqgan", built, tmp_path_factory)
    create_adapter(case.spec)
    assert not (Path(case.spec.split("checkpoint=")[1]).parent / "PWNED").exists()


# ------------------------------------------------------------------------------------------------ errors

def test_wrong_value_range_is_refused(built, tmp_path_factory):
    adapter = create_adapter(get_case("tae-taesd", built, tmp_path_factory).spec)
    x = batch()
    x[0, 0, 0], x[0, 0, 1] = 0.0, 1.0
    with pytest.raises(AdapterError, match=r"spans \[0, 255\].*protocol batches in \[0, 1\]"):
        adapter.encode(x * 255)
    with pytest.raises(AdapterError, match=r"spans \[-1, 1\].*model's range \[0, 1\]"):
        adapter.encode(x * 2 - 1)
    assert adapter.encode(x).tensor.shape[1] == 4  # the same batch in [0, 1] is accepted


def test_latent_of_the_wrong_shape_is_refused(built, tmp_path_factory):
    case = get_case("diffusers-kl", built, tmp_path_factory)
    adapter = create_adapter(case.spec)
    with pytest.raises(AdapterError, match=r"cannot decode a latent of shape \(2, 3, 19, 25\); expected \(N, 4, h, w\)"):
        adapter.decode(torch.zeros(2, 3, 19, 25))
    with pytest.raises(AdapterError, match="cannot decode a latent of shape"):
        adapter.decode(Latent(torch.zeros(2, 4, 5, 5), (37, 50)))  # grid too small for the image
    adapter.info = replace(adapter.info, spatial_compression=4)  # conventions that disagree with the model
    with pytest.raises(AdapterError, match="declared conventions"):
        adapter.encode(batch())
    vq = create_adapter(get_case("diffusers-vq", built, tmp_path_factory).spec)
    with pytest.raises(AdapterError, match=r"codes must be integers in \[0, 32\)"):
        vq.decode(torch.full((1, 4, 4), 40))
    with pytest.raises(AdapterError, match=r"codes must be integers"):
        vq.decode(Latent(torch.zeros(1, 4, 4), (8, 8)))  # float "codes"


def test_missing_checkpoints_and_folders(tmp_path):
    with pytest.raises(MissingWeightsError, match="does not exist"):
        create_adapter(f"tae:encoder={tmp_path}/taef2_encoder.pth,decoder={tmp_path}/taef2_decoder.pth")
    with pytest.raises(MissingWeightsError, match="taef2_encoder.pth and taef2_decoder.pth"):
        create_adapter(f"tae:variant=taef2,weights={tmp_path}/nowhere")
    with pytest.raises(MissingWeightsError, match="does not exist"):
        create_adapter(f"diffusers-kl:pretrained={tmp_path}/no-such-vae")
    with pytest.raises(MissingWeightsError, match="no config.json"):
        create_adapter(f"diffusers-kl:pretrained={tmp_path}")
    (tmp_path / "model.yaml").write_text(TAMING_CONFIG)
    with pytest.raises(MissingWeightsError, match="last.ckpt does not exist"):
        create_adapter(f"taming-vqgan:config={tmp_path / 'model.yaml'},checkpoint={tmp_path / 'last.ckpt'}")


def test_hub_id_without_network_fails_fast_and_says_where_to_put_files(monkeypatch, tmp_path):
    import time

    monkeypatch.setenv("TFBENCH_OFFLINE", "1")
    monkeypatch.setenv("TFBENCH_CACHE", str(tmp_path))
    start = time.monotonic()
    with pytest.raises(MissingWeightsError) as err:
        create_adapter("flux1-vae")
    assert time.monotonic() - start < 10
    msg = str(err.value)
    assert "black-forest-labs/FLUX.1-schnell/vae" in msg and str(tmp_path / "weights" / "hub") in msg
    assert "pretrained=/path/to/folder" in msg
    with pytest.raises(MissingWeightsError, match=r"taef2_encoder.pth are not cached.*weights=FOLDER"):
        create_adapter("taef2")


def test_unknown_hub_repo_is_a_missing_weights_error_online_or_offline(monkeypatch, tmp_path):
    monkeypatch.setenv("TFBENCH_CACHE", str(tmp_path))
    with pytest.raises(MissingWeightsError, match="tfbench-tests/no-such-vae"):
        create_adapter("diffusers-kl:pretrained=tfbench-tests/no-such-vae")


def test_wrong_family_or_variant_is_named(built, tmp_path_factory, tmp_path):
    tiny = get_case("diffusers-tiny", built, tmp_path_factory)
    with pytest.raises(AdapterArgumentError, match="holds a diffusers AutoencoderTiny; use the 'diffusers-tiny' family"):
        create_adapter(tiny.spec.replace("diffusers-tiny:", "diffusers-kl:"))
    taef2 = get_case("tae-taef2", built, tmp_path_factory)
    folder = taef2.spec.split("weights=")[1]
    with pytest.raises(TfbenchError, match="taef2_encoder.pth does not hold taef1 weights"):
        create_adapter(f"tae:variant=taef1,encoder={folder}/taef2_encoder.pth,decoder={folder}/taef2_decoder.pth")
    with pytest.raises(AdapterArgumentError, match="unknown variant 'taef3'"):
        create_adapter("tae:variant=taef3")
    (tmp_path / "model.yaml").write_text(TAMING_CONFIG.replace("vqgan.VQModel", "vqgan.GumbelVQ"))
    with pytest.raises(AdapterArgumentError, match="GumbelVQ' is not supported"):
        create_adapter(f"taming-vqgan:config={tmp_path / 'model.yaml'},checkpoint={tmp_path / 'x.ckpt'}")


def test_no_cuda_here_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    with pytest.raises(AdapterArgumentError, match="sees no CUDA GPU; use device=cpu"):
        create_adapter("tae:variant=taesd,device=cuda")
