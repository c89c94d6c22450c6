"""What a run wrote, as a leak check must read it: an `.eval` log is a zip of compressed entries,
so a secret inside it is invisible to a plain byte search."""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path


def contents(paths: Iterable[Path]) -> Iterator[tuple[str, bytes]]:
    """(where, bytes) for each file, and for each entry of a zip file, decompressed."""
    for path in paths:
        if not path.is_file():
            continue
        yield str(path), path.read_bytes()
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                for name in archive.namelist():
                    yield f"{path}!{name}", archive.read(name)


def found_in(value: str, paths: Iterable[Path]) -> list[str]:
    """Where `value` appears in the files (zip entries included): [] when nowhere."""
    wanted = value.encode()
    return [where for where, data in contents(paths) if wanted in data]
