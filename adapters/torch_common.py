"""Torch helpers shared by the neural adapters (image and video).

- :func:`parse_device`, :func:`parse_dtype`: spec strings (``cuda``, ``bf16``) -> torch objects, with clear errors;
- :func:`to_model`, :func:`to_protocol`: protocol numpy batches in [0, 1] <-> model tensors in the model's own
  range, channels first, on the model's device and dtype; one host copy each way, range maps run on device;
- :func:`pad_to_multiple`, :func:`crop_to`: pad H, W up to the compression factor and crop back;
- :func:`load_state_dict`: safetensors or ``torch.load(weights_only=True)``; Lightning-style checkpoints that
  hold non-tensor objects go through a restricted unpickler that never imports or calls anything else;
- :func:`resolve_hub_folder`, :func:`resolve_url_file`: a local path, else a download into the tfbench cache
  (``$TFBENCH_CACHE``); offline failures raise :class:`MissingWeightsError` naming what to put where.
"""
from __future__ import annotations

import io
import pickle
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping

import numpy as np

from tfbench.cache import cache_dir
from tfbench.downloads import Pin, cached_download, offline
from tfbench.errors import AdapterArgumentError, AdapterError, MissingWeightsError, TfbenchError
from tfbench.protocol import FAR_OUTSIDE, far_outside, out_of_range

if TYPE_CHECKING:  # torch is an optional dependency (extra `neural`)
    import torch

DTYPES = {"fp32": "float32", "float32": "float32", "fp16": "float16", "float16": "float16", "half": "float16",
          "bf16": "bfloat16", "bfloat16": "bfloat16"}


def require_torch() -> Any:
    """Import torch or say how to install it."""
    try:
        import torch
    except ModuleNotFoundError as exc:  # pragma: no cover - torch is installed with the `neural` extra
        raise TfbenchError("neural adapters need PyTorch: pip install 'tfbench[neural]'") from exc
    return torch


def parse_device(device: str | None) -> "torch.device":
    """``cpu``, ``cuda``, ``cuda:1``, ``mps`` or ``auto`` (cuda if available) -> torch.device, checked."""
    torch = require_torch()
    name = (device or "cpu").strip().lower()
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        dev = torch.device(name)
    except RuntimeError:
        raise AdapterArgumentError(f"device {device!r} is not a torch device; use cpu, cuda, cuda:N, mps or auto") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise AdapterArgumentError(f"device {device!r}: this torch build sees no CUDA GPU; use device=cpu")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise AdapterArgumentError(f"device {device!r}: only {torch.cuda.device_count()} CUDA device(s) visible")
    elif dev.type == "mps" and not torch.backends.mps.is_available():
        raise AdapterArgumentError(f"device {device!r}: MPS is not available here; use device=cpu")
    elif dev.type not in ("cpu", "cuda", "mps"):
        raise AdapterArgumentError(f"device {device!r}: unsupported; use cpu, cuda, cuda:N, mps or auto")
    return dev


def parse_dtype(dtype: str | None) -> "torch.dtype":
    """``fp32``/``fp16``/``bf16`` (or the long names) -> torch.dtype."""
    torch = require_torch()
    key = (dtype or "fp32").strip().lower()
    if key not in DTYPES:
        raise AdapterArgumentError(f"dtype {dtype!r} is not supported; use fp32, fp16 or bf16")
    return getattr(torch, DTYPES[key])


def dtype_name(dtype: "torch.dtype") -> str:
    return {"float32": "fp32", "float16": "fp16", "bfloat16": "bf16"}[str(dtype).removeprefix("torch.")]


def to_model(batch: np.ndarray, device: "torch.device", dtype: "torch.dtype",
             value_range: tuple[float, float] = (0.0, 1.0)) -> "torch.Tensor":
    """Protocol batch -> model tensor: (N,H,W,3) -> (N,3,H,W), (N,T,H,W,3) -> (N,3,T,H,W), in ``value_range``.

    One host->device copy (pinned and asynchronous on CUDA); the range map runs on the device.
    """
    torch = require_torch()
    if not isinstance(batch, np.ndarray) or batch.ndim not in (4, 5) or batch.shape[-1] != 3:
        raise AdapterError(f"expected a numpy batch (N,H,W,3) or (N,T,H,W,3), got {getattr(batch, 'shape', type(batch))}")
    host = torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32))
    if device.type == "cuda":
        host = host.pin_memory()
    x = host.to(device, non_blocking=True)
    x = x.permute(0, 3, 1, 2) if x.ndim == 4 else x.permute(0, 4, 1, 2, 3)
    lo, hi = value_range
    if (lo, hi) != (0.0, 1.0):
        x = x * (hi - lo) + lo
    return x.to(dtype).contiguous()


def to_protocol(x: "torch.Tensor", value_range: tuple[float, float] = (0.0, 1.0), name: str = "adapter") -> np.ndarray:
    """Model output -> protocol batch: channels last, float32 in [0, 1], one device->host copy.

    The raw output is checked against the declared ``value_range`` *before* it is clamped (on the device):
    a model that returns another range (a [0, 255] or [-1, 1] mix-up) stops here with an AdapterError
    naming ``name``, instead of being clamped into a plausible-looking image.
    """
    lo, hi = value_range
    x = x.float()
    if (lo, hi) != (0.0, 1.0):
        x = (x - lo) / (hi - lo)
    check_model_range(x, value_range, name)
    x = x.clamp_(0.0, 1.0)
    x = x.permute(0, 2, 3, 1) if x.ndim == 4 else x.permute(0, 2, 3, 4, 1)
    return x.contiguous().cpu().numpy()


def check_model_range(u: "torch.Tensor", value_range: tuple[float, float], name: str) -> None:
    """``u``: a model output already mapped from ``value_range`` to [0, 1], not clamped. Raise AdapterError
    when it is far outside (the protocol's rule: the share of values beyond FAR_OUTSIDE), naming the range
    the model probably returns."""
    torch = require_torch()
    if u.numel() == 0:
        return
    mn, mx = torch.aminmax(u)
    far = ((u < -FAR_OUTSIDE) | (u > 1.0 + FAR_OUTSIDE)).sum()
    stats = torch.stack([mn, mx, far.to(mn.dtype)]).cpu().tolist()  # one device -> host sync
    if not out_of_range(stats[0], stats[1], stats[2] / u.numel()):
        return
    vlo, vhi = value_range
    raw_lo, raw_hi = vlo + stats[0] * (vhi - vlo), vlo + stats[1] * (vhi - vlo)
    actual = "[0, 255]" if raw_hi > 2.0 else "[-1, 1]" if raw_lo < -FAR_OUTSIDE and vlo >= 0 else "another range"
    raise AdapterError(
        f"{name}: the model's raw output spans [{raw_lo:.3g}, {raw_hi:.3g}] ({far_outside(int(stats[2]), u.numel())} "
        f"after mapping to [0, 1]) but the "
        f"adapter declares value_range [{vlo:g}, {vhi:g}]; the adapter probably returns {actual}. Convert with the "
        f"adapter's declared value_range (or declare the range the model really uses).")


def pad_to_multiple(x: "torch.Tensor", multiple: int, mode: str = "replicate") -> tuple["torch.Tensor", tuple[int, int]]:
    """Pad the last two dims (H, W) at the bottom/right up to a multiple; returns (padded, original (H, W))."""
    torch = require_torch()
    h, w = int(x.shape[-2]), int(x.shape[-1])
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph == 0 and pw == 0:
        return x, (h, w)
    if x.ndim == 5:  # (N, C, T, H, W): fold time into the batch, F.pad's replicate wants 4-D here
        n, c, t = x.shape[:3]
        y = torch.nn.functional.pad(x.transpose(1, 2).reshape(n * t, c, h, w), (0, pw, 0, ph), mode=mode)
        return y.reshape(n, t, c, h + ph, w + pw).transpose(1, 2), (h, w)
    return torch.nn.functional.pad(x, (0, pw, 0, ph), mode=mode), (h, w)


def crop_to(x: "torch.Tensor", size: tuple[int, int]) -> "torch.Tensor":
    """Undo :func:`pad_to_multiple`."""
    return x[..., : size[0], : size[1]]


# --------------------------------------------------------------------------------------------- checkpoints

_SAFE_GLOBALS = {
    ("collections", "OrderedDict"), ("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_parameter"),
    ("torch._utils", "_rebuild_parameter_with_state"), ("torch", "Size"), ("torch", "device"),
    ("torch._tensor", "_rebuild_from_type_v2"), ("torch", "Tensor"), ("torch.nn.parameter", "Parameter"),
    ("builtins", "set"), ("builtins", "frozenset"), ("builtins", "complex"), ("builtins", "slice"),
} | {("torch", n) for n in ("FloatStorage", "HalfStorage", "BFloat16Storage", "DoubleStorage", "LongStorage",
                             "IntStorage", "ShortStorage", "CharStorage", "ByteStorage", "BoolStorage",
                             "float32", "float16", "bfloat16", "float64", "int64", "int32", "uint8", "bool")}


class Inert:
    """Stands in for any class a checkpoint names that is not a tensor/container: holds data, runs nothing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def __repr__(self) -> str:
        return f"<inert {type(self).__qualname__}>"


def _inert(module: str, name: str) -> type:
    return type(name, (Inert,), {"__module__": f"tfbench-inert.{module}"})


class _RestrictedUnpickler(pickle.Unpickler):
    """Builds tensors and plain containers; every other global becomes an inert placeholder."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _SAFE_GLOBALS or (module == "torch" and name.endswith("Storage")):
            return super().find_class(module, name)
        return _inert(module, name)


class _RestrictedPickle:
    """A pickle module for ``torch.load(pickle_module=...)`` that cannot execute code from the file."""

    Unpickler = _RestrictedUnpickler
    load = staticmethod(lambda f, **kw: _RestrictedUnpickler(f, **kw).load())
    loads = staticmethod(lambda b, **kw: _RestrictedUnpickler(io.BytesIO(b), **kw).load())
    __name__ = "tfbench_restricted_pickle"


def _torch_load(path: Path, weights_only: bool) -> Any:
    torch = require_torch()
    if weights_only:
        return torch.load(path, map_location="cpu", weights_only=True, mmap=zipfile.is_zipfile(path))
    return torch.load(path, map_location="cpu", weights_only=False, pickle_module=_RestrictedPickle)


def load_state_dict(path: str | Path, key: str | None = None) -> dict[str, "torch.Tensor"]:
    """Tensors of a checkpoint, never running code from it.

    ``.safetensors`` -> safetensors; anything else -> ``torch.load(weights_only=True)``; a checkpoint that
    weights_only refuses (Lightning checkpoints pickle callback classes, optimizer state...) is read with a
    restricted unpickler that replaces every non-tensor class by an inert placeholder. ``key`` selects a
    nested dict (``state_dict`` in Lightning checkpoints); by default it is used when present.
    """
    torch = require_torch()
    path = Path(path).expanduser()
    if not path.is_file():
        raise MissingWeightsError(f"checkpoint {path} does not exist; pass the path of the weights file")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            return load_file(str(path), device="cpu")
        except Exception as exc:
            raise TfbenchError(f"{path}: not a readable safetensors file ({exc})") from exc
    try:
        obj = _torch_load(path, weights_only=True)
    except pickle.UnpicklingError:
        try:
            obj = _torch_load(path, weights_only=False)
        except Exception as exc:
            raise TfbenchError(f"{path}: not a readable PyTorch checkpoint ({type(exc).__name__}: {exc})") from exc
    except Exception as exc:
        raise TfbenchError(f"{path}: not a readable PyTorch checkpoint ({type(exc).__name__}: {exc})") from exc
    if isinstance(obj, dict) and (key or "state_dict") in obj and isinstance(obj[key or "state_dict"], dict):
        obj = obj[key or "state_dict"]
    elif key:
        raise TfbenchError(f"{path}: no {key!r} entry in the checkpoint (keys: {', '.join(map(str, obj))[:200]})")
    if not isinstance(obj, dict) or not obj or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise TfbenchError(f"{path}: expected a dict of tensors (a state_dict), got {type(obj).__name__}")
    return dict(obj)


def save_state_dict(state: dict[str, "torch.Tensor"], path: str | Path) -> Path:
    """Write a state_dict as safetensors (.safetensors) or a plain torch file (anything else)."""
    torch = require_torch()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".safetensors":
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    else:
        torch.save(state, path)
    return path


# --------------------------------------------------------------------------------------------- hub / cache

def weights_cache(kind: str) -> Path:
    """Where downloads of one kind go: ``$TFBENCH_CACHE/<kind>`` (default under the user cache dir)."""
    return cache_dir() / "weights" / kind


def resolve_hub_folder(location: str, *, revision: str | None = None, subfolder: str | None = None,
                       patterns: Iterable[str] = ("*.json", "*.safetensors")) -> Path:
    """A local folder, or a hub repo id downloaded once into ``$TFBENCH_CACHE/weights/hub``.

    Returns the folder that holds the model files (``subfolder`` applied). Only safetensors weights are
    fetched, so nothing from the hub is ever unpickled.
    """
    path = Path(location).expanduser()
    if path.exists() or location.startswith(("/", ".", "~")):
        folder = path / subfolder if subfolder else path
        if not folder.is_dir():
            raise MissingWeightsError(f"model folder {folder} does not exist; pass an existing folder or a hub id")
        return folder
    if location.count("/") != 1:
        raise AdapterArgumentError(f"pretrained={location!r} is neither an existing folder nor a hub id (owner/name)")
    try:
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError
    except ModuleNotFoundError as exc:  # pragma: no cover - installed with the `neural` extra
        raise TfbenchError("downloading from the hub needs huggingface_hub: pip install 'tfbench[neural]'") from exc
    cache = weights_cache("hub")
    allow = [f"{subfolder}/{p}" if subfolder else p for p in patterns]
    try:
        root = snapshot_download(location, revision=revision, cache_dir=cache, allow_patterns=allow, local_files_only=True)
    except (LocalEntryNotFoundError, OSError, ValueError):
        root = None
    if root is None:
        if offline():
            raise _missing_hub(location, revision, subfolder, cache, "offline mode (TFBENCH_OFFLINE/HF_HUB_OFFLINE) is set")
        try:
            root = snapshot_download(location, revision=revision, cache_dir=cache, allow_patterns=allow)
        except (LocalEntryNotFoundError, HfHubHTTPError, OSError, ValueError) as exc:
            raise _missing_hub(location, revision, subfolder, cache, f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}") from None
    folder = Path(root) / subfolder if subfolder else Path(root)
    if not folder.is_dir() or not any(folder.iterdir()):
        raise _missing_hub(location, revision, subfolder, cache, "the repository has no matching safetensors/json files")
    return folder


def _missing_hub(repo: str, revision: str | None, subfolder: str | None, cache: Path, why: str) -> MissingWeightsError:
    where = f"{repo}{'@' + revision if revision else ''}{'/' + subfolder if subfolder else ''}"
    return MissingWeightsError(
        f"cannot get model {where} from the Hugging Face hub ({why}). Either run once with network access "
        f"(files are cached in {cache}), or download the folder elsewhere (huggingface-cli download {repo}"
        f"{' --include ' + repr(subfolder + '/*') if subfolder else ''}) and pass its local path as pretrained=/path/to/folder"
        f"{' (containing ' + subfolder + '/)' if subfolder else ''}")


def resolve_url_file(location: str, kind: str, pins: Mapping[str, Pin] | None = None) -> Path:
    """A local file, or an https URL downloaded once into ``$TFBENCH_CACHE/weights/<kind>/<file name>``.

    A URL listed in ``pins`` is checked against its checksum (when downloaded and each time the cached copy is
    used); any other URL is downloaded with the same retries and timeouts, and its sha256 is printed.
    """
    if not location.startswith(("https://", "http://")):
        path = Path(location).expanduser()
        if not path.is_file():
            raise MissingWeightsError(f"weights file {path} does not exist; pass the path of the file or its URL")
        return path
    target = weights_cache(kind) / location.rstrip("/").rsplit("/", 1)[-1].split("?")[0]
    pin = (pins or {}).get(location)
    if target.is_file() and pin is None:
        return target
    hint = f"download {location} with any browser or tool and either put it at {target} or pass its local path"
    if offline() and not target.is_file():
        raise MissingWeightsError(f"weights {target.name} are not cached and offline mode is set; {hint}")
    return cached_download(pin or Pin(location), target, what=f"weights {target.name}", manual=hint)
