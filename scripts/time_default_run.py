#!/usr/bin/env python3
"""Time the default `tfbench run` as whole processes, two installations interleaved (A B A B ...).

    python scripts/time_default_run.py --rounds 3 --json timing.json \
        base=/work/main/.venv/bin/tfbench new=.venv/bin/tfbench

Each round runs every installation once under GNU ``/usr/bin/time -v`` into a fresh output folder (the
suite cache is warm: one untimed run of each comes first). Per run: wall and CPU seconds (user + sys) and
peak RSS from ``time -v``, the 1-minute load average before and after, and from the results' budgets the
model seconds (adapter + OCR + face, summed over the adapters) and the overhead of the run as a whole
(engine wall / model seconds: the sum of the adapters' walls for an adapter-major run, the pass's wall for
an image-major one). Prints medians per installation.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

from tfbench.perf import engine_figures, time_process

def timed_run(tfbench: str, args: list[str]) -> dict[str, float]:
    """One whole-process run into a fresh folder: time -v figures and the budgets' model time and overhead."""
    out = Path(tempfile.mkdtemp(prefix="tfbench-timing-"))
    row = time_process([tfbench, "run", "--out", str(out), "--no-progress", *args])
    row.update(engine_figures(out))
    row["process_overhead"] = round(row["wall_s"] / row["model_s"], 3)
    return row


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("installs", nargs="+", metavar="NAME=TFBENCH", help="label=path of a tfbench executable")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--json", default=None)
    p.add_argument("--args", default="", help="extra `tfbench run` arguments (default: none, the default run)")
    opts = p.parse_args()
    installs = dict(item.split("=", 1) for item in opts.installs)
    extra = opts.args.split()
    for exe in installs.values():  # warm: the suite is built, files are in the page cache
        timed_run(exe, extra)
    rows: dict[str, list[dict]] = {name: [] for name in installs}
    for r in range(opts.rounds):
        for name, exe in installs.items():
            rows[name].append(timed_run(exe, extra))
            print(f"round {r + 1} {name}: {rows[name][-1]}", flush=True)
    summary = {name: {k: statistics.median(x[k] for x in runs) for k in runs[0]} for name, runs in rows.items()}
    for name, med in summary.items():
        print(f"median {name}: wall {med['wall_s']:.1f} s, CPU {med['cpu_s']:.1f} s, peak RSS {med['peak_rss_mib']:.0f} MiB, "
              f"model {med['model_s']:.1f} s, engine wall {med['engine_wall_s']:.1f} s, overhead {med['overhead']:.2f}, "
              f"load {med['load_before']:.2f}")
    if opts.json:
        Path(opts.json).write_text(json.dumps({"runs": rows, "median": summary}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
