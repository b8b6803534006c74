#!/usr/bin/env python3
"""Run the same `tfbench run` with two tfbench installations and check that every result is identical.

    python scripts/compare_engines.py --old /work/main/.venv/bin/tfbench --new .venv/bin/tfbench \
        --out /tmp/cmp -- -a identity -a jpeg:quality=30 -r 256 -r 1024

Runs ``OLD run ARGS --out OUT/old`` and ``NEW run ARGS --out OUT/new`` (with TFBENCH_CACHE shared), pairs
their results in the order both print them (adapter, resolution), and compares every metric of every
bucket (``metrics``, ``subsets``, ``counts``, ``failures``, ``buckets``, the ``video`` block, the adapter's
compression fields) and every image's record in ``records.jsonl``. Prints one line per pair and exits 1
on any difference. Timings and budgets are not compared (they differ by design).
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

COMPARED = ("metrics", "subsets", "counts", "failures", "buckets", "video")
ADAPTER_FIELDS = ("bits_per_pixel", "tokens", "latent_shape", "bpp_basis", "family", "kind")
LINE = re.compile(r"^  (.+) @ (\S+): (\S+results\.json)$")


def run(tfbench: str, args: list[str], out: Path, reuse: bool = False) -> list[Path]:
    log = out.with_name(out.name + ".stderr.txt")
    if not (reuse and log.is_file()):
        proc = subprocess.run([tfbench, "run", *args, "--out", str(out), "--no-progress"], capture_output=True, text=True)
        if proc.returncode != 0:
            sys.exit(f"{tfbench} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(proc.stderr)
    return [Path(m.group(3)) for m in map(LINE.match, log.read_text().splitlines()) if m]


def records(results: Path) -> dict[str, dict]:
    out = {}
    for line in results.with_name("records.jsonl").read_text().splitlines():
        if line.strip():
            rec = json.loads(line)
            out[rec["image"]] = rec
    return out


def differences(old: Path, new: Path) -> list[str]:
    a, b = json.loads(old.read_text()), json.loads(new.read_text())
    diffs = [k for k in COMPARED if a.get(k) != b.get(k)]
    diffs += [f"adapter.{k}" for k in ADAPTER_FIELDS if a["adapter"].get(k) != b["adapter"].get(k)]
    ra, rb = records(old), records(new)
    if set(ra) != set(rb):
        diffs.append(f"records: images {sorted(set(ra) ^ set(rb))}")
    diffs += [f"record {k}" for k in sorted(ra) if k in rb and ra[k] != rb[k]]
    return diffs


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--old", required=True, help="the reference tfbench executable")
    p.add_argument("--new", required=True, help="the tfbench executable under test")
    p.add_argument("--out", required=True, type=Path, help="empty folder for both runs")
    p.add_argument("--reuse-old", action="store_true", help="keep the reference run already in OUT/old (its stderr log)")
    p.add_argument("args", nargs=argparse.REMAINDER, help="-- then the `tfbench run` arguments")
    opts = p.parse_args()
    args = opts.args[1:] if opts.args[:1] == ["--"] else opts.args
    old = run(opts.old, args, opts.out / "old", reuse=opts.reuse_old)
    new = run(opts.new, args, opts.out / "new")
    if len(old) != len(new) or not old:
        sys.exit(f"the runs produced {len(old)} and {len(new)} results")
    bad = 0
    for a, b in zip(old, new):
        ra, rb = json.loads(a.read_text()), json.loads(b.read_text())
        diffs = differences(a, b)
        bad += bool(diffs)
        print(f"{'DIFFERENT' if diffs else 'identical'}  {ra['adapter']['spec']} @ {ra['suite']['resolution']} "
              f"(suite {ra['suite']['name']} v{ra['suite']['version']}; {ra['counts']}; new spec {rb['adapter']['spec']})"
              + (f": {', '.join(diffs[:8])}" if diffs else ""))
    print(f"{len(old) - bad} of {len(old)} results identical (metrics, buckets, counts, failures, records)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
