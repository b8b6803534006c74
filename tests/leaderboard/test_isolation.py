"""The leaderboard reads results: importing any of its modules (the app's, the CLI's, verification's) never
loads the pipeline, adapters or metric models; only re-reading crops at approval loads the OCR and face
models, inside the call (checked in a fresh interpreter)."""
from __future__ import annotations

import json
import subprocess
import sys

FORBIDDEN = ["tfbench.pipeline", "tfbench.adapters", "tfbench.metrics.text", "tfbench.metrics.face",
             "tfbench.registry", "onnxruntime", "torch", "rapidocr", "cv2"]
MODULES = ["store", "importing", "submissions", "bundle", "queue", "reference", "table", "plots", "context", "columns",
           "changes", "suitedefs", "verify", "reread", "about", "migrations"]


def test_leaderboard_modules_never_import_the_pipeline_adapters_or_models() -> None:
    code = (
        "import sys, json\n"
        + "".join(f"import tfbench.leaderboard.{m}\n" for m in MODULES)
        + "import tfbench.commands.leaderboard\n"
        f"print(json.dumps([m for m in {FORBIDDEN!r} if m in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
