"""`tfbench adapters`, `tfbench suites` and `tfbench metrics`: what is registered, with declared metadata."""
from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("adapters", help="list adapter families, presets and plugins with their conventions")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=adapters)
    s = sub.add_parser("suites", help="list suites")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=suites)
    m = sub.add_parser("metrics", help="list registered metrics with range, direction and whether `check` gates them")
    m.add_argument("--json", action="store_true")
    m.set_defaults(func=metrics)


def adapters(args: argparse.Namespace) -> int:
    from tfbench.compression import nominal
    from tfbench.registry import describe_registered

    rows = describe_registered()
    for r in rows:
        r["nominal_at_256"] = nominal(r)  # latent shape, tokens, bpp of a 256x256 image (None: measured)
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return 0
    print(f"{'name':<22} {'kind':<10} {'modality':<8} {'range':<9} {'f':>3} {'latent':>6} {'bpp@256':>7}  description")
    for r in rows:
        if r.get("error"):
            print(f"{r['name']:<22} {'?':<10} {'':<8} {'':<9} {'':>3} {'':>6} {'':>7}  unavailable: {r['error']}")
            continue
        vr = r.get("value_range") or [0, 1]
        desc = r.get("description") or ""
        if r.get("preset"):
            desc = f"= {r['preset']}" + (f" ({r.get('license')})" if r.get("license") else "")
        latent = r.get("latent_channels") or r.get("codebook_size") or ""
        bpp = f"{r['nominal_at_256']['bits_per_pixel']:.3g}" if r["nominal_at_256"] else "-"
        print(f"{r['name']:<22} {r.get('kind', ''):<10} {r.get('modality', ''):<8} "
              f"{f'[{vr[0]:g},{vr[1]:g}]':<9} {r.get('spatial_compression', ''):>3} {latent!s:>6} {bpp:>7}  {desc}")
    return 0


def suites(args: argparse.Namespace) -> int:
    from tfbench.suites import list_suites

    rows = list_suites()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for r in rows:
        print(f"{r['name']:<20} {r['kind']:<28} {r['target']}")
    return 0


def metrics(args: argparse.Namespace) -> int:
    from tfbench.metrics.registry import all_metrics

    specs = all_metrics()
    if args.json:
        print(json.dumps([{k: v for k, v in vars(m).items() if not callable(v)} for m in specs], indent=2, default=str))
        return 0
    print(f"{'name':<16} {'side':<5} {'modality':<8} {'range':<11} {'better':<6} {'check':<5} {'label':<12}  description")
    for m in specs:
        lo, hi = m.score_range
        print(f"{m.name:<16} {m.side:<5} {m.modality:<8} {f'[{lo:g}, {hi:g}]':<11} "
              f"{'lower' if m.lower_better else 'higher':<6} {'yes' if m.check_default else '':<5} "
              f"{m.table_label:<12}  {m.description}")
    return 0
