"""One person's traces in the files beside the warehouse: dlt load packages, webhook
landing files, logs, dbt's work folder.

Load packages are history (dlt reads only its state and schemas on the next run), so a
package holding the person goes whole; compressed job files are searched decompressed.
Line files (webhook landings, logs) keep their size with the person's lines blanked.
"""

from __future__ import annotations

import gzip
import os
import shutil
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

DLT_DIR = ".dlt_pipelines"
# dlt package stages: load/{new,normalized,loaded}/<id>, normalize/extracted/<id>, ...
PACKAGE_PARENTS = frozenset({"new", "normalized", "loaded", "extracted"})


@dataclass
class FileResult:
    packages_removed: int = 0
    lines_removed: int = 0
    files_rewritten: int = 0
    # Files still holding the person that this module does not know how to clean.
    left: list[Path] = field(default_factory=list)


def needles(email: str, long_ids: Iterable[str]) -> list[bytes]:
    return [email.encode(), *(i.encode() for i in sorted(long_ids))]


def holds(path: Path, patterns: list[bytes]) -> bool:
    data = _content(path).lower()
    return any(p.lower() in data for p in patterns)


def _content(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError:
        return b""
    if data[:2] == b"\x1f\x8b":  # gzip (dlt's insert_values jobs)
        try:
            return data + gzip.decompress(data)
        except (OSError, EOFError, zlib.error):
            return data
    return data


def files(folder: Path) -> Iterator[Path]:
    for root, _dirs, names in os.walk(folder):
        for name in names:
            yield Path(root) / name


def _package_of(path: Path, folder: Path) -> Path | None:
    parts = path.relative_to(folder).parts
    if DLT_DIR not in parts:
        return None
    for i, part in enumerate(parts[:-1]):
        if part in PACKAGE_PARENTS and i + 2 < len(parts):
            return folder.joinpath(*parts[: i + 2])
    return None


def clean(folder: Path, patterns: list[bytes], *, skip: set[Path], apply: bool) -> FileResult:
    """Remove the person from every file under `folder` except `skip` (the databases,
    handled in SQL); with `apply` false only count."""
    result = FileResult()
    packages: set[Path] = set()
    for path in sorted(files(folder)):
        if path in skip or not holds(path, patterns):
            continue
        package = _package_of(path, folder)
        if package is not None:
            packages.add(package)
            continue
        removed = _blank_lines(path, patterns, apply=apply)
        if removed is None:
            result.left.append(path)
        else:
            result.lines_removed += removed
            result.files_rewritten += 1
    result.packages_removed = len(packages)
    if apply:
        for package in packages:
            shutil.rmtree(package, ignore_errors=True)
        result.left = [p for p in result.left if p.exists() and holds(p, patterns)]
    return result


def _blank_lines(path: Path, patterns: list[bytes], *, apply: bool) -> int | None:
    """Blank, in place, the lines of a line file (webhook landing JSONL, logs) that hold the
    person; None for a file whose lines are not records (binary, or one JSON document).

    Blanked with spaces of the same length rather than cut out: the LMS extract keeps a byte
    offset per landing file in dlt state (and skips blank lines), and the webhook receiver
    may append meanwhile (O_APPEND writes at the end, never over our in-place writes)."""
    data = path.read_bytes()
    if b"\x00" in data or data[:2] == b"\x1f\x8b" or path.suffix == ".json":
        return None
    spans: list[tuple[int, int]] = []  # (offset, length without the line break)
    offset = 0
    for line in data.splitlines(keepends=True):
        if any(p.lower() in line.lower() for p in patterns):
            spans.append((offset, len(line.rstrip(b"\r\n"))))
        offset += len(line)
    if apply and spans:
        with path.open("r+b") as handle:
            for start, length in spans:
                handle.seek(start)
                handle.write(b" " * length)
            handle.flush()
            os.fsync(handle.fileno())
    return len(spans)
