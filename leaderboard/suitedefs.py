"""Suites the board knows: name, version, manifest sha256, resolutions, bucket edges and ground truth.

A suite is registered once per (name, version) from its manifest (``tfbench leaderboard suite add``, or
on the first import of a run of a suite this machine can load by name) and never changes afterwards.
Verification reads it to refuse results at a resolution the suite does not define, with other bucket
edges, or from another manifest under a known name, and to check every record against the ground truth
(words' texts and scales, faces' scales: ``truth``).
"""
from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from typing import Any

from tfbench.errors import TfbenchError
from tfbench.leaderboard.store import Store, now


class SuiteError(TfbenchError, ValueError):
    """Results do not match the suite they name; the message says what differs."""


# truth: {image id: {frame (str, "-1" for images): {"words": [[text, ratio, unreadable], ...], "faces": [ratio, ...],
#                                                    "excluded_faces": [ratio, ...]}}}
# (unreadable: the suite's curation marked the word unreadable on the original; excluded faces have no landmarks)
Truth = dict[str, dict[str, dict[str, list[Any]]]]


@dataclass(frozen=True)
class SuiteDef:
    name: str
    version: str
    manifest_sha256: str
    modality: str
    resolutions: tuple[str, ...]
    buckets: dict[str, dict[str, list[float]]]  # side -> resolution -> edges
    truth: Truth
    instances: int

    def edges(self, side: str, resolution: str) -> list[float]:
        return self.buckets[side][resolution]


def _frame_truth(record: Any) -> dict[str, list[Any]]:
    return {"words": [[w.text, round(w.ratio, 6), bool(getattr(w, "unreadable", False))] for w in record.words],
            "faces": [round(f.ratio, 6) for f in record.faces],
            "excluded_faces": [round(f.ratio, 6) for f in getattr(record, "excluded_faces", ())]}


def from_suite(suite: Any) -> SuiteDef:
    """A loaded :class:`tfbench.manifest.Suite` or :class:`tfbench.video.manifest.VideoSuite` -> SuiteDef."""
    if not suite.manifest_sha256:
        raise SuiteError(f"suite {suite.name!r} was not loaded from a manifest file, so it has no manifest "
                         f"checksum; register it from its manifest.json")
    truth: Truth = {}
    if suite.modality == "video":
        for clip in suite.clips:
            frames = {str(a.frame): _frame_truth(a.record) for a in clip.annotations}
            if any(f["words"] or f["faces"] or f["excluded_faces"] for f in frames.values()):
                truth[clip.id] = frames
    else:
        for rec in suite.images:
            if rec.words or rec.faces or getattr(rec, "excluded_faces", ()):  # else the pipeline writes no record
                truth[rec.id] = {"-1": _frame_truth(rec)}
    buckets: dict[str, dict[str, list[float]]] = {"text": {}, "face": {}}
    resolutions = []
    for res in suite.resolutions:
        try:
            edges = {side: list(suite.edges(side, res)) for side in ("text", "face")}
        except TfbenchError:
            continue  # a resolution listed without edges cannot be run
        resolutions.append(str(res))
        for side, e in edges.items():
            buckets[side][str(res)] = e
    count = sum(len(f["words"]) + len(f["faces"]) for frames in truth.values() for f in frames.values())
    return SuiteDef(suite.name, str(suite.version), suite.manifest_sha256, suite.modality, tuple(resolutions),
                    buckets, truth, count)


def register(store: Store, definition: SuiteDef, origin: str = "") -> str:
    """Store a suite definition; ``"added"`` or ``"unchanged"``. A known (name, version) never changes."""
    with store.write() as db:
        row = db.execute("SELECT manifest_sha256 FROM suites WHERE name = ? AND version = ?",
                         (definition.name, definition.version)).fetchone()
        if row is not None:
            if row["manifest_sha256"] != definition.manifest_sha256:
                raise SuiteError(f"suite {definition.name} v{definition.version} is registered with manifest sha256 "
                                 f"{row['manifest_sha256']}; this manifest is {definition.manifest_sha256}. A changed "
                                 f"suite needs a new version number")
            return "unchanged"
        db.execute("INSERT INTO suites (name, version, manifest_sha256, modality, resolutions, buckets, truth, "
                   "instances, registered_at, origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (definition.name, definition.version, definition.manifest_sha256, definition.modality,
                    json.dumps(list(definition.resolutions)), json.dumps(definition.buckets),
                    zlib.compress(json.dumps(definition.truth, ensure_ascii=False).encode("utf-8")),
                    definition.instances, now(), origin[:500]))
    return "added"


def _row_to_def(row: Any) -> SuiteDef:
    return SuiteDef(row["name"], row["version"], row["manifest_sha256"], row["modality"],
                    tuple(json.loads(row["resolutions"])), json.loads(row["buckets"]),
                    json.loads(zlib.decompress(row["truth"]).decode("utf-8")), int(row["instances"]))


def known(store: Store, name: str) -> list[SuiteDef]:
    rows = store.db.execute("SELECT * FROM suites WHERE name = ? ORDER BY version", (name,)).fetchall()
    return [_row_to_def(r) for r in rows]


def listing(store: Store) -> list[dict[str, Any]]:
    rows = store.db.execute("SELECT name, version, manifest_sha256, modality, resolutions, buckets, instances, "
                            "registered_at FROM suites ORDER BY name, version").fetchall()
    return [{**dict(r), "resolutions": json.loads(r["resolutions"]), "buckets": json.loads(r["buckets"])} for r in rows]


def load_definition(name: str, data_root: str | None = None) -> SuiteDef:
    """A suite's definition from its manifest file (images are not needed) or, for a built-in name, from tfbench."""
    from pathlib import Path

    from tfbench.manifest import load_suite_file
    from tfbench.suites import load_suite
    from tfbench.video.manifest import load_video_suite_file, video_manifest_path

    path = Path(name)
    if path.is_dir():
        path = path / "manifest.json"
    if path.is_file():
        video = video_manifest_path(path)
        return from_suite(load_video_suite_file(video, data_root) if video else load_suite_file(path, data_root))
    return from_suite(load_suite(name, data_root))


def load_and_register(store: Store, name: str, data_root: str | None = None) -> tuple[SuiteDef, str]:
    """Load a suite by manifest path or built-in name (builds `mini`/`mini-video` if needed) and register it."""
    definition = load_definition(name, data_root)
    return definition, register(store, definition, origin=str(name))


def lookup(store: Store, suite: dict[str, Any], *, load: bool = False) -> SuiteDef:
    """The registered definition of the suite a result names, or one SuiteError saying why there is none.

    With ``load`` a suite name this board does not know yet is loaded with tfbench; the caller registers
    it (:func:`register`) once the results it came with are verified, so a refusal changes nothing.
    """
    name, version, sha = str(suite.get("name")), str(suite.get("version")), suite.get("manifest_sha256")
    if not sha:
        raise SuiteError(f"the results carry no suite.manifest_sha256 (made before tfbench recorded it), so the "
                         f"suite they were computed on cannot be identified; rerun them with this tfbench")
    defs = known(store, name)
    if not defs and load:
        try:
            loaded = load_definition(name)
        except TfbenchError as exc:
            raise SuiteError(f"suite {name!r} is not registered on this board and cannot be loaded here ({exc}); "
                             f"register its manifest: tfbench leaderboard suite add PATH/manifest.json") from exc
        defs = [loaded]  # a different manifest is refused below
    if not defs:
        raise SuiteError(f"suite {name!r} is not registered on this board; a maintainer registers its manifest "
                         f"with `tfbench leaderboard suite add PATH/manifest.json`")
    same = [d for d in defs if d.version == version]
    if not same:
        raise SuiteError(f"suite {name!r} is known here as version(s) {', '.join(d.version for d in defs)}, not "
                         f"version {version}; register that version's manifest first")
    definition = same[0]
    if definition.manifest_sha256 != sha:
        raise SuiteError(f"suite {name} v{version} is known with manifest sha256 {definition.manifest_sha256}, but "
                         f"the results were computed on a manifest with sha256 {sha}: another suite under a known "
                         f"name cannot be ranked with it")
    return definition


def check_identity(definition: SuiteDef, data: dict[str, Any]) -> None:
    """Resolution defined by the suite, modality and bucket edges equal to the suite's."""
    suite = data["suite"]
    res = str(suite["resolution"])
    if res not in definition.resolutions:
        raise SuiteError(f"suite {definition.name} v{definition.version} defines resolutions "
                         f"{', '.join(definition.resolutions)}; the results claim resolution {res}")
    if suite.get("modality", "image") != definition.modality:
        raise SuiteError(f"suite {definition.name} is a {definition.modality} suite; the results say "
                         f"{suite.get('modality', 'image')}")
    buckets = data.get("buckets")
    if not isinstance(buckets, dict):
        raise SuiteError("the results carry no bucket edges (`buckets`); rerun them with this tfbench")
    for side in ("text", "face"):
        want = definition.edges(side, res)
        if [float(e) for e in buckets.get(side) or []] != [float(e) for e in want]:
            raise SuiteError(f"buckets.{side} = {buckets.get(side)} differ from suite {definition.name}'s {side} "
                             f"edges at resolution {res}: {want}")
