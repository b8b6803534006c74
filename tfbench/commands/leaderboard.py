"""`tfbench leaderboard [import|reference|pending|approve|reject|export]` and `tfbench submit FILE`.

Without a subcommand, `tfbench leaderboard` serves the Streamlit app (headless) on the given store.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

DEFAULT_STORE_HELP = "leaderboard store (SQLite file; default: $TFBENCH_LEADERBOARD_STORE or ./tfbench-leaderboard.sqlite)"


def _store_arg(p: argparse.ArgumentParser, top: bool = False) -> None:
    # On the subcommands SUPPRESS keeps `tfbench leaderboard --store X import DIR` from being reset to None.
    p.add_argument("--store", default=None if top else argparse.SUPPRESS, help=DEFAULT_STORE_HELP)


def _store_path(args: argparse.Namespace) -> Path:
    from tfbench.leaderboard.context import STORE_ENV
    from tfbench.leaderboard.store import DEFAULT_STORE

    return Path(getattr(args, "store", None) or os.environ.get(STORE_ENV) or DEFAULT_STORE)


def _open(args: argparse.Namespace):  # -> Store
    from tfbench.leaderboard.store import Store

    return Store(_store_path(args))


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("leaderboard", help="serve the Streamlit leaderboard, or manage its store (import, approve, export)",
                       description="Without a subcommand: serve the leaderboard app (headless) on the store.")
    _store_arg(p, top=True)
    p.add_argument("--port", type=int, default=8501, help="port to serve on (default: 8501)")
    p.add_argument("--address", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.set_defaults(func=serve)
    lb = p.add_subparsers(dest="leaderboard_command", metavar="SUBCOMMAND")

    q = lb.add_parser("import", help="import run folders (every results.json below DIR, with records and crops)")
    q.add_argument("paths", nargs="+", metavar="DIR")
    _store_arg(q)
    q.set_defaults(func=import_runs)

    q = lb.add_parser("reference", help="import published numbers (reference CSV, format in tfbench/leaderboard/reference.py)")
    q.add_argument("csv", metavar="CSV")
    _store_arg(q)
    q.set_defaults(func=import_reference)

    q = lb.add_parser("pending", help="list submissions waiting for approval")
    _store_arg(q)
    q.set_defaults(func=pending)

    for name, func, text in (("approve", approve, "import a pending submission into the table"),
                             ("reject", reject, "reject a pending submission")):
        q = lb.add_parser(name, help=text)
        q.add_argument("id", type=int, metavar="ID")
        _store_arg(q)
        q.set_defaults(func=func)

    q = lb.add_parser("export", help="print (or write) the leaderboard table as CSV or Markdown")
    q.add_argument("--format", choices=["csv", "md"], default="md")
    q.add_argument("--resolution", "-r", action="append", default=[], metavar="R", help="only these resolutions")
    q.add_argument("--output", "-o", default=None, metavar="FILE", help="write to FILE instead of stdout")
    _store_arg(q)
    q.set_defaults(func=export)

    s = sub.add_parser("submit", help="queue a results.json (and optionally a zip of records/crops) for the leaderboard")
    s.add_argument("file", metavar="FILE", help="results.json written by `tfbench run`")
    s.add_argument("--bundle", default=None, metavar="ZIP", help="zip of the run folder's records.jsonl and crops/")
    s.add_argument("--note", default="", help="note for the maintainer")
    s.add_argument("--store", default=None, help=DEFAULT_STORE_HELP)
    s.set_defaults(func=submit)


def serve(args: argparse.Namespace) -> int:
    from tfbench.errors import TfbenchError
    from tfbench.leaderboard.context import STORE_ENV
    from tfbench.leaderboard.submissions import MAX_BUNDLE_BYTES

    if not 1 <= args.port <= 65535:
        raise TfbenchError(f"--port must be 1-65535, got {args.port}")
    path = _store_path(args).resolve()
    _open(args).close()  # create or migrate now, so a bad store fails here with one clear line
    import tfbench.leaderboard

    app = Path(tfbench.leaderboard.__file__).resolve().parent / "app.py"
    command = [sys.executable, "-m", "streamlit", "run", str(app), "--server.headless", "true",
               "--server.port", str(args.port), "--server.address", args.address,
               "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
               "--client.toolbarMode", "viewer",
               "--server.maxUploadSize", str(max(1, MAX_BUNDLE_BYTES // 2**20))]
    print(f"tfbench leaderboard: serving {path} on http://{args.address}:{args.port}", flush=True)
    env = {**os.environ, STORE_ENV: str(path)}
    if os.name == "posix":  # become the server, so stopping this process stops it
        os.execve(sys.executable, command, env)
    try:
        return subprocess.call(command, env=env)
    except KeyboardInterrupt:
        return 0


def _file(path: str, what: str) -> bytes:
    from tfbench.errors import TfbenchError

    p = Path(path)
    if not p.is_file():
        raise TfbenchError(f"{what} not found: {p}")
    return p.read_bytes()


def import_runs(args: argparse.Namespace) -> int:
    from tfbench.leaderboard.importing import import_paths

    with _open(args) as store:
        for outcome in import_paths(store, args.paths):
            if outcome.status == "skipped":
                print(f"skipped    {outcome.key.label()}: {outcome.note}")
            else:
                print(f"{outcome.status:9s} #{outcome.result_id} {outcome.key.label()} ({outcome.instances} instances)")
        print(f"{store.count()} rows in {store.path}")
    return 0


def import_reference(args: argparse.Namespace) -> int:
    from tfbench.leaderboard.reference import import_reference as run

    with _open(args) as store:
        for outcome in run(store, args.csv):
            print(f"{outcome.status:9s} #{outcome.result_id} {outcome.key.label()}")
    return 0


def pending(args: argparse.Namespace) -> int:
    with _open(args) as store:
        queue = store.submissions("pending")
    if not queue:
        print("no pending submissions")
    for s in queue:
        print(f"#{s.id}  {s.submitted_at}  {s.spec} @ {s.resolution} on {s.suite}  "
              f"bundle {s.bundle_bytes:,} bytes  {s.note}")
    return 0


def approve(args: argparse.Namespace) -> int:
    from tfbench.leaderboard.submissions import approve as run

    with _open(args) as store:
        outcome = run(store, args.id)
    print(f"approved submission #{args.id}: {outcome.status} row #{outcome.result_id} {outcome.key.label()} "
          f"({outcome.instances} instances)")
    return 0


def reject(args: argparse.Namespace) -> int:
    from tfbench.leaderboard.submissions import reject as run

    with _open(args) as store:
        run(store, args.id)
    print(f"rejected submission #{args.id}")
    return 0


def export(args: argparse.Namespace) -> int:
    from tfbench.leaderboard.table import Filters, apply_filters, flatten, sort_table, to_csv, to_markdown

    with _open(args) as store:
        frame = flatten(store.results())
    frame = sort_table(apply_filters(frame, Filters(resolutions=args.resolution, pin_baselines=False)), "T-ACC")
    text = to_csv(frame) if args.format == "csv" else to_markdown(frame)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {len(frame)} rows to {args.output}")
    else:
        sys.stdout.write(text)
    return 0


def submit(args: argparse.Namespace) -> int:
    from tfbench.leaderboard.submissions import submit as run

    results = _file(args.file, "results file")
    bundle = _file(args.bundle, "bundle zip") if args.bundle else None
    with _open(args) as store:
        sid = run(store, results, bundle, args.note)
    print(f"accepted as submission #{sid} (pending); a maintainer runs `tfbench leaderboard approve {sid}`")
    return 0
