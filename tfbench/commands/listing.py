"""`tfbench adapters` and `tfbench suites`: what is registered, with declared metadata."""
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
        if r.get("origin") in ("plugin", "registered"):
            desc += f" [{r['origin']}{': ' + r['distribution'] if r.get('distribution') else ''}]"
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
