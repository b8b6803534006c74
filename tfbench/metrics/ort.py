"""onnxruntime, imported with its telemetry off.

onnxruntime's Linux wheel (1.32, the version installed here) carries Microsoft's 1DS telemetry client (its
binary holds the OneCollector address ``mobile.events.data.microsoft.com``): importing it writes a device id
and an event database under ``~/.cache/Microsoft/DeveloperTools/.onnxruntime`` (``$XDG_CACHE_HOME``). A
benchmark that runs offline and in CI must not write into the user's home or phone home, so every tfbench
module imports onnxruntime through :func:`load_onnxruntime`, which sets ``ORT_DISABLE_TELEMETRY=1`` first
(read once, at onnxruntime's import).
A value the user set is kept: ``ORT_DISABLE_TELEMETRY=0 tfbench run`` turns the telemetry back on.
onnxruntime also stays quiet on its own under ``CI=true`` (and other CI services' variables), which is why
the tests that guard this drop those variables.
"""
from __future__ import annotations

import os
from types import ModuleType

TELEMETRY_SWITCH = "ORT_DISABLE_TELEMETRY"


def load_onnxruntime() -> ModuleType:
    """``import onnxruntime`` with ``ORT_DISABLE_TELEMETRY=1`` unless the environment already says otherwise."""
    os.environ.setdefault(TELEMETRY_SWITCH, "1")
    import onnxruntime

    return onnxruntime
