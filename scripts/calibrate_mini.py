"""Calibrate a generated suite (default: `mini`) against real photographs of text and faces.

Runs a fixed set of adapters (identity, JPEG q90/q50/q30/q15/q5, WebP q30, AVIF q30, TAEF2) on the suite
and on the real folders in ``../shared/data`` (imported with ``tfbench data import folder``'s importer into
``--work``, curated at import: words the OCR does not read exactly on the original are not scored, as in the
suite), then prints,
per resolution and metric, the score of every adapter on both, the spreads against identity and Kendall's
tau between the two rankings.

    python scripts/calibrate_mini.py                       # mini at 256 and 512, real folders in ../shared/data
    python scripts/calibrate_mini.py --suite mini-v1 -r 512 --json calib.json
    python scripts/calibrate_mini.py --work /tmp/calib     # keep the runs: a rerun resumes finished ones
    python scripts/calibrate_mini.py --work /tmp/calib --real-resolution 512   # real folders at 512 only
    python scripts/calibrate_mini.py --recipe my/mini-v3.json -r 512           # a variant of a recipe (tuning)

A variant recipe is a copy of ``data_manifests/mini-v3.json`` (with ``mini_words.txt`` beside it) with
other generator parameters; it is built into ``--work`` (named by its recipe key), not into the cache.

Nothing is written into the real-data folder; everything goes under ``--work`` (default: a temporary folder).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "data"
WEIGHTS = ROOT.parent / "shared" / "weights"

ADAPTERS = ["identity", "jpeg:quality=90", "jpeg:quality=50", "jpeg:quality=30", "jpeg:quality=15",
            "jpeg:quality=5", "webp:quality=30", "avif:quality=30", "tae:variant=taef2,weights={weights}"]
METRICS = (("text", "t_acc", "T-ACC"), ("text", "t_ned", "T-NED"), ("face", "f_sim", "F-Sim"))
SPREAD_VS = ("jpeg:quality=30", "jpeg:quality=5", "tae:variant=taef2")


def kendall_tau(a: list[float], b: list[float]) -> float:
    """Kendall's tau-b of two score lists (ties handled as scipy.stats.kendalltau does)."""
    from scipy.stats import kendalltau

    return float(kendalltau(a, b).statistic)


def real_suites(real: Path, work: Path, scorers: Any) -> dict[str, Any]:
    """Import the real text and face folders into ``work`` with ``tfbench data import folder``'s importer
    (curation at import: words the scoring OCR does not read exactly on the original are marked and not
    scored; faces without landmarks are excluded) and load them."""
    from tfbench.datasets.folder import import_folder
    from tfbench.manifest import load_suite_file

    out: dict[str, Any] = {}
    for kind in ("text", "faces"):
        folder = real / kind
        path = work / f"real-{kind}.json"
        if not path.is_file():
            import_folder(folder, out=path, name=f"real-{kind}", ocr=scorers.text)
        suite = load_suite_file(path, folder)
        out[kind] = {"suite": suite, "counts": json.loads(path.read_text()).get("curation", {})}
    return out


def variant_suite(recipe: Path, work: Path, scorers: Any) -> Any:
    """Build a variant mini recipe into ``work`` once (curated with the scoring OCR) and load it."""
    from tfbench.manifest import load_suite_file
    from tfbench.mini import build_mini, generator_of
    from tfbench.mini_suite import recipe_key

    data = json.loads(recipe.read_text())
    dest = work / f"recipe-{recipe_key(data, generator_of(str(data['version']))[0])}"
    if not (dest / "manifest.json").is_file():
        build_mini(dest, recipe=recipe, ocr=scorers.text)
    return load_suite_file(dest / "manifest.json", dest)


def evaluate_all(suite: Any, adapters: list[str], resolutions: list[str], scorers: Any, out: Path,
                 log: Any = sys.stderr) -> dict[str, dict[str, dict[str, Any]]]:
    """{resolution: {adapter: results}} of every adapter on ``suite`` (runs resume from ``out``)."""
    from tfbench.pipeline import evaluate
    from tfbench.registry import create_adapter

    table: dict[str, dict[str, dict[str, Any]]] = {r: {} for r in resolutions}
    for spec in adapters:
        adapter = create_adapter(spec)
        try:
            for res in resolutions:
                r = evaluate(suite, adapter, res, scorers, out)
                table[res][spec] = r
                print(f"  {suite.name} {spec} @{res}: {r['budget']['wall_s']:.1f} s", file=log)
        finally:
            adapter.close()
    return table


def metric_value(results: dict[str, Any], kind: str, metric: str, fallback: bool = False) -> float | None:
    """The mean of bucket means; with ``fallback``, the instance mean where an empty bucket leaves it
    undefined (the real faces: none is small at 256 or 512)."""
    block = (results.get("metrics", {}).get(kind) or {}).get(metric, {})
    value = block.get("mean")
    if value is None and fallback:
        value = block.get("instance_mean")
    return None if value is None else float(value)


def short(spec: str) -> str:
    return "tae:variant=taef2" if spec.startswith("tae:variant=taef2") else spec


def summarize(suite_runs: dict, real_runs: dict, adapters: list[str], resolutions: list[str]) -> dict[str, Any]:
    """Scores, spreads against identity and Kendall's tau per resolution and metric."""
    summary: dict[str, Any] = {}
    for res in resolutions:
        per: dict[str, Any] = {}
        for kind, metric, label in METRICS:
            real_kind = "text" if kind == "text" else "faces"
            a = {short(s): metric_value(suite_runs[res][s], kind, metric) for s in adapters}
            real_res = real_runs[real_kind].get(res, {})
            b = {short(s): metric_value(real_res.get(s, {}), kind, metric, fallback=True) for s in adapters}
            both = [s for s in a if a[s] is not None and b[s] is not None]
            tau = kendall_tau([a[s] for s in both], [b[s] for s in both]) if len(both) >= 3 else None
            spreads = {f"identity - {s}": {"suite": _diff(a, "identity", s), "real": _diff(b, "identity", s)}
                       for s in SPREAD_VS}
            per[label] = {"suite": a, "real": b, "kendall_tau": tau, "adapters_compared": len(both), "spreads": spreads}
        summary[res] = per
    return summary


def _diff(scores: dict[str, float | None], x: str, y: str) -> float | None:
    return None if scores.get(x) is None or scores.get(y) is None else scores[x] - scores[y]


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.3f}"


def print_summary(summary: dict[str, Any], suite_name: str, counts: dict[str, Any], out: Any = sys.stdout) -> None:
    print(f"# Calibration: {suite_name} vs real folders", file=out)
    print(f"counts: {json.dumps(counts)}", file=out)
    print("real F-Sim: the instance mean where the mean of bucket means is undefined (no small real face)", file=out)
    for res, per in summary.items():
        labels = list(per)
        print(f"\n## @{res}\n", file=out)
        print("| adapter | " + " | ".join(f"{suite_name} {lb} | real {lb}" for lb in labels) + " |", file=out)
        print("|---" * (1 + 2 * len(labels)) + "|", file=out)
        for spec in per[labels[0]]["suite"]:
            cells = " | ".join(f"{_fmt(per[lb]['suite'][spec])} | {_fmt(per[lb]['real'][spec])}" for lb in labels)
            print(f"| {spec} | {cells} |", file=out)
        for lb in labels:
            sp = "; ".join(f"{k}: {_fmt(v['suite'])} ({_fmt(v['real'])} real)" for k, v in per[lb]["spreads"].items())
            print(f"\n{lb}: Kendall's tau {_fmt(per[lb]['kendall_tau'])} over {per[lb]['adapters_compared']} "
                  f"adapters; spreads {sp}", file=out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--suite", default="mini", help="suite to calibrate (name or manifest path; default: mini)")
    p.add_argument("--recipe", type=Path, default=None, help="calibrate a variant mini recipe instead of --suite")
    p.add_argument("-r", "--resolution", action="append", dest="resolutions", help="default: 256 and 512")
    p.add_argument("--real", type=Path, default=REAL, help=f"folder with text/ and faces/ (default: {REAL})")
    p.add_argument("--weights", type=Path, default=WEIGHTS, help=f"TAEF2 weights folder (default: {WEIGHTS})")
    p.add_argument("-a", "--adapter", action="append", dest="adapters", help="default: the nine calibration adapters")
    p.add_argument("--work", type=Path, default=None, help="folder for imports and runs (default: temporary)")
    p.add_argument("--json", type=Path, default=None, help="also write the summary here")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--real-resolution", action="append", dest="real_resolutions",
                   help="resolutions of the real runs (default: those of the suite); rank agreement needs both")
    p.add_argument("--part", choices=("all", "suite", "real"), default="all",
                   help="run only the suite's or only the real folders' runs into --work (two processes can share "
                        "the work); `all` (default) runs what is missing and prints the table")
    args = p.parse_args(argv)
    for need in (args.real / "text" / "manifest.json", args.real / "faces" / "manifest.json"):
        if not need.is_file():
            print(f"calibrate_mini: error: {need} not found; give the real folders with --real", file=sys.stderr)
            return 2
    adapters = [a.format(weights=args.weights) for a in (args.adapters or ADAPTERS)]
    if any(a.startswith("tae:") for a in adapters) and not (args.weights / "taef2_encoder.pth").is_file():
        print(f"calibrate_mini: error: {args.weights}/taef2_encoder.pth not found; give --weights", file=sys.stderr)
        return 2
    resolutions = args.resolutions or ["256", "512"]
    real_resolutions = args.real_resolutions or resolutions
    from tfbench.pipeline import Scorers
    from tfbench.suites import load_suite

    with tempfile.TemporaryDirectory(prefix="tfbench-calib-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        scorers = Scorers.create(threads=args.threads)
        suite = variant_suite(args.recipe, work, scorers) if args.recipe else load_suite(args.suite)
        key = hashlib.sha256((suite.source or suite.root / "manifest.json").read_bytes()).hexdigest()[:12]
        real = real_suites(args.real, work, scorers)
        if args.part != "real":
            suite_runs = evaluate_all(suite, adapters, resolutions, scorers, work / "runs" / f"{suite.name}-{key}")
        if args.part != "suite":
            real_runs = {k: evaluate_all(v["suite"], adapters, real_resolutions, scorers, work / "runs" / "real")
                         for k, v in real.items()}
        if args.part != "all":
            return 0
        counts = {"suite": suite.summary() | {"manifest_sha256_12": key},
                  "real_text": (real["text"]["counts"].get("text") or {}) | {"images": len(real["text"]["suite"].images)},
                  "real_faces": (real["faces"]["counts"].get("face") or {}) | {"images": len(real["faces"]["suite"].images)}}
        counts["suite"].pop("description", None)
        counts["suite"].pop("license", None)
        summary = summarize(suite_runs, real_runs, adapters, resolutions)
        print_summary(summary, args.suite, counts)
        if args.json:
            args.json.write_text(json.dumps({"counts": counts, "summary": summary}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
