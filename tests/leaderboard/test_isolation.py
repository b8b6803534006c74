"""The leaderboard reads results only: importing it and rendering data never loads the pipeline,
adapters or metric models (checked in a fresh interpreter)."""
from __future__ import annotations

import json
import subprocess
import sys

FORBIDDEN = ["tfbench.pipeline", "tfbench.adapters", "tfbench.metrics.text", "tfbench.metrics.face",
             "tfbench.registry", "onnxruntime", "torch", "rapidocr", "cv2"]


def test_leaderboard_never_imports_the_pipeline_adapters_or_models() -> None:
    code = (
        "import sys, json\n"
        "import tfbench.leaderboard.store, tfbench.leaderboard.importing, tfbench.leaderboard.submissions\n"
        "import tfbench.leaderboard.reference, tfbench.leaderboard.table, tfbench.leaderboard.plots\n"
        "import tfbench.leaderboard.context, tfbench.commands.leaderboard\n"
        f"print(json.dumps([m for m in {FORBIDDEN!r} if m in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
