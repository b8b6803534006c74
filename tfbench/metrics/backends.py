"""Named metric backends (OCR engines, face recognizers): built-ins plus entry-point plugins.

Like adapters (:mod:`tfbench.registry`): built-ins are lazy ``"module:Class"`` strings imported on use,
third-party packages publish theirs under an entry-point group (``tfbench.ocr_backends``,
``tfbench.face_backends``), and an unknown name gets a "did you mean"::

    [project.entry-points."tfbench.ocr_backends"]
    mytr = "mypkg.ocr:MyRecognizer"      # an OcrBackend subclass
"""
from __future__ import annotations

import difflib
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Iterator, Mapping

from tfbench.errors import TfbenchError, UnknownNameError
from tfbench.metrics.registry import import_target

OCR_GROUP = "tfbench.ocr_backends"
FACE_GROUP = "tfbench.face_backends"


class BackendRegistry(Mapping[str, str]):
    """name -> ``"module:Class"`` of one kind of backend; built-ins first, then entry points (read on use)."""

    def __init__(self, group: str, builtins: dict[str, str], what: str) -> None:
        self.group = group
        self.builtins = dict(builtins)
        self.what = what

    def _plugins(self) -> dict[str, EntryPoint]:
        return {ep.name: ep for ep in entry_points(group=self.group) if ep.name not in self.builtins}

    def __getitem__(self, name: str) -> str:
        if name in self.builtins:
            return self.builtins[name]
        return self._plugins()[name].value

    def __iter__(self) -> Iterator[str]:
        return iter([*self.builtins, *self._plugins()])

    def __len__(self) -> int:
        return len(self.builtins) + len(self._plugins())

    def register(self, name: str, target: str) -> None:
        """Add a built-in (``"module:Class"``)."""
        self.builtins[name] = target

    def load(self, name: str) -> Any:
        """The backend class registered as ``name`` (imported now)."""
        if name in self.builtins:
            return import_target(self.builtins[name], f"{self.what} {name!r}")
        plugins = self._plugins()
        if name not in plugins:
            close = difflib.get_close_matches(name, list(self), n=2)
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            raise UnknownNameError(f"unknown {self.what} {name!r}{hint} (available: {', '.join(self)}; "
                                   f"packages add theirs under the {self.group!r} entry-point group)")
        try:
            return plugins[name].load()
        except Exception as exc:  # a broken plugin must not take the whole CLI down unexplained
            raise TfbenchError(f"{self.what} plugin {name!r} ({plugins[name].value}) failed to load: {exc}") from exc

    def create(self, name: str, **kwargs: Any) -> Any:
        """An instance of the backend ``name``."""
        return self.load(name)(**kwargs)

