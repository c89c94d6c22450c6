"""One home for the two log formats (`log_format: eval | json`): pick a writer, read either back.

Readers take a finished log or an unfinished one (what its journal holds so far), stream samples
one at a time, and never need inspect_ai.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, Protocol

from engine._secrets import Redactor
from engine.logs._eval_zip import (
    ENTRY,
    HEADER_JSON,
    START_JSON,
    EvalLogWriter,
    part_path,
    read_part_sample,
)
from engine.logs._resume import Recovered
from engine.logs._writer import LogWriter, journal_path

__all__ = [
    "LOG_SUFFIXES",
    "LogFormat",
    "LogSink",
    "iter_log_samples",
    "log_writer",
    "read_log",
    "read_log_header",
]

LogFormat = Literal["eval", "json"]
LOG_SUFFIXES = (".eval", ".json")


class LogSink(Protocol):
    """What the runner writes a log through, whatever its format."""

    path: Path
    journal_path: Path
    header: dict[str, Any]
    redact: Redactor

    def recover(self, selected: set[str] | None = None) -> Recovered: ...
    def start(self) -> None: ...
    def write_sample(self, sample: dict[str, Any]) -> None: ...
    def finish(
        self,
        status: str,
        results: dict[str, Any] | None,
        stats: dict[str, Any],
        error: dict[str, Any] | None = None,
        reductions: list[dict[str, Any]] | None = None,
    ) -> None: ...


def log_writer(path: Path, header: dict[str, Any], redact: Redactor | None = None) -> LogSink:
    """The writer for `path`'s format (by its suffix: `.eval` or `.json`)."""
    if path.suffix == ".eval":
        return EvalLogWriter(path, header, redact)
    return LogWriter(path, header, redact)


def read_log_header(path: Path) -> dict[str, Any]:
    """The log without its samples: version, status, eval, plan, results, stats (as far as
    written). An unfinished `.eval` log has only its start (status `started`)."""
    if path.suffix != ".eval":
        log = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(log, dict):
            raise TypeError(f"a JSON object was expected, found {type(log).__name__}")
        log.pop("samples", None)
        return log
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        if HEADER_JSON in names:
            header: dict[str, Any] = json.loads(archive.read(HEADER_JSON))
            return header
        return {"status": "started", **json.loads(archive.read(START_JSON))}


def _journal_lines(journal: Path) -> Iterator[dict[str, Any]]:
    if not journal.exists():
        return
    with journal.open(encoding="utf-8") as lines:
        for line in lines:
            if line.endswith("\n"):  # a torn last line is not a sample
                yield json.loads(line)


def iter_log_samples(path: Path) -> Iterator[dict[str, Any]]:
    """Every sample of the log, one at a time; for an unfinished run, those scored so far."""
    if path.suffix != ".eval":
        samples = json.loads(path.read_text(encoding="utf-8")).get("samples")
        if samples:
            yield from samples
        else:
            yield from _journal_lines(journal_path(path))
        return
    with zipfile.ZipFile(path) as archive:
        names = [name for name in archive.namelist() if name.startswith("samples/")]
        finished = HEADER_JSON in archive.namelist()
        for name in dict.fromkeys(names):
            yield json.loads(archive.read(name))
    if finished:
        return
    part = part_path(path)
    if not part.exists():
        return
    with part.open("rb") as source:
        for record in _journal_lines(journal_path(path)):
            yield json.loads(read_part_sample(source, record[ENTRY]))


def read_log(path: Path) -> dict[str, Any]:
    """The whole log as one dict, samples included (for small logs and tests)."""
    log = read_log_header(path)
    log["samples"] = list(iter_log_samples(path))
    return log
