"""Adapter registry: spec strings -> adapter objects, with lazy built-ins, presets and plugins.

A spec is ``family[:key=value[,key=value...]]`` (``jpeg:quality=30``), a preset name from the model
zoo (``taef2``, optionally with overrides: ``flux1-vae:dtype=bf16``), or
``python:package.module:ClassOrFactory[:key=value,...]`` for code that is not registered.
Families live in :data:`ADAPTERS`, an :class:`AdapterRegistry` whose entries say where they came from:
``builtin`` (``"module:Class"`` strings of the ``adapters/`` folder, imported only when used), ``plugin``
(the ``tfbench.adapters`` entry-point group of installed packages, naming the distribution) or
``registered`` (:func:`register_adapter` at run time).
"""
from __future__ import annotations

import difflib
import math
import importlib
import inspect
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from types import MappingProxyType
from typing import Any, Callable, Mapping

from tfbench.errors import AdapterArgumentError, TfbenchError, UnknownNameError
from tfbench.protocol import Adapter, AdapterInfo

ENTRY_POINT_GROUP = "tfbench.adapters"

# name -> "module:attr". Modules live in the top-level adapters/ folder, installed as tfbench.adapters.
BUILTIN_FAMILIES: Mapping[str, str] = MappingProxyType({
    "identity": "tfbench.adapters.reference:IdentityAdapter",
    "jpeg": "tfbench.adapters.image_codecs:JpegAdapter",
    "webp": "tfbench.adapters.image_codecs:WebpAdapter",
    "avif": "tfbench.adapters.image_codecs:AvifAdapter",
    "h264": "tfbench.adapters.video_codecs:H264Adapter",
    "h265": "tfbench.adapters.video_codecs:H265Adapter",
    "av1": "tfbench.adapters.video_codecs:Av1Adapter",
    "vp9": "tfbench.adapters.video_codecs:Vp9Adapter",
    "diffusers-video": "tfbench.adapters.diffusers_video:DiffusersVideoAdapter",
    "diffusers-kl": "tfbench.adapters.diffusers_image:DiffusersKLAdapter",
    "diffusers-tiny": "tfbench.adapters.diffusers_image:DiffusersTinyAdapter",
    "diffusers-dc": "tfbench.adapters.diffusers_image:DiffusersDCAdapter",
    "diffusers-vq": "tfbench.adapters.diffusers_image:DiffusersVQAdapter",
    "tae": "tfbench.adapters.taesd:TaesdAdapter",
    "taming-vqgan": "tfbench.adapters.taming_vqgan:TamingVQGANAdapter",
})
BUILTIN_ADAPTERS = BUILTIN_FAMILIES  # deprecated alias (built-in families only): use ADAPTERS

ORIGINS = ("builtin", "registered", "plugin")


@dataclass(frozen=True)
class AdapterEntry:
    """One adapter family: its name, what builds it, and where it came from."""

    name: str
    target: str | Callable[..., Adapter] | EntryPoint  # "module:attr", a class/factory, or an entry point
    origin: str  # ORIGINS
    distribution: str | None = None  # the installed package a plugin comes from

    def load(self) -> Callable[..., Adapter]:
        if isinstance(self.target, EntryPoint):
            try:
                return self.target.load()
            except Exception as exc:  # a broken plugin must not take the whole CLI down unexplained
                raise TfbenchError(f"adapter plugin {self.name!r} ({self.target.value}) failed to load: {exc}") from exc
        if isinstance(self.target, str):
            return _import_target(self.target, f"adapter {self.name!r}")
        return self.target


class AdapterRegistry:
    """Adapter families by name: built-ins, run-time registrations and entry-point plugins, in that precedence."""

    def __init__(self, builtins: Mapping[str, str]) -> None:
        self._builtin = dict(builtins)
        self._registered: dict[str, Callable[..., Adapter] | str] = {}

    def register(self, name: str, target: str | Callable[..., Adapter]) -> None:
        """Add (or replace) a family at run time (``origin="registered"``)."""
        self._registered[name] = target

    def plugins(self) -> dict[str, AdapterEntry]:
        """The installed packages' ``tfbench.adapters`` entry points (read fresh: installs change them)."""
        out = {}
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            dist = getattr(ep, "dist", None)
            out[ep.name] = AdapterEntry(ep.name, ep, "plugin", getattr(dist, "name", None))
        return out

    def get(self, name: str) -> AdapterEntry | None:
        if name in self._registered:
            return AdapterEntry(name, self._registered[name], "registered")
        if name in self._builtin:
            return AdapterEntry(name, self._builtin[name], "builtin")
        return self.plugins().get(name)

    def is_builtin(self, name: str) -> bool:
        return name in self._builtin and name not in self._registered

    def names(self, origin: str | None = None) -> list[str]:
        found = {e.name for e in self.entries() if origin is None or e.origin == origin}
        return sorted(found)

    def entries(self) -> list[AdapterEntry]:
        """Every family once, as :meth:`get` would resolve it, sorted by name."""
        names = set(self._builtin) | set(self._registered) | set(self.plugins())
        return [e for e in (self.get(n) for n in sorted(names)) if e is not None]


ADAPTERS = AdapterRegistry(BUILTIN_FAMILIES)


@dataclass(frozen=True)
class Preset:
    """A named configuration of a family (model zoo entry)."""

    name: str
    spec: str  # family spec the preset expands to
    description: str = ""
    license: str | None = None
    source: str | None = None  # hub id or URL the weights come from
    extra: dict[str, Any] = field(default_factory=dict)


PRESETS: dict[str, Preset] = {}


def register_adapter(name: str, target: str | Callable[..., Adapter]) -> None:
    """Register a family under ``name`` (a "module:attr" string or a class/factory)."""
    ADAPTERS.register(name, target)


def register_preset(preset: Preset) -> None:
    PRESETS[preset.name] = preset


def _load_presets() -> None:
    """Import the model zoo module that registers presets, if the adapters package provides one."""
    try:
        importlib.import_module("tfbench.adapters.zoo")
    except ModuleNotFoundError as exc:
        if exc.name not in ("tfbench.adapters.zoo",):
            raise


def known_names() -> list[str]:
    _load_presets()
    return sorted(set(ADAPTERS.names()) | set(PRESETS))


def _coerce(value: str) -> Any:
    low = value.lower()
    if low in ("true", "yes", "on"):
        return True
    if low in ("false", "no", "off"):
        return False
    if low in ("none", "null"):
        return None
    try:
        return int(value)
    except ValueError:
        pass
    try:
        number = float(value)
    except ValueError:
        return value
    return number if math.isfinite(number) else value  # "nan"/"inf" stay strings


def parse_kwargs(text: str, spec: str) -> dict[str, Any]:
    """Parse ``key=value,key=value`` into typed keyword arguments."""
    kwargs: dict[str, Any] = {}
    if not text:
        return kwargs
    for part in text.split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise AdapterArgumentError(
                f"adapter spec {spec!r}: {part!r} is not key=value (example: jpeg:quality=30)"
            )
        if key in kwargs:
            raise AdapterArgumentError(f"adapter spec {spec!r}: argument {key!r} given twice")
        kwargs[key] = _coerce(value.strip())
    return kwargs


def parse_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """Split a spec into (name, kwargs); ``python:mod:Attr:k=v`` keeps ``python:mod:Attr`` as name."""
    if not isinstance(spec, str) or not spec.strip():
        raise AdapterArgumentError("adapter spec is empty; example: --adapter jpeg:quality=30")
    spec = spec.strip()
    if spec.startswith("python:"):
        parts = spec.split(":", 3)
        if len(parts) < 3 or not parts[1] or not parts[2]:
            raise AdapterArgumentError(
                f"adapter spec {spec!r}: expected python:package.module:ClassOrFactory[:key=value,...]"
            )
        return ":".join(parts[:3]), parse_kwargs(parts[3] if len(parts) == 4 else "", spec)
    name, _, args = spec.partition(":")
    return name.strip(), parse_kwargs(args, spec)


def _import_target(target: str, what: str) -> Any:
    module_name, _, attr = target.partition(":")
    if not all(part.isidentifier() for part in module_name.split(".")):
        raise UnknownNameError(f"{what}: {module_name!r} is not a module path (example: python:mypkg.mymodule:MyAdapter)")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name) or exc.name == module_name:
            raise UnknownNameError(f"{what}: module {module_name!r} not found") from exc
        raise TfbenchError(
            f"{what} needs the package {exc.name!r}, which is not installed; "
            f"install it (for neural adapters: pip install 'tfbench[neural]')"
        ) from exc
    try:
        return getattr(module, attr)
    except AttributeError as exc:
        raise UnknownNameError(f"{what}: {module_name!r} has no attribute {attr!r}") from exc


def resolve_factory(name: str) -> Callable[..., Adapter]:
    """Name -> class or factory, importing lazily; unknown names get a "did you mean"."""
    if name.startswith("python:"):
        return _import_target(name[len("python:"):], f"adapter {name!r}")
    entry = ADAPTERS.get(name)
    if entry is not None:
        return entry.load()
    names = known_names()
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise UnknownNameError(
        f"unknown adapter {name!r}{hint} Run `tfbench adapters` for the list "
        f"(or use python:module:Class for your own)."
    )


def _check_kwargs(name: str, factory: Callable[..., Adapter], kwargs: dict[str, Any]) -> None:
    try:
        sig = inspect.signature(factory)
    except (TypeError, ValueError):
        return
    params = sig.parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return
    accepted = [p for p in params if p != "self" and params[p].kind in (params[p].POSITIONAL_OR_KEYWORD, params[p].KEYWORD_ONLY)]
    for key in kwargs:
        if key not in accepted:
            close = difflib.get_close_matches(key, accepted, n=1, cutoff=0.5)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            listing = ", ".join(accepted) if accepted else "none"
            raise AdapterArgumentError(
                f"adapter {name!r} has no argument {key!r}{hint} (arguments: {listing})"
            )


def expand_spec(spec: str) -> tuple[str, dict[str, Any], Preset | None]:
    """Resolve presets: returns (family name, merged kwargs, preset or None)."""
    name, kwargs = parse_spec(spec)
    if ADAPTERS.get(name) is None and not name.startswith("python:"):
        _load_presets()
        preset = PRESETS.get(name)
        if preset is not None:
            family, base = parse_spec(preset.spec)
            return family, {**base, **kwargs}, preset
    return name, kwargs, None


def create_adapter(spec: str) -> Adapter:
    """Build the adapter a spec string describes; errors name the spec and the fix."""
    name, kwargs, _ = expand_spec(spec)
    factory = resolve_factory(name)
    _check_kwargs(name, factory, kwargs)
    try:
        adapter = factory(**kwargs)
    except TfbenchError:
        raise
    except (TypeError, ValueError) as exc:
        raise AdapterArgumentError(f"adapter spec {spec!r}: {exc}") from exc
    if not isinstance(adapter, Adapter):
        raise TfbenchError(
            f"adapter spec {spec!r}: {name} returned {type(adapter).__name__}, not a tfbench.protocol.Adapter"
        )
    if not isinstance(getattr(adapter, "info", None), AdapterInfo):
        raise TfbenchError(f"adapter spec {spec!r}: {type(adapter).__name__} does not declare `info: AdapterInfo`")
    from tfbench.run_identity import identify

    adapter.source_spec = spec.strip()  # what recreates it (e.g. in a Ray actor)
    adapter.spec, adapter.execution = identify(spec)  # what it is; how it executes goes to the budget
    return adapter


def describe_registered() -> list[dict[str, Any]]:
    """Rows for `tfbench adapters`: every family, preset and plugin, with declared metadata."""
    rows: list[dict[str, Any]] = []
    for name in known_names():
        row: dict[str, Any] = {"name": name}
        try:
            family, _, preset = expand_spec(name)
            entry = ADAPTERS.get(family)
            row["origin"] = "preset" if preset is not None else entry.origin if entry else None
            if entry is not None and entry.distribution:
                row["distribution"] = entry.distribution
            if preset is not None:
                row.update(preset=preset.spec, source=preset.source, license=preset.license,
                           description=preset.description)
                row.update(preset.extra.get("info", {}))  # what the preset pins (e.g. latent channels)
            factory = resolve_factory(family)
            info = getattr(factory, "info", None)
            if isinstance(info, AdapterInfo):
                row.update({k: v for k, v in info.to_dict().items() if k not in row or row[k] is None})
        except TfbenchError as exc:
            row["error"] = str(exc)
        rows.append(row)
    return rows
