"""diffusers video VAEs on tiny random-init models saved to disk and loaded through the real loader."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
diffusers = pytest.importorskip("diffusers")

from tfbench.errors import AdapterArgumentError, MissingWeightsError  # noqa: E402
from tfbench.protocol import check_reconstruction  # noqa: E402
from tfbench.registry import create_adapter  # noqa: E402
from tests.tiny_decoders import quiet_output  # noqa: E402

TINY = {
    "AutoencoderKLCogVideoX": dict(block_out_channels=(8, 8, 8, 8), latent_channels=4, layers_per_block=1,
                                   norm_num_groups=4, temporal_compression_ratio=4),
    "AutoencoderKLHunyuanVideo": dict(block_out_channels=(8, 8, 8, 8), latent_channels=4, layers_per_block=1,
                                      norm_num_groups=4, mid_block_add_attention=False),
    "AutoencoderKLWan": dict(base_dim=8, z_dim=4, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                             latents_mean=[0.1, -0.2, 0.3, 0.0], latents_std=[1.5, 2.0, 0.5, 1.0]),
    "AutoencoderKLLTXVideo": dict(latent_channels=8, block_out_channels=(8, 8, 8, 8), decoder_block_out_channels=(8, 8, 8, 8),
                                  layers_per_block=(1, 1, 1, 1, 1), decoder_layers_per_block=(1, 1, 1, 1, 1),
                                  timestep_conditioning=True),
    "AutoencoderKLCosmos": dict(latent_channels=4, encoder_block_out_channels=(8, 8, 8, 8),
                                decode_block_out_channels=(8, 8, 8, 8), num_layers=1, attention_resolutions=(),
                                resolution=64, latents_mean=[0.0] * 16, latents_std=[1.0] * 16),
}
# (frame rule, spatial factor, latent channels) each tiny model must report
EXPECTED = {"AutoencoderKLCogVideoX": ("4n+1", 8, 4), "AutoencoderKLHunyuanVideo": ("4n+1", 8, 4),
            "AutoencoderKLWan": ("4n+1", 8, 4), "AutoencoderKLLTXVideo": ("8n+1", 32, 8),
            "AutoencoderKLCosmos": ("8n+1", 8, 4)}


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny-video-vaes")
    out = {}
    for cls, cfg in TINY.items():
        torch.manual_seed(0)
        quiet_output(getattr(diffusers, cls)(**cfg), 0.1).save_pretrained(root / cls / "vae")  # pipeline layout: model in vae/
        out[cls] = root / cls
    return out


@pytest.mark.parametrize("cls", list(TINY))
def test_frame_rule_padding_and_trim(cls, saved):
    a = create_adapter(f"diffusers-video:pretrained={saved[cls]}")  # class read from vae/config.json
    rule, spatial, channels = EXPECTED[cls]
    assert (a.info.frame_rule, a.info.spatial_compression, a.info.latent_channels) == (rule, spatial, channels)
    k = int(rule.split("n")[0])
    x = np.random.default_rng(1).random((1, 6, 36, 44, 3), dtype=np.float32)  # 6 frames, sizes off the grid
    latent = a.encode(x)
    assert latent["padded_frames"] == 9  # 6 frames -> 4n+1 and 8n+1 both give 9
    z = latent["z"]
    assert z.shape[2] == 1 + 8 // k and z.shape[1] == channels  # (padded 9 frames - 1) / k + 1 latent frames
    rec = check_reconstruction(a.spec, x, a.decode(latent))
    assert rec.shape == x.shape
    comp = a.compression(latent, x.shape)[0]
    padded_px = 9 * (-(-36 // spatial) * spatial) * (-(-44 // spatial) * spatial)
    assert comp.bits_per_pixel == pytest.approx(np.prod(z.shape[1:]) * 16 / padded_px)


def test_latents_are_normalised_with_mean_and_std(saved):
    a = create_adapter(f"diffusers-video:pretrained={saved['AutoencoderKLWan']}")
    x = np.random.default_rng(2).random((1, 5, 32, 32, 3), dtype=np.float32)
    latent = a.encode(x)
    raw = a._denormalize(latent["z"])
    mean = torch.tensor([0.1, -0.2, 0.3, 0.0]).view(1, 4, 1, 1, 1)
    std = torch.tensor([1.5, 2.0, 0.5, 1.0]).view(1, 4, 1, 1, 1)
    assert torch.allclose(latent["z"], (raw - mean) / std, atol=1e-5)


def test_ltx_decodes_at_its_timestep_deterministically(saved):
    a = create_adapter(f"diffusers-video:pretrained={saved['AutoencoderKLLTXVideo']},decode_timestep=0.05")
    assert a.decode_timestep == 0.05 and a.decode_noise_scale == 0.05
    x = np.random.default_rng(3).random((1, 9, 32, 32, 3), dtype=np.float32)
    r1, r2 = a.decode(a.encode(x)), a.decode(a.encode(x))
    assert np.array_equal(r1, r2)
    b = create_adapter(f"diffusers-video:pretrained={saved['AutoencoderKLLTXVideo']},decode_timestep=0.5")
    assert not np.allclose(b.decode(b.encode(x)), r1)  # the timestep really reaches the decoder


def test_bad_model_arguments(saved, tmp_path):
    with pytest.raises(AdapterArgumentError, match="not a supported video VAE"):
        create_adapter(f"diffusers-video:pretrained={saved['AutoencoderKLWan']},cls=AutoencoderKL")
    with pytest.raises(AdapterArgumentError, match="no timestep-conditioned decoder"):
        create_adapter(f"diffusers-video:pretrained={saved['AutoencoderKLWan']},decode_timestep=0.05")
    with pytest.raises(MissingWeightsError, match="does not exist"):
        create_adapter(f"diffusers-video:pretrained={tmp_path / 'missing'}")
