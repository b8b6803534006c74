"""Helpers for aggregation tests: results written as TokBench's official per-instance outputs, compared bytewise."""
from __future__ import annotations

import json

IMPORTED = {"text": ("t_acc", "t_ned"), "face": ("f_sim",)}  # what the official per-instance outputs hold


def dump(x) -> str:
    return json.dumps(x, sort_keys=True)


def imported_view(block: dict) -> dict:
    """The parts of a side block the official outputs can reproduce."""
    out = {}
    for side, keys in IMPORTED.items():
        out[side] = {k: block[side][k] for k in (*keys, "n", "n_counted", "uncounted")}
    return out


def official_outputs(records: list[dict], folder, method: str = "mytok", setting: str = "mytok_256") -> list[str]:
    """Write the records as TokBench's eval_text.py / eval_face.py outputs: {set}.json and face.json."""
    sets: dict[str, dict] = {}
    for rec in records:
        s, file = rec["subset"], rec["image"]
        words = [{"gt": w["gt"], "pred": w["pred"], "ratio": w["ratio"], "accuracy": w["t_acc"], "ned": w["t_ned"]}
                 for w in rec["words"] if not w.get("skipped")]
        faces = [{"ratio": f["ratio"], "similarity": f["f_sim"], "box": [0, 0, 1, 1], "gt": 1}
                 for f in rec["faces"] if not f.get("skipped")]
        sets.setdefault(s, {})[file] = {"file_name": file, "results": words if s != "face" else faces}
    folder.mkdir(parents=True, exist_ok=True)
    for s, details in sets.items():
        (folder / f"{s}.json").write_text(json.dumps({method: {setting: {"results": {}, "details": details}}}))
    return sorted(sets)
