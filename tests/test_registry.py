import numpy as np
import pytest

from tfbench.errors import AdapterArgumentError, TfbenchError, UnknownNameError
from tfbench.protocol import Adapter
from tfbench.registry import BUILTIN_ADAPTERS, create_adapter, describe_registered, parse_spec


def test_parse_spec_types():
    assert parse_spec("jpeg:quality=30") == ("jpeg", {"quality": 30})
    assert parse_spec("x:a=1.5,b=true,c=none,d=bf16") == ("x", {"a": 1.5, "b": True, "c": None, "d": "bf16"})
    assert parse_spec("x:mode=nan,v=inf") == ("x", {"mode": "nan", "v": "inf"})
    assert parse_spec("python:my.mod:Cls:k=2") == ("python:my.mod:Cls", {"k": 2})


@pytest.mark.parametrize("spec", ["jpeg:quality", "jpeg:=3", "jpeg:quality=1,quality=2", "", "python:mod"])
def test_malformed_specs_are_refused(spec):
    with pytest.raises(AdapterArgumentError):
        parse_spec(spec)


def test_unknown_adapter_suggests_close_names():
    with pytest.raises(UnknownNameError, match="did you mean 'jpeg'"):
        create_adapter("jepg:quality=3")


def test_unknown_argument_suggests_close_names():
    with pytest.raises(AdapterArgumentError, match="no argument 'qualiti'.*did you mean 'quality'"):
        create_adapter("jpeg:qualiti=30")


def test_bad_argument_value():
    with pytest.raises(AdapterArgumentError, match="quality must be an integer in 0..100"):
        create_adapter("jpeg:quality=300")


def test_python_spec_loads_any_adapter():
    a = create_adapter("python:tests.plugin_adapters:Posterize:bits=2")
    assert isinstance(a, Adapter) and a.bits == 2 and a.spec == "python:tests.plugin_adapters:Posterize:bits=2"


def test_python_spec_that_is_not_an_adapter():
    with pytest.raises(TfbenchError, match="not a tfbench.protocol.Adapter"):
        create_adapter("python:tests.plugin_adapters:not_an_adapter")


# Families that load weights run end to end on tiny random models in tests/test_neural_adapters.py.
NEEDS_WEIGHTS = {"diffusers-kl", "diffusers-tiny", "diffusers-dc", "diffusers-vq", "tae", "taming-vqgan",
                 "diffusers-video"}  # diffusers-video: tests/test_video_diffusers.py


@pytest.mark.parametrize("name", sorted(set(BUILTIN_ADAPTERS) - NEEDS_WEIGHTS))
def test_every_builtin_adapter_round_trips(name):
    """Like timm: every registered family builds with defaults and keeps shape and range."""
    adapter = create_adapter(name)
    shape = (2, 5, 64, 48, 3) if adapter.info.modality == "video" else (2, 64, 48, 3)  # video: (N, T, H, W, 3)
    batch = np.random.default_rng(0).random(shape, dtype=np.float32)
    latent = adapter.encode(batch)
    recon = adapter.decode(latent)
    assert recon.shape == batch.shape and recon.dtype == np.float32
    assert 0.0 <= recon.min() and recon.max() <= 1.0
    comp = adapter.compression(latent, batch.shape)
    assert len(comp) == 2 and comp[0].bits_per_pixel > 0
    info = adapter.info
    assert info.family == name and info.kind in ("continuous", "discrete", "codec", "reference")


def test_describe_lists_builtins_with_metadata():
    rows = {r["name"]: r for r in describe_registered()}
    assert rows["jpeg"]["kind"] == "codec" and rows["identity"]["kind"] == "reference"


def test_the_registry_says_where_each_family_comes_from(monkeypatch):
    from tfbench import registry

    monkeypatch.setattr(registry, "ADAPTERS", registry.AdapterRegistry(registry.BUILTIN_FAMILIES))
    assert registry.ADAPTERS.get("jpeg").origin == "builtin" and registry.ADAPTERS.is_builtin("jpeg")
    registry.register_adapter("posterize", "tests.plugin_adapters:Posterize")
    assert registry.ADAPTERS.get("posterize").origin == "registered"
    assert "posterize" in registry.ADAPTERS.names("registered") and "posterize" not in registry.BUILTIN_FAMILIES
    assert create_adapter("posterize").info.family
    with pytest.raises(TypeError):  # the built-in table is read-only: plugins register, they do not edit it
        registry.BUILTIN_ADAPTERS["x"] = "m:X"  # deprecated alias of BUILTIN_FAMILIES
