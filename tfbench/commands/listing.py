"""`tfbench adapters`, `tfbench suites` and `tfbench metrics`: what is registered, with declared metadata."""
from __future__ import annotations

import argparse
import json

from tfbench.tables import text_table


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
    table = []
    for r in rows:
        if r.get("error"):
            table.append([r["name"], "?", "", "", "", "", "", f"unavailable: {r['error']}"])
            continue
        vr = r.get("value_range") or [0, 1]
        desc = r.get("description") or ""
        if r.get("preset"):
            desc = f"= {r['preset']}" + (f" ({r.get('license')})" if r.get("license") else "")
        if r.get("origin") in ("plugin", "registered"):
            desc += f" [{r['origin']}{': ' + r['distribution'] if r.get('distribution') else ''}]"
        latent = r.get("latent_channels") or r.get("codebook_size") or ""
        bpp = f"{r['nominal_at_256']['bits_per_pixel']:.3g}" if r["nominal_at_256"] else "-"
        table.append([r["name"], r.get("kind", ""), r.get("modality", ""), f"[{vr[0]:g},{vr[1]:g}]",
                      r.get("spatial_compression", ""), latent, bpp, desc])
    print(text_table(["name", "kind", "modality", "range", "f", "latent", "bpp@256", "description"], table,
                     align="llllrrrl", rule=False))
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
    table = [[m.name, m.side, m.modality, f"[{m.score_range[0]:g}, {m.score_range[1]:g}]",
              "lower" if m.lower_better else "higher", "yes" if m.check_default else "", m.table_label, m.description]
             for m in specs]
    print(text_table(["name", "side", "modality", "range", "better", "check", "label", "description"], table, rule=False))
    return 0
