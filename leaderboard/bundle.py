"""Submitted files as bytes: the results.json and the zip of a run folder's records and crops.

Everything is checked before it is stored: size limits (one limit per file, ``UPLOAD_LIMITS``, stated the
same in the app, the CLI and the README), strict JSON (no NaN), the results schema, and for the zip every
entry name (no absolute paths, ``..``, backslashes, drive letters or links: zip-slip), entry count, total
and per-entry size and compression ratio (zip bombs), PNG signatures and sizes. Nothing is ever extracted
to disk and nothing is ever unpickled: the zip is kept as bytes and read entry by entry.
"""
from __future__ import annotations

import io
import json
import re
import stat
import zipfile
import zlib
from dataclasses import dataclass
from typing import Any

from tfbench.errors import TfbenchError
from tfbench.leaderboard.limits import MIB, UPLOAD_LIMITS, limit_text
from tfbench.leaderboard.instances import MAX_CROP_BYTES, MAX_CROP_SIDE, Instance, from_records, png_size
from tfbench.leaderboard.schema import validate_results

MAX_BUNDLE_ENTRIES = 20_000
MAX_UNCOMPRESSED_BYTES = 256 * MIB
MAX_RECORDS_BYTES = 64 * MIB
MAX_COMPRESSION_RATIO = 100
_ALLOWED = re.compile(r"^(records\.jsonl|run\.json|results\.json|crops/[A-Za-z0-9=.,+_-]{1,200}/[wf]\d{1,6}\.(orig|recon)\.png)$")


class SubmissionError(TfbenchError, ValueError):
    """A submitted file breaks a rule; the message says which and what to do."""


def check_size(raw: bytes, what: str, name: str) -> None:
    if len(raw) > UPLOAD_LIMITS[what]:
        raise SubmissionError(f"{name} is {len(raw):,} bytes; the limit for a {what} is {limit_text(what)}. "
                              f"Nothing was submitted")


def _reject_constant(name: str) -> float:
    raise SubmissionError(f"results.json contains {name}; only finite numbers are accepted")


def parse_results(raw: bytes, name: str = "results.json") -> dict[str, Any]:
    """Bytes of a results.json -> validated dict (size limit, UTF-8, strict JSON, schema)."""
    check_size(raw, "results.json", name)
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError as exc:
        raise SubmissionError(f"{name} is not UTF-8 text (byte {exc.start}); upload the results.json a run wrote") from exc
    except json.JSONDecodeError as exc:
        raise SubmissionError(f"{name} is not valid JSON (line {exc.lineno}: {exc.msg})") from exc
    return validate_results(data, name)


def _entry_name(info: zipfile.ZipInfo) -> str:
    name = info.filename
    parts = name.split("/")
    if (not name or "\x00" in name or "\\" in name or name.startswith("/") or re.match(r"^[A-Za-z]:", name)
            or any(p in ("..", ".") for p in parts)):
        raise SubmissionError(f"zip entry {name!r} has an unsafe path (absolute, '..', backslash or drive); "
                              f"zip the run folder's records.jsonl and crops/ as relative paths")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise SubmissionError(f"zip entry {name!r} is a symbolic link; links are not accepted")
    if info.flag_bits & 0x1:
        raise SubmissionError(f"zip entry {name!r} is encrypted; encrypted zips are not accepted")
    return name


@dataclass
class Bundle:
    """A validated zip of one run folder's records.jsonl and crops/, kept in memory."""

    zf: zipfile.ZipFile  # open on the bytes in memory
    names: dict[str, zipfile.ZipInfo]  # relative name (common top folder stripped) -> entry

    def read(self, rel: str) -> bytes | None:
        info = self.names.get(rel)
        if info is None:
            return None
        limit = MAX_RECORDS_BYTES if rel == "records.jsonl" else MAX_CROP_BYTES
        try:
            with self.zf.open(info) as f:
                data = f.read(limit + 1)  # never trust the declared size alone
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
            raise SubmissionError(f"zip entry {info.filename!r} cannot be read ({exc})") from exc
        if len(data) > limit:
            raise SubmissionError(f"zip entry {info.filename!r} is larger than its limit ({limit:,} bytes)")
        return data

    def records(self) -> list[dict[str, Any]]:
        """The records of records.jsonl (empty when the zip has none); a malformed line is one clear error."""
        raw = self.read("records.jsonl")
        if raw is None:
            return []
        records = []
        for n, line in enumerate(raw.decode("utf-8", errors="replace").splitlines(), 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line, parse_constant=_reject_constant)
            except json.JSONDecodeError as exc:
                raise SubmissionError(f"records.jsonl line {n} is not valid JSON ({exc.msg})") from exc
            if not isinstance(rec, dict) or "image" not in rec:
                raise SubmissionError(f"records.jsonl line {n} is not a record (an object with `image`)")
            records.append(rec)
        return records

    def instances(self, records: list[dict[str, Any]] | None = None) -> list[Instance]:
        crops = {k for k in self.names if k.startswith("crops/")}
        return from_records(self.records() if records is None else records,
                            lambda rel: self.read(rel) if rel in crops else None)


def parse_bundle(raw: bytes, name: str = "bundle.zip") -> Bundle:
    """Bytes of a zip -> :class:`Bundle`, or one SubmissionError naming the first broken rule."""
    check_size(raw, "bundle zip", name)
    try:
        zf = zipfile.ZipFile(io.BytesIO(raw))
    except zipfile.BadZipFile as exc:
        raise SubmissionError(f"{name} is not a zip file ({exc})") from exc
    try:
        return _checked_bundle(zf, name)
    except BaseException:
        zf.close()
        raise


def _checked_bundle(zf: zipfile.ZipFile, name: str) -> Bundle:
    """Every rule on the entries of an opened zip; reads each PNG's header through the size-limited reader."""
    infos = zf.infolist()
    if len(infos) > MAX_BUNDLE_ENTRIES:
        raise SubmissionError(f"{name} has {len(infos):,} entries; the limit is {MAX_BUNDLE_ENTRIES:,}")
    files = [(_entry_name(i), i) for i in infos]
    files = [(n, i) for n, i in files if not i.is_dir()]
    total = sum(i.file_size for _, i in files)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise SubmissionError(f"{name} unpacks to {total:,} bytes; the limit is {MAX_UNCOMPRESSED_BYTES:,}")
    for n, i in files:
        if i.file_size > MAX_COMPRESSION_RATIO * max(i.compress_size, 1024):
            raise SubmissionError(f"zip entry {n!r} expands {i.file_size / max(i.compress_size, 1):.0f}x; "
                                  f"refused as a possible zip bomb")
    tops = {n.split("/", 1)[0] for n, _ in files}
    strip = ""
    if len(tops) == 1 and tops != {"crops"} and all("/" in n for n, _ in files):
        strip = f"{tops.pop()}/"  # the run folder itself was zipped
    names: dict[str, zipfile.ZipInfo] = {}
    for n, i in files:
        rel = n[len(strip):]
        if not _ALLOWED.match(rel):
            raise SubmissionError(f"zip entry {n!r} is not part of a run folder; a bundle holds only "
                                  f"records.jsonl, run.json, results.json and crops/<image>/<w|f><i>.<orig|recon>.png")
        names[rel] = i
    bundle = Bundle(zf, names)
    for rel in names:
        if rel.endswith(".png"):
            size = png_size(bundle.read(rel) or b"")
            if size is None:
                raise SubmissionError(f"zip entry {rel!r} is not a PNG file")
            if not (0 < size[0] <= MAX_CROP_SIDE and 0 < size[1] <= MAX_CROP_SIDE):
                raise SubmissionError(f"zip entry {rel!r} is {size[0]}x{size[1]} pixels; crops are at most "
                                      f"{MAX_CROP_SIDE}x{MAX_CROP_SIDE}")
    return bundle
