"""TokBench (HF dataset ``Junfeng5/TokBench``, CC-BY-4.0): download, import into manifests, load.

Layout read (as published)::

    ROOT/annotations/text_{ic13,ic15,tt,textocr,cord,sroie,infograph,docvqa}.json
        [{file_name, height, width, annotations: [{rec, bbox (x0,y0,x1,y1 | 4x2 polygon), ratio}]}]
    ROOT/images/text_data/<set>/<file_name>
    ROOT/annotations/face_meta.json
        [{image_name, img_height, img_width, faces: [{kps (5x2), box (x0,y0,x1,y1), ratio, gt}]}]
    ROOT/images/face_data/<image_name>       (or images/face_data/wflw/<image_name>)

The shipped ``ratio`` values are kept (they define the paper's buckets). Each text set becomes the
``subset`` of its images and faces are subset ``face``, so results.json reports every set and the
pooled total (mean of bucket means), like the paper. Manifests are written beside the data
(``ROOT/tokbench.json``, ``tokbench-text.json``, ``tokbench-face.json``), so image paths are
relative to ROOT. The video annotations (``video_annotations/``) are imported by the video module.
"""
from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from tfbench.cache import cache_dir
from tfbench.datasets.checksums import ChecksumCache, env_data_root, verify_suite
from tfbench.datasets.common import (ImportReport, Where, box_of, box_or_polygon, clip_box, finite_numbers, image_size,
                                     pairs, positive_int, write_manifest)
from tfbench.datasets.curation import Curator, face_section, progress
from tfbench.errors import ManifestError, MissingWeightsError
from tfbench.images import load_rgb
from tfbench.jsonfile import read_json
from tfbench.manifest import Suite, load_suite_file

HF_REPO = "Junfeng5/TokBench"
LICENSE = "CC-BY-4.0"
CITATION = ("Junfeng Wu et al., TokBench: Evaluating Your Visual Tokenizer before Visual Generation, "
            "arXiv:2505.18142, 2025")
TEXT_SETS: tuple[str, ...] = ("ic13", "ic15", "tt", "textocr", "cord", "sroie", "infograph", "docvqa")
FACE_SET = "face"
SUITE_SETS: dict[str, tuple[str, ...]] = {
    "tokbench": TEXT_SETS + (FACE_SET,),
    "tokbench-text": TEXT_SETS,
    "tokbench-face": (FACE_SET,),
}
RESOLUTIONS = ["256", "512", "1024"]
IMPORTER_VERSION = "2"  # 2: words curated with the scoring OCR (marked unreadable, not scored by default)


def text_annotations(root: Path, name: str) -> Path:
    return Path(root) / "annotations" / f"text_{name}.json"


def face_annotations(root: Path) -> Path:
    return Path(root) / "annotations" / "face_meta.json"


def read_annotation(path: Path, what: str) -> Any:
    """An annotation JSON of the download: ManifestError naming the file (missing: what to do)."""
    return read_json(path, ManifestError, f"{path} not found: {what}")


class _Policy:
    """Strict by default (first invalid instance stops the import); ``skip`` drops and counts instead."""

    def __init__(self, report: ImportReport, skip: bool) -> None:
        self.report, self.skip = report, skip

    def invalid(self, where: Where, fld: str, reason: str, detail: str) -> None:
        if not self.skip:
            raise where.fail(fld, f"{reason}: {detail} (fix the annotation, or import with --skip-invalid to drop "
                                  f"and count such instances)")
        self.report.drop(reason, where.at(fld))


def _list_of_records(data: Any, path: Path) -> list:
    if not isinstance(data, list):
        raise ManifestError(f"{path}: top level: expected a list of image records, got {type(data).__name__}")
    return data


def _word(raw: Any, where: Where, width: int, height: int, policy: _Policy) -> dict | None:
    if not isinstance(raw, dict):
        policy.invalid(where, "", "malformed instance", "expected an object with rec, bbox, ratio")
        return None
    text = raw.get("rec")
    if not isinstance(text, str) or not text.strip():
        policy.invalid(where, "rec", "empty transcription", f"got {text!r}")
        return None
    pts = box_or_polygon(where, "bbox", raw.get("bbox"))
    ratio = raw.get("ratio")
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not ratio > 0:
        raise where.fail("ratio", f"expected a positive number (TokBench ships one per instance), got {ratio!r}")
    box = pts if len(pts) == 4 else box_of(pts)
    clipped, changed = clip_box(box, width, height)
    if clipped[2] <= clipped[0] or clipped[3] <= clipped[1]:
        policy.invalid(where, "bbox", "box outside the image", f"{pts} has no area inside the {width}x{height} image")
        return None
    item: dict[str, Any] = {"text": text, "ratio": float(ratio)}
    if len(pts) == 4:
        item["box"] = clipped
    else:
        item["polygon"] = pairs([min(max(v, 0.0), width if k % 2 == 0 else height) for k, v in enumerate(pts)])
    if changed:
        policy.report.clipped += 1
    return item


@dataclass(frozen=True)
class _Layout:
    """How one TokBench annotation file names an image's fields, and how its items are read."""
    name: str
    width: str
    height: str
    items: str
    item_fields: str  # what one item holds, for the error line
    kind: str  # "words" or "faces": the manifest field the items go to
    empty: str  # why an image without any valid item is dropped (the import report's reason)
    item: Callable[[Any, Where, int, int, _Policy], dict | None]


def _images(path: Path, root: Path, layout: _Layout, subset: str, locate: Callable[[Where, str], str],
            policy: _Policy, cache: ChecksumCache) -> list[dict]:
    """The manifest entries of one annotation file; ``locate`` gives an image's path relative to ``root``."""
    data = _list_of_records(read_annotation(path, f"the TokBench download is incomplete (rerun `tfbench data download "
                                            f"tokbench`) or {root} is not a TokBench folder"), path)
    out = []
    for i, raw in enumerate(data):
        where = Where(path, f"[{i}]")
        if not isinstance(raw, dict):
            raise where.fail("", f"expected an object with {layout.name}, {layout.height}, {layout.width}, "
                                 f"{layout.items}")
        name = raw.get(layout.name)
        if not isinstance(name, str) or not name:
            raise where.fail(layout.name, "missing image name")
        where = Where(path, f"[{i}] ({name})")
        width = positive_int(where, layout.width, raw.get(layout.width))
        height = positive_int(where, layout.height, raw.get(layout.height))
        file = locate(where, name)
        real = image_size(where, layout.name, root / file)
        if real != (width, height):
            policy.invalid(where, layout.width, "size mismatch", f"the annotation says {width}x{height}, "
                                                                 f"{root / file} is {real[0]}x{real[1]}")
            continue
        raw_items = raw.get(layout.items)
        if not isinstance(raw_items, list):
            raise where.fail(layout.items, f"expected a list of {{{layout.item_fields}}}")
        items = [x for j, a in enumerate(raw_items)
                 if (x := layout.item(a, Where(path, f"[{i}] ({name}).{layout.items}[{j}]"), width, height, policy))]
        if not items:
            policy.report.drop(layout.empty, where.at(layout.items))
            continue
        out.append({"id": file, "file": file, "width": width, "height": height, "subset": subset,
                    "sha256": cache.sha256(root / file), layout.kind: items})
        policy.report.count(subset, *((len(items), 0) if layout.kind == "words" else (0, len(items))))
    return out


def _text_images(root: Path, name: str, policy: _Policy, cache: ChecksumCache) -> list[dict]:
    layout = _Layout("file_name", "width", "height", "annotations", "rec, bbox, ratio", "words",
                     "image without any valid text instance", _word)
    return _images(text_annotations(root, name), root, layout, name,
                   lambda where, file_name: f"images/text_data/{name}/{file_name}", policy, cache)


def _face_file(root: Path, name: str) -> str | None:
    for rel in (f"images/face_data/{name}", f"images/face_data/wflw/{name}"):
        if (root / rel).is_file():
            return rel
    return None


def _face(raw: Any, where: Where, width: int, height: int, policy: _Policy) -> dict | None:
    if not isinstance(raw, dict):
        policy.invalid(where, "", "malformed instance", "expected an object with kps, box, ratio")
        return None
    kps = finite_numbers(where, "kps", raw.get("kps"), (10,))
    ratio = raw.get("ratio")
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not ratio > 0:
        raise where.fail("ratio", f"expected a positive number (TokBench ships one per face), got {ratio!r}")
    if any(not (-1 <= x <= width + 1) for x in kps[0::2]) or any(not (-1 <= y <= height + 1) for y in kps[1::2]):
        policy.invalid(where, "kps", "landmarks outside the image", f"{kps} in a {width}x{height} image")
        return None
    item: dict[str, Any] = {"landmarks": [kps[k:k + 2] for k in range(0, 10, 2)], "ratio": float(ratio)}
    if raw.get("box") is not None:
        box, changed = clip_box(finite_numbers(where, "box", raw["box"], (4,)), width, height)
        if box[2] <= box[0] or box[3] <= box[1]:
            policy.invalid(where, "box", "box outside the image", f"{raw['box']} has no area inside the image")
            return None
        policy.report.clipped += int(changed)
        item["box"] = box
    return item


def _face_images(root: Path, policy: _Policy, cache: ChecksumCache) -> list[dict]:
    def locate(where: Where, name: str) -> str:
        file = _face_file(root, name)
        if file is None:
            raise where.fail("image_name", f"image not found under {root / 'images/face_data'} "
                                           f"(looked for {name} and wflw/{name})")
        return file

    layout = _Layout("image_name", "img_width", "img_height", "faces", "kps, box, ratio", "faces",
                     "image without any valid face", _face)
    return _images(face_annotations(root), root, layout, FACE_SET, locate, policy, cache)


def import_tokbench(root: Path, out_dir: Path | None = None, sets: tuple[str, ...] | None = None,
                    skip_invalid: bool = False, cache: ChecksumCache | None = None,
                    ocr: Any | None = None) -> tuple[dict[str, Path], ImportReport]:
    """Convert a TokBench folder into the suites whose sets were imported; returns {suite: manifest path}.

    Every word is read on its original by ``ocr`` (default RapidOCR, the scoring backend) and marked
    unreadable when misread (:mod:`tfbench.datasets.curation`); TokBench ships landmarks for every face.
    """
    root = Path(root).expanduser().resolve()
    if not root.is_dir():
        raise ManifestError(f"{root} is not a folder; give the TokBench root (the one holding annotations/ and images/)")
    sets = tuple(sets or SUITE_SETS["tokbench"])
    unknown = [s for s in sets if s not in SUITE_SETS["tokbench"]]
    if unknown:
        raise ManifestError(f"unknown TokBench set(s) {unknown}; known: {', '.join(SUITE_SETS['tokbench'])}")
    report = ImportReport()
    policy = _Policy(report, skip_invalid)
    own = cache is None
    cache = cache or ChecksumCache()
    try:
        images: dict[str, list[dict]] = {}
        for s in sets:
            images[s] = _face_images(root, policy, cache) if s == FACE_SET else _text_images(root, s, policy, cache)
    finally:
        if own:
            cache.save()
    curator = Curator(ocr)
    text_images = [img for s in sets if s != FACE_SET for img in images[s]]
    for img in progress(text_images, len(text_images), "curating"):
        curator.mark(load_rgb(root / img["file"]), img["words"])
    report.curation = {"text": curator.section() if text_images else None,
                       "face": face_section(report.faces, 0, "shipped with TokBench") if FACE_SET in sets else None}
    out_dir = Path(out_dir) if out_dir else root
    sources = {str(p.relative_to(root)): cache.sha256(p) for p in
               [text_annotations(root, s) for s in sets if s != FACE_SET] + ([face_annotations(root)] if FACE_SET in sets else [])}
    written = {}
    for suite, members in SUITE_SETS.items():
        if not set(members) <= set(sets):
            continue
        manifest = {
            "name": suite, "version": IMPORTER_VERSION, "modality": "image", "license": LICENSE, "citation": CITATION,
            "description": f"TokBench ({HF_REPO}) sets {', '.join(members)}, imported by tfbench with the shipped "
                           f"per-instance ratios",
            "resolutions": RESOLUTIONS,
            "source": {"dataset": HF_REPO, "annotations": sources, "importer": f"tfbench.datasets.tokbench/{IMPORTER_VERSION}"},
            "curation": {"text": report.curation["text"] if set(members) - {FACE_SET} else None,
                         "face": report.curation["face"] if FACE_SET in members else None},
            "import": report.to_dict(),
            "images": [img for s in members for img in images[s]],
        }
        written[suite] = write_manifest(out_dir / f"{suite}.json", manifest, root)
    return written, report


# ------------------------------------------------------------------ loading by suite name


def _loader(name: str) -> Callable[[Path | None], Suite]:
    def load(data_root: str | Path | None = None) -> Suite:
        root = Path(data_root).expanduser() if data_root else env_data_root()
        if root is None:
            raise ManifestError(f"suite {name!r} needs the TokBench data: `tfbench data download tokbench --dir DIR` "
                                f"and `tfbench data import tokbench DIR`, then pass --data-root DIR (or set "
                                f"TFBENCH_DATA_ROOT=DIR)")
        manifest = root / f"{name}.json"
        if not manifest.is_file():
            hint = (f"run `tfbench data import tokbench {root}` first" if (root / "annotations").is_dir()
                    else f"{root} holds no TokBench data: `tfbench data download tokbench --dir {root}`, then "
                         f"`tfbench data import tokbench {root}`")
            raise ManifestError(f"suite {name!r}: {manifest} not found; {hint}")
        suite = load_suite_file(manifest, root)
        verify_suite(suite)
        return suite

    load.__name__ = f"load_{name.replace('-', '_')}"
    return load


load_tokbench = _loader("tokbench")
load_tokbench_text = _loader("tokbench-text")
load_tokbench_face = _loader("tokbench-face")


# ------------------------------------------------------------------ download


def default_download_dir() -> Path:
    return env_data_root() or cache_dir() / "data" / "tokbench"


IMAGE_PATTERNS = ["annotations/*", "images/*", "README.md", "LICENSE*"]


def download_tokbench(dest: Path | None = None, revision: str | None = None, timeout: float = 10.0,
                      patterns: list[str] | None = None) -> Path:
    """Fetch the dataset with huggingface_hub (resumable: finished files are kept, partial ones resumed).

    ``patterns`` selects files (default: the image benchmark; the video importer passes its own).
    """
    dest = Path(dest).expanduser() if dest else default_download_dir()
    try:
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError
    except ImportError as exc:
        raise MissingWeightsError("downloading TokBench needs huggingface_hub: pip install 'tfbench[data]' "
                                  "(or pip install huggingface_hub)") from exc
    host = os.environ.get("HF_ENDPOINT", "https://huggingface.co").split("//")[-1].split("/")[0]
    try:  # fail in seconds, not after the hub client's retries, when there is no network at all
        socket.create_connection((host.split(":")[0], 443), timeout=timeout).close()
    except OSError as exc:
        raise MissingWeightsError(
            f"cannot reach {host} ({exc}); TokBench ({HF_REPO}) must be downloaded on a machine with network: "
            f"`huggingface-cli download {HF_REPO} --repo-type dataset --local-dir DIR` (or `tfbench data download "
            f"tokbench --dir DIR`), copy DIR here and run `tfbench data import tokbench DIR`") from exc
    dest.mkdir(parents=True, exist_ok=True)
    try:
        snapshot_download(repo_id=HF_REPO, repo_type="dataset", local_dir=str(dest), revision=revision,
                          allow_patterns=patterns or IMAGE_PATTERNS)
    except (HfHubHTTPError, LocalEntryNotFoundError, OSError) as exc:
        raise MissingWeightsError(f"downloading {HF_REPO} into {dest} failed: {exc}. Rerun the same command to "
                                  f"resume (finished files are kept)") from exc
    return dest
