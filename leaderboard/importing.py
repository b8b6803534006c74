"""Import run folders (``OUT/<suite>/<spec>@<res>/``) into the store: results.json, records and kept crops.

An import is verified like an approval (:func:`tfbench.leaderboard.verify.verify_row`): the numbers must
follow from the run's records.jsonl and the suite it names; ``sample`` re-reads kept crops too. A run
folder without records is refused unless ``unverified`` is asked for (then the row is never ranked). A
suite this board does not know yet is registered when tfbench can load it by name here.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from tfbench.errors import ResultsError
from tfbench.leaderboard.instances import folder_reader, from_records
from tfbench.leaderboard.schema import row_key, validate_results
from tfbench.leaderboard.store import ImportOutcome, Store
from tfbench.leaderboard.verify import VerificationError, verify_row
from tfbench.records import read_records
from tfbench.results import find_results, load_results


def import_run(store: Store, results_path: Path, *, sample: int | None = 0, unverified: bool = False,
               source: str = "run", label: str | None = None) -> ImportOutcome:
    """One run: its results.json, plus the instances of records.jsonl and the crop pairs beside it, if any.

    Results of a single shard (``config.shard``) are skipped: they hold part of the images only.
    """
    data = load_results(results_path)
    folder = Path(data["_path"]).parent
    shard = (data.get("config") or {}).get("shard")
    if shard:  # one shard's numbers are part of a run, never a row
        return ImportOutcome("skipped", 0, row_key(validate_results(data, str(results_path))), 0,
                             f"shard {shard} of a sharded run; import the folder `tfbench merge` writes")
    journal = folder / "records.jsonl"
    records = read_records(journal) if journal.is_file() else []
    instances = from_records(records, folder_reader(folder))
    data = validate_results({k: v for k, v in data.items() if not k.startswith("_")}, str(results_path))
    if unverified:
        return store.import_results(data, instances, source=source, status="unverified", label=label,
                                    origin=str(folder), verification={"unverified": "imported with --unverified"})
    if not records:
        raise VerificationError(f"{folder} has no records.jsonl: its numbers cannot be checked. Import the whole run "
                                f"folder, or add --unverified to list it without a rank")
    try:
        report = verify_row(store, data, records, instances, sample=sample, load_suites=True)
    except VerificationError as exc:
        raise VerificationError(f"{results_path}: {exc}") from exc
    return store.import_results(data, instances, source=source, status="verified", label=label, origin=str(folder),
                                verification=report)


def import_paths(store: Store, paths: Iterable[str | Path], **options) -> list[ImportOutcome]:
    """Every results.json at or below ``paths`` (files or folders), in path order; stops at the first refusal."""
    paths = list(paths)
    files = find_results(paths)
    if not files:
        raise ResultsError(f"no results.json under {' '.join(map(str, paths))}")
    return [import_run(store, f, **options) for f in files]
