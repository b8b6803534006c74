"""Import run folders (``OUT/<suite>/<spec>@<res>/``) into the store: results.json, records and kept crops."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from tfbench.errors import ResultsError
from tfbench.leaderboard.instances import folder_reader, from_records
from tfbench.leaderboard.schema import row_key, validate_results
from tfbench.leaderboard.store import ImportOutcome, Store
from tfbench.records import read_records
from tfbench.results import find_results, load_results


def import_run(store: Store, results_path: Path, source: str = "run", label: str | None = None) -> ImportOutcome:
    """One run: its results.json, plus the instances of records.jsonl and the crop pairs beside it, if any.

    Results of a single shard (``config.shard``) are skipped: they hold part of the images only.
    """
    data = load_results(results_path)
    folder = Path(data["_path"]).parent
    shard = (data.get("config") or {}).get("shard")
    if shard:  # one shard's partial numbers would overwrite the whole run's row
        return ImportOutcome("skipped", 0, row_key(validate_results(data, str(results_path))), 0,
                             f"shard {shard} of a sharded run; import the folder `tfbench merge` writes")
    records = read_records(folder / "records.jsonl")
    instances = from_records(records, folder_reader(folder))
    return store.import_results(data, instances, source=source, label=label, origin=str(folder))


def import_paths(store: Store, paths: Iterable[str | Path], source: str = "run",
                 label: str | None = None) -> list[ImportOutcome]:
    """Every results.json at or below ``paths`` (files or folders), in path order."""
    paths = list(paths)
    files = find_results(paths)
    if not files:
        raise ResultsError(f"no results.json under {' '.join(map(str, paths))}")
    return [import_run(store, f, source, label) for f in files]
