"""`tfbench leaderboard [import|reference|suite|submit|pending|approve|reject|export|backup|restore]`.

Without a subcommand, `tfbench leaderboard` serves the Streamlit app (headless, public mode) on the store.
`tfbench submit` is kept as an alias of `tfbench leaderboard submit`.
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


def _sample(value: str) -> int | None:
    """``--sample N`` (N >= 200) or ``all``."""
    if value == "all":
        return None
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of crops (at least 200) or 'all', got {value!r}") from None
    if n < 200:
        raise argparse.ArgumentTypeError(f"a re-read sample is at least 200 crops (or 'all'), got {n}")
    return n


def _add_submit(sub: argparse._SubParsersAction, name: str, help_text: str, top: bool) -> None:
    from tfbench.leaderboard.limits import limit_text

    s = sub.add_parser(name, help=help_text, description="The same checks as the app's Submit page: size limits "
                       f"(results.json {limit_text('results.json')}, zip {limit_text('bundle zip')}), schema, zip "
                       "safety, suite identity, one pending entry per content, the per-client hourly limit.")
    s.add_argument("file", metavar="FILE", help="results.json written by `tfbench run`")
    s.add_argument("--bundle", default=None, metavar="ZIP", help="zip of the run folder's records.jsonl and crops/")
    s.add_argument("--results-only", action="store_true", help="submit without records (listed unverified, never ranked)")
    s.add_argument("--note", default="", help="note for the maintainer")
    s.add_argument("--client", default=None, help="who submits, for the rate limit (default: cli:$USER)")
    _store_arg(s, top=top)
    s.set_defaults(func=submit)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("leaderboard", help="serve the Streamlit leaderboard, or manage its store (import, approve, export)",
                       description="Without a subcommand: serve the leaderboard app (headless, public mode) on the store.")
    _store_arg(p, top=True)
    p.add_argument("--port", type=int, default=8501, help="port to serve on (default: 8501)")
    p.add_argument("--address", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.set_defaults(func=serve)
    lb = p.add_subparsers(dest="leaderboard_command", metavar="SUBCOMMAND")

    q = lb.add_parser("import", help="import run folders, verified against their records (every results.json below DIR)")
    q.add_argument("paths", nargs="+", metavar="DIR")
    q.add_argument("--sample", type=_sample, default=0, metavar="N|all",
                   help="also re-read N (>= 200) or all kept crops with the declared OCR/face models (default: none)")
    q.add_argument("--unverified", action="store_true", help="import without checking (rows listed unverified, never ranked)")
    _store_arg(q)
    q.set_defaults(func=import_runs)

    q = lb.add_parser("reference", help="import published numbers (default: the shipped TokBench paper leaderboard)")
    q.add_argument("csv", metavar="CSV", nargs="?", default=None, help="a CSV in the paper's format (see reference.py)")
    q.add_argument("--group", default=None, help="name of the published group (required with a CSV)")
    _store_arg(q)
    q.set_defaults(func=import_reference)

    q = lb.add_parser("suite", help="register a suite (manifest or built-in name) or list the registered ones")
    q.add_argument("action", choices=["add", "list"])
    q.add_argument("suite", nargs="?", metavar="NAME|MANIFEST")
    q.add_argument("--data-root", default=None, help="data root of the suite's images (as for tfbench run)")
    _store_arg(q)
    q.set_defaults(func=suite)

    q = lb.add_parser("pending", help="list pending submissions and what approving each would change")
    _store_arg(q)
    q.set_defaults(func=pending)

    q = lb.add_parser("approve", help="verify a pending submission and add it as a row (or its next version)")
    q.add_argument("id", type=int, metavar="ID")
    q.add_argument("--sample", type=_sample, default=200, metavar="N|all",
                   help="crops to re-read with the declared models (at least 200, default 200; 'all')")
    q.add_argument("--dry-run", action="store_true", help="verify and show the change, store nothing")
    _store_arg(q)
    q.set_defaults(func=approve)

    q = lb.add_parser("reject", help="reject a pending submission")
    q.add_argument("id", type=int, metavar="ID")
    q.add_argument("--reason", default="", help="why (kept with the submission)")
    _store_arg(q)
    q.set_defaults(func=reject)

    q = lb.add_parser("export", help="print (or write) the ranked table of one suite and resolution as CSV or Markdown")
    q.add_argument("--format", choices=["csv", "md"], default="md")
    q.add_argument("--suite", default=None, help="suite as the table names it, e.g. 'mini v1' (default: most rows)")
    q.add_argument("--resolution", "-r", default=None, metavar="R", help="resolution (default: the suite's with most rows)")
    q.add_argument("--output", "-o", default=None, metavar="FILE", help="write to FILE instead of stdout")
    q.add_argument("--by", default=None, metavar="METRIC",
                   help="metric whose mean ranks the rows (default: the first board metric, T-ACC); a row whose mean "
                        "is undefined (an empty bucket) gets no rank and comes last")
    _store_arg(q)
    q.set_defaults(func=export)

    q = lb.add_parser("backup", help="write a consistent copy of the whole store (rows, versions, crops, queue, suites)")
    q.add_argument("dest", metavar="FILE")
    _store_arg(q)
    q.set_defaults(func=backup)

    q = lb.add_parser("restore", help="restore a backup into a new store file (--store, which must not exist)")
    q.add_argument("backup", metavar="FILE")
    _store_arg(q)
    q.set_defaults(func=restore)

    _add_submit(lb, "submit", "queue a results.json and its records/crops zip for approval", top=False)
    _add_submit(sub, "submit", "alias of `tfbench leaderboard submit`", top=True)


def serve(args: argparse.Namespace) -> int:
    from tfbench.errors import TfbenchError
    from tfbench.leaderboard.limits import MAX_BUNDLE_BYTES, MIB
    from tfbench.leaderboard.context import STORE_ENV

    if not 1 <= args.port <= 65535:
        raise TfbenchError(f"--port must be 1-65535, got {args.port}")
    path = _store_path(args).resolve()
    _open(args).close()  # create or migrate now, so a bad store fails here with one clear line
    import tfbench.leaderboard

    app = Path(tfbench.leaderboard.__file__).resolve().parent / "app.py"
    command = [sys.executable, "-m", "streamlit", "run", str(app), "--server.headless", "true",
               "--server.port", str(args.port), "--server.address", args.address,
               "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
               "--client.toolbarMode", "viewer", "--client.showErrorDetails", "none",
               "--server.maxUploadSize", str(MAX_BUNDLE_BYTES // MIB)]
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


def _outcome_line(outcome) -> str:
    if outcome.status == "skipped":
        return f"skipped     {outcome.key.label()}: {outcome.note}"
    note = f"; {outcome.note}" if outcome.note else ""
    return (f"{outcome.status:11s} #{outcome.result_id} {outcome.key.label()} version {outcome.version} "
            f"({outcome.instances} instances{note})")


def import_runs(args: argparse.Namespace) -> int:
    from tfbench.leaderboard.importing import import_paths

    with _open(args) as store:
        for outcome in import_paths(store, args.paths, sample=args.sample, unverified=args.unverified):
            print(_outcome_line(outcome))
        print(f"{store.count()} rows (all versions) in {store.path}")
    return 0


def import_reference(args: argparse.Namespace) -> int:
    from tfbench.leaderboard.reference import import_reference as run

    with _open(args) as store:
        outcomes = run(store, args.csv, args.group)
    for outcome in outcomes:
        print(_outcome_line(outcome))
    return 0


def suite(args: argparse.Namespace) -> int:
    from tfbench.errors import TfbenchError
    from tfbench.leaderboard.suitedefs import listing, load_and_register

    with _open(args) as store:
        if args.action == "add":
            if not args.suite:
                raise TfbenchError("`suite add` needs a suite name or manifest path")
            definition, status = load_and_register(store, args.suite, args.data_root)
            print(f"{status}: suite {definition.name} v{definition.version} (manifest sha256 "
                  f"{definition.manifest_sha256}; resolutions {', '.join(definition.resolutions)}; "
                  f"{len(definition.truth)} images, {definition.instances} instances)")
            return 0
        for s in listing(store):
            print(f"{s['name']} v{s['version']}  {s['modality']}  resolutions {', '.join(s['resolutions'])}  "
                  f"{s['instances']} instances  sha256 {s['manifest_sha256']}")
    return 0


def pending(args: argparse.Namespace) -> int:
    from tfbench.errors import TfbenchError
    from tfbench.leaderboard import queue
    from tfbench.leaderboard.submissions import preview

    with _open(args) as store:
        waiting = queue.listing(store, "pending")
        if not waiting:
            print("no pending submissions")
        for s in waiting:
            print(f"#{s.id}  {s.submitted_at}  from {s.client or '?'}  zip {s.bundle_bytes:,} bytes  note: {s.note or '-'}")
            try:
                print("\n".join(f"  {line}" for line in preview(store, s.id).lines()))
            except TfbenchError as exc:
                print(f"  cannot be read: {exc}")
    return 0


def approve(args: argparse.Namespace) -> int:
    from tfbench.leaderboard.submissions import approve as run, preview

    with _open(args) as store:
        print("\n".join(preview(store, args.id).lines()), flush=True)  # what would change, before anything changes
        done = run(store, args.id, sample=args.sample, dry_run=args.dry_run)
    crops = done.report.get("crops")
    if crops:
        print(f"re-read {crops['reread']} of {crops['of']} crops ({crops['words']} words, {crops['faces']} faces; "
              f"seed {crops['seed']}): readings equal, F-Sim within {crops['face_tolerance']:g} "
              f"(largest difference {crops['face_max_abs_diff']:.1e}); {crops['cpu_s']} s CPU")
    if done.outcome is None:
        print(f"dry run: submission #{args.id} passes; nothing was stored")
        return 0
    status = "verified" if "aggregates" in done.report else "unverified"
    print(f"approved submission #{args.id}: {_outcome_line(done.outcome)}, {status}")
    return 0


def reject(args: argparse.Namespace) -> int:
    from tfbench.leaderboard.submissions import reject as run

    with _open(args) as store:
        run(store, args.id, args.reason)
    print(f"rejected submission #{args.id}")
    return 0


def export(args: argparse.Namespace) -> int:
    from tfbench.errors import TfbenchError
    from tfbench.leaderboard.columns import rank_metrics
    from tfbench.leaderboard.table import Selection, default_selection, flatten, ranked, selections, to_csv, to_markdown

    if args.by is not None and args.by not in rank_metrics():
        raise TfbenchError(f"--by {args.by!r}: the board ranks by one of {', '.join(rank_metrics())}")
    with _open(args) as store:
        frame = flatten(store.results(latest=True))
    default = default_selection(frame)
    if default is None:
        raise TfbenchError("the store holds no verified row to rank")
    wanted = [s for s, _ in selections(frame) if s.suite == (args.suite or default.suite)
              and (args.resolution is None or s.res == args.resolution)]
    if not wanted:
        raise TfbenchError(f"no verified rows of suite {args.suite or default.suite!r} at resolution {args.resolution}; "
                           f"choose from: {', '.join(s.label() for s, _ in selections(frame))}")
    sel: Selection = default if (args.suite is None and args.resolution is None) else wanted[0]
    table = ranked(frame, sel, args.by)
    text = to_csv(table) if args.format == "csv" else to_markdown(table)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {len(table)} rows of {sel.label()} to {args.output}")
    else:
        sys.stdout.write(text)
    return 0


def backup(args: argparse.Namespace) -> int:
    with _open(args) as store:
        dest = store.backup(args.dest)
        fingerprint = store.fingerprint()
    print(f"wrote {dest} (content sha256 {fingerprint})")
    return 0


def restore(args: argparse.Namespace) -> int:
    import sqlite3

    from tfbench.errors import TfbenchError
    from tfbench.leaderboard.store import Store, fingerprint_of

    target = _store_path(args)
    if target.exists():
        raise TfbenchError(f"{target} exists; restore into a new store file (--store NEW.sqlite)")
    if not Path(args.backup).is_file():
        raise TfbenchError(f"backup not found: {args.backup}")
    source = sqlite3.connect(f"file:{Path(args.backup).resolve()}?mode=ro", uri=True)  # the backup stays as it is
    try:
        if source.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise TfbenchError(f"{args.backup} fails SQLite's integrity check; it cannot be restored")
        fingerprint = fingerprint_of(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
            same = fingerprint_of(copy) == fingerprint
        finally:
            copy.close()
    except sqlite3.DatabaseError as exc:
        raise TfbenchError(f"{args.backup} is not a leaderboard backup ({exc})") from exc
    finally:
        source.close()
    if not same:
        raise TfbenchError(f"the restored store {target} differs from {args.backup}")
    Store(target).close()  # migrate a backup of an older schema now
    print(f"restored {args.backup} into {target} (content sha256 {fingerprint})")
    return 0


def submit(args: argparse.Namespace) -> int:
    from tfbench.errors import TfbenchError
    from tfbench.leaderboard.submissions import submit as run

    if args.bundle is None and not args.results_only:
        raise TfbenchError("no --bundle ZIP given: a ranked submission carries its records and crops; add "
                           "--results-only to be listed unverified")
    results = _file(args.file, "results file")
    bundle = _file(args.bundle, "bundle zip") if args.bundle else None
    client = args.client or f"cli:{os.environ.get('USER', 'unknown')}"
    with _open(args) as store:
        queued = run(store, results, bundle, args.note, client)
    if queued.duplicate:
        print(f"already pending as submission #{queued.id} (identical content); nothing new was queued")
    else:
        print(f"accepted as submission #{queued.id} (pending); a maintainer runs `tfbench leaderboard approve {queued.id}`")
    return 0
