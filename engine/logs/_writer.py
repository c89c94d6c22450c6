"""Inspect-format EvalLog JSON, written so that nothing scored is lost.

Each scored sample is appended to a journal (`<log>.samples.jsonl`) the moment it is scored. The log
itself is written at the start with status `started`, and at the end rebuilt from the journal by
streaming (samples are never all held in memory) and replaced atomically. The journal is removed
after a successful run and kept after any other, so the same command resumes from it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import orjson

from engine._secrets import Redactor
from engine.logs._transcript import event_time

if TYPE_CHECKING:
    from engine.logs._resume import Recovered

LOG_VERSION = 2


utc_now = event_time
"""Now, UTC, as Inspect writes a log's times."""


_ORJSON_AS_JSON = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME
"""Dataclasses and datetimes go to `_as_json_writes`, as the standard library sends them there."""


def _as_json_writes(value: Any) -> Any:
    """orjson's `default`: what it does not write itself, as `json.dumps(…, default=str)` writes
    it. A float subclass (numpy's `float64`, which scorers return) is a number to `json`, so it
    stays one; anything else is its `str`."""
    return float(value) if isinstance(value, float) else str(value)


def _json_dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _dumps(value: Any) -> str:
    """Compact JSON text of a log record, as `_json_dumps` makes it but about 10× faster (a sample
    is among the engine's hottest work): orjson. Floats are written in their shortest form, as
    Inspect writes them (`5.2e-05` as `0.000052`). What orjson would write otherwise goes to the
    standard library: it writes NaN and ±Infinity as `null` (Inspect and `json` as `NaN`,
    `Infinity`), and refuses an int beyond 64 bits, a key that is not a string, a lone surrogate
    and nesting deeper than 255. (An `Enum` that is neither a `str` nor an `int` is written as its
    value, not as `str(member)`.)"""
    try:
        text = orjson.dumps(value, default=_as_json_writes, option=_ORJSON_AS_JSON)
    except orjson.JSONEncodeError:
        return _json_dumps(value)
    if b"null" in text:  # a None, or a NaN or ±Infinity written as one
        return _json_dumps(value)
    return text.decode()


def _loads(text: str) -> Any:
    """`json.loads(text)`, by orjson (3× faster on a journal line) where it can: it refuses the
    `NaN`, `Infinity` and ints beyond 64 bits that the standard library reads, and those, like
    text that is no JSON, go to `json.loads`."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def reductions_json(reductions: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """The log's `reductions` as JSON text in pieces, the same text `_dumps` makes of the whole
    list; each record's `samples` is read as a stream (see `eval_reductions`)."""
    yield "["
    for index, record in enumerate(reductions):
        yield "," if index else ""
        for place, (key, value) in enumerate(record.items()):
            yield ("," if place else "{") + _dumps(key) + ":"
            if key != "samples":
                yield _dumps(value)
                continue
            yield "["
            for number, sample in enumerate(value):
                yield ("," if number else "") + _dumps(sample)
            yield "]"
        yield "}" if record else "{}"
    yield "]"


def batched_text(pieces: Iterable[str], size: int = 1 << 16) -> Iterator[str]:
    """`pieces` joined into runs of about `size` characters: fewer, larger writes."""
    run: list[str] = []
    length = 0
    for piece in pieces:
        run.append(piece)
        length += len(piece)
        if length >= size:
            yield "".join(run)
            run, length = [], 0
    if run:
        yield "".join(run)


def journal_path(log_path: Path) -> Path:
    return log_path.with_name(log_path.stem + ".samples.jsonl")


class LogWriter:
    def __init__(self, path: Path, header: dict[str, Any], redact: Redactor | None = None) -> None:
        """`header` holds `eval` and `plan`; `results` and `stats` come at the end."""
        self.path = path
        self.journal_path = journal_path(path)
        self.header = header
        self.redact = redact or Redactor()
        self._journal: TextIO | None = None

    def recover(self, selected: set[str] | None = None) -> Recovered:
        """What an interrupted run of this log scored (its journal, cleaned; `selected`: the ids
        the run selects, as `recover_journal` takes them)."""
        from engine.logs._resume import recover_journal

        return recover_journal(self.journal_path, selected)

    def start(self) -> None:
        """The log with status `started` and the samples a resumed journal already holds (an
        interrupted run's log is never replaced by one with fewer samples)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        started = {"version": LOG_VERSION, "status": "started", **self.header}
        self._write_log(started, self._journal_lines())
        self._journal = self.journal_path.open("a", encoding="utf-8")

    def write_sample(self, sample: dict[str, Any]) -> None:
        """Append one scored sample; flushed so that a killed run keeps it."""
        assert self._journal is not None, "start() first"
        self._journal.write(self.redact(_dumps(sample)) + "\n")
        self._journal.flush()

    def finish(
        self,
        status: str,
        results: dict[str, Any] | None,
        stats: dict[str, Any],
        error: dict[str, Any] | None = None,
        reductions: list[dict[str, Any]] | None = None,
    ) -> None:
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        log: dict[str, Any] = {"version": LOG_VERSION, "status": status, **self.header}
        if results is not None:
            log["results"] = results
        log["stats"] = stats
        if error is not None:
            log["error"] = error
        if reductions is not None:
            log["reductions"] = reductions
        self._write_log(log, self._journal_lines())
        if status == "success":
            self.journal_path.unlink(missing_ok=True)  # kept otherwise: a rerun resumes from it

    def _journal_lines(self) -> Iterator[str]:
        if not self.journal_path.exists():
            return
        with self.journal_path.open(encoding="utf-8") as journal:
            for line in journal:
                if line.endswith("\n"):  # a torn last line from a crash is not a sample
                    yield line[:-1]

    def _write_log(self, log: dict[str, Any], samples: Iterator[str]) -> None:
        """Write `log` with a `samples` array streamed from `samples`, then swap it in atomically.
        Its `reductions` (the last key, when there) are streamed too."""
        temporary = self.path.with_name(f".{self.path.name}.tmp")
        reductions = log.pop("reductions", None)
        with temporary.open("w", encoding="utf-8") as out:
            out.write(self.redact(_dumps(log))[:-1])
            if reductions is not None:
                out.write(',"reductions":')
                for text in batched_text(reductions_json(reductions)):
                    out.write(self.redact(text))
            out.write(',"samples":[')
            for index, line in enumerate(samples):
                if index:
                    out.write(",")
                out.write(line)
            out.write("]}")
            out.flush()
            os.fsync(out.fileno())
        temporary.replace(self.path)
