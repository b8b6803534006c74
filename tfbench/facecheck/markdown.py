"""The Markdown summary of a face-check report: verdict, per-recognizer identity table, expression table and
confusion (original vs processed class), per-track video table, groups, files not scored."""
from __future__ import annotations

from typing import Any

from tfbench.facecheck.gates import verdict_line
from tfbench.tables import markdown_table


def _fmt(v: float | None, pct: bool = False) -> str:
    if v is None:
        return "–"
    return f"{100 * v:.1f}%" if pct else f"{v:.3f}"


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    return markdown_table(head, rows).splitlines()


def identity_table(report: dict[str, Any]) -> list[str]:
    s, mode = report["summary"], report["mode"]
    rate = "identity_kept_rate" if mode == "preserve" else "protection_rate"
    has_target = any("impersonation_rate" in b for b in s["overall"]["backends"].values())
    head = ["recognizer", "same person at", "mean sim", "min sim", "identity kept" if mode == "preserve" else "protected"]
    head += ["impersonated"] if has_target else []
    rows = []
    for name, b in s["overall"]["backends"].items():
        row = [name, f"{report['backends'][name]['threshold']:.3f}", _fmt(b["f_sim"]["mean"]), _fmt(b["f_sim"]["min"]),
               _fmt(b[rate], pct=True)]
        rows.append(row + ([_fmt(b.get("impersonation_rate"), pct=True)] if has_target else []))
    return _table(head, rows) + ["", "Similarities are on each recognizer's own scale: compare a row with its own "
                                     "threshold, never across rows."]


def expression_tables(report: dict[str, Any]) -> list[str]:
    s = report["summary"]
    e = s["overall"].get("expression")
    if not e:
        why = (report.get("expression") or {}).get("unavailable", "no expression model")
        return ["", f"Expression: not measured ({why})."]
    model = report["expression"]
    lines = ["", f"### Expression ({model['name']}: {model.get('model', '')})", ""]
    lines += _table(["units", "decided", "expression kept", "mean JS divergence", "max JS divergence"],
                    [[str(s["overall"]["n"]), str(e["decided"]), _fmt(e["kept_rate"], pct=True), _fmt(e["js"]["mean"]),
                      _fmt(e["js"]["max"])]])
    lines += ["", f"A face's expression counts when the original's top-1 class leads the runner-up by at least "
                  f"{model.get('decided_margin', 0):g} (the model's measured noise floor); JS divergence: all faces."]
    conf = s.get("expression_confusion")
    if conf:
        labels = conf["labels"]
        used = [i for i in range(len(labels)) if any(conf["counts"][i]) or any(r[i] for r in conf["counts"])]
        lines += ["", f"Top-1 class, original (rows) vs processed (columns), {conf['face_frames']} decided "
                      f"face-frames:", ""]
        lines += _table(["original \\ processed"] + [labels[i] for i in used],
                        [[labels[i]] + [str(conf["counts"][i][j]) for j in used] for i in used])
    return lines


def track_table(report: dict[str, Any]) -> list[str]:
    videos = [r for r in report["records"] if r.get("kind") == "video" and r.get("status") == "ok"]
    if not videos:
        return []
    names = list(report["backends"])
    lines = ["", "### Video tracks", ""]
    for r in videos:
        t = r["tracks"]
        lines.append(f"`{r['file']}`: {r['frames_scored']} sampled frames, {t['count']} tracks linked "
                     f"({t['linked_by']}), {t['scored']} with >= {t['min_track_frames']} face-frames scored.")
    head = ["clip", "track", "face-frames", "frames"]
    for n in names:
        head += [f"{n} kept", f"{n} longest lost run"]
    head += ["expression kept", "expression flicker", "verdict"]
    rows = []
    for r in videos:
        for u in r["faces"]:
            tr = u["track"]
            row = [f"`{r['file']}`", str(u["i"]), str(tr["face_frames"]), f"{tr['first_frame']}–{tr['last_frame']}"]
            for n in names:
                row += [_fmt(u.get("f_kept", {}).get(n), pct=True), str(u.get("lost_run", {}).get(n, "–"))]
            flicker = u.get("expression_flicker")
            row += [_fmt(u.get("expression_kept"), pct=True), "–" if flicker is None else f"{flicker:+.3f}",
                    u.get("verdict", {}).get("verdict", "–")]
            rows.append(row)
    return lines + [""] + _table(head, rows)


def group_tables(report: dict[str, Any]) -> list[str]:
    s, mode = report["summary"], report["mode"]
    rate = "identity_kept_rate" if mode == "preserve" else "protection_rate"
    title = "identity kept" if mode == "preserve" else "protected"
    names = list(s["overall"]["backends"])
    has_expr = "expression" in s["overall"]
    lines: list[str] = []
    for label, g in s["groups"].items():
        head = [label, "n"] + [f"{n} {title}" for n in names] + (["expression kept"] if has_expr else []) + ["NME"]
        rows = [[value, str(st["n"])] + [_fmt(st["backends"][n][rate], pct=True) for n in names]
                + ([_fmt(st.get("expression", {}).get("kept_rate"), pct=True)] if has_expr else [])
                + [_fmt(st["nme"]["mean"])] for value, st in g["values"].items()]
        lines += ["", f"### By {label}", ""] + _table(head, rows)
        gaps = [f"{m} {v['gap']:.3f} ({v['lowest']} < {v['highest']})" for m, v in g["max_gap"].items()]
        if gaps:
            lines += ["", "Largest gaps: " + "; ".join(gaps)]
    return lines


def markdown(report: dict[str, Any]) -> str:
    """Readable summary of a face-check report, to paste into a paper's notes or a CI log."""
    s, mode = report["summary"], report["mode"]
    c, gate = s["counts"], report["gates"]
    lines = [f"## Face check ({mode}): {'PASS' if gate['passed'] else 'FAIL'}", "",
             f"{c['files']} files: {c['ok']} scored ({c['units']} faces/tracks), {c['no_face']} without a face, "
             f"{c['unpaired']} unpaired, {c['size_mismatch']} size mismatches, {c['unsupported']} unsupported, "
             f"{c['error']} unreadable.", ""]
    lines += identity_table(report)
    o = s["overall"]
    lines += ["", f"Landmark drift (NME, 68 points / inter-ocular): mean {_fmt(o['nme']['mean'])}, "
                  f"max {_fmt(o['nme']['max'])} · face PSNR {_fmt(o['psnr'])} dB · SSIM {_fmt(o['ssim'])}"]
    lines += expression_tables(report) + track_table(report) + group_tables(report)
    if report.get("unavailable_backends"):
        lines += ["", "Not run: " + "; ".join(f"{k} ({v})" for k, v in report["unavailable_backends"].items())]
    probs = report.get("problems") or []
    if probs:
        lines += ["", f"### Files not scored ({len(probs)})", ""]
        lines += [f"- `{p['file']}`: {p['status']}: {p['error']}" for p in probs[:50]]
        if len(probs) > 50:
            lines.append(f"- ... and {len(probs) - 50} more (see the JSON report)")
    g = gate
    gates = [f"{'identity kept' if mode == 'preserve' else 'protected'} >= {100 * g['min_rate']:.0f}% per recognizer"]
    if g.get("min_expression_kept") is not None:
        gates.append(f"expression kept >= {100 * g['min_expression_kept']:.0f}%")
    if g.get("max_nme") is not None:
        gates.append(f"NME <= {g['max_nme']:g}")
    lines += ["", f"**Verdict: {verdict_line(gate)}** (gates: {', '.join(gates)})"]
    if not gate["passed"] and len(gate["failures"]) > 1:
        lines += [f"- {f}" for f in gate["failures"]]
    return "\n".join(lines) + "\n"
