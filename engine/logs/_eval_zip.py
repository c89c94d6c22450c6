"""Inspect's `.eval` log (a zip), written sample by sample and resumable after a kill.

Layout, as `inspect_ai.log._recorders.eval` reads it:

    _journal/start.json    {version, eval, plan}: enough to show a run in progress
    samples/ID_epoch_N.json  one entry per scored sample (with its events)
    summaries.json         every sample's summary: a viewer lists samples from it alone
    reductions.json        the epoch-reduced score of each sample, per scorer and reducer
    header.json            the whole log but its samples: eval, plan, results, stats, status

While the run goes, the log's own path holds a zip with only `_journal/start.json` (Inspect's
in-progress form), and the samples are appended, compressed, to a hidden `.NAME.part` file the
moment each is scored; its journal (`NAME.samples.jsonl`) gets one line per sample: the summary
plus where the entry lies in the part file. `finish` appends the summaries, reductions, header and
the zip's central directory to the part file, syncs it and renames it over the log (atomic).

A killed run leaves the part file without a central directory; a cancelled or failed one leaves
the finished log. Either way the journal says which entries are whole, so the next identical
command truncates what follows the last of them and appends the rest of the samples.
"""

from __future__ import annotations

import json
import os
import struct
import time
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from engine._secrets import Redactor
from engine.logs._resume import Recovered, recover_journal
from engine.logs._summary import sample_summary
from engine.logs._writer import (
    LOG_VERSION,
    _dumps,
    _loads,
    batched_text,
    journal_path,
    reductions_json,
)

__all__ = [
    "HEADER_JSON",
    "START_JSON",
    "SUMMARIES_JSON",
    "EvalLogWriter",
    "part_path",
    "read_part_sample",
    "sample_entry_name",
]

START_JSON = "_journal/start.json"
HEADER_JSON = "header.json"
SUMMARIES_JSON = "summaries.json"
REDUCTIONS_JSON = "reductions.json"
ENTRY = "_entry"
"""The journal line's key for where the sample's zip entry lies in the part file."""
_COMPRESSION = zipfile.ZIP_DEFLATED
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")


def part_path(log_path: Path) -> Path:
    return log_path.with_name(f".{log_path.name}.part")


def sample_entry_name(sample_id: Any, epoch: int) -> str:
    return f"samples/{sample_id}_epoch_{epoch}.json"


_LOOKAHEAD = 262
"""zlib's MIN_LOOKAHEAD: a window reaches `window - 262` bytes back."""


def _deflate(data: bytes) -> bytes:
    """What `zipfile` writes for `data` (raw deflate, default level), byte for byte, with a window
    no larger than `data` needs: setting up a 32 kB window's state costs more than compressing a
    sample of a few kB. The window still spans all of `data` and deflate's lookahead, so no match
    is lost (`tests/logs/test_eval_zip.py` holds it to zipfile's bytes)."""
    bits = min(15, max(9, (len(data) + _LOOKAHEAD - 1).bit_length()))
    compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -bits)
    return compressor.compress(data) + compressor.flush()


def _zip_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, time.localtime()[:6])
    info.compress_type = _COMPRESSION
    info.external_attr = 0o644 << 16
    return info


def _entry_record(info: zipfile.ZipInfo, end: int) -> dict[str, Any]:
    return {
        "name": info.filename,
        "offset": info.header_offset,
        "end": end,
        "crc": info.CRC,
        "csize": info.compress_size,
        "size": info.file_size,
        "time": list(info.date_time),
        "flags": info.flag_bits,
        "version": info.extract_version,
    }


def _entry_info(record: dict[str, Any]) -> zipfile.ZipInfo:
    info = _zip_info(record["name"])
    info.date_time = tuple(record["time"])
    info.header_offset = record["offset"]
    info.CRC = record["crc"]
    info.compress_size = record["csize"]
    info.file_size = record["size"]
    info.flag_bits = record["flags"]
    info.extract_version = info.create_version = record["version"]
    return info


def read_part_sample(source: IO[bytes], record: dict[str, Any]) -> bytes:
    """The JSON of one sample entry, read at its journaled offset (no central directory needed)."""
    source.seek(record["offset"])
    header = source.read(_LOCAL_HEADER.size)
    fields = _LOCAL_HEADER.unpack(header)
    if fields[0] != b"PK\x03\x04":
        raise ValueError(f"no zip entry at offset {record['offset']} for {record['name']}")
    source.seek(record["offset"] + _LOCAL_HEADER.size + fields[-2] + fields[-1])
    return zlib.decompress(source.read(record["csize"]), -15)


def _journal_lines(journal: Path) -> Iterator[str]:
    """The journal's whole lines (a torn last line from a kill is no record)."""
    if not journal.exists():
        return
    with journal.open(encoding="utf-8") as lines:
        for line in lines:
            if line.endswith("\n"):
                yield line


def _journal_records(journal: Path) -> Iterator[dict[str, Any]]:
    return map(_loads, _journal_lines(journal))


class _JournaledEntries:
    """The zip's file list at `finish`: the entries written since `start`, then every sample's,
    made from the journal one at a time while the central directory is written, then the ones
    `finish` adds. `zipfile` only appends to its file list, iterates it and takes its length;
    a list of 100,000 `ZipInfo` would be about 50 MB, held until the log is closed."""

    def __init__(self, head: list[zipfile.ZipInfo], journal: Path) -> None:
        self.head = head
        self.journal = journal
        self.samples = sum(1 for _ in _journal_lines(journal))
        self.tail: list[zipfile.ZipInfo] = []

    def append(self, info: zipfile.ZipInfo) -> None:
        self.tail.append(info)

    def __len__(self) -> int:
        return len(self.head) + self.samples + len(self.tail)

    def __iter__(self) -> Iterator[zipfile.ZipInfo]:
        yield from self.head
        yield from (_entry_info(record[ENTRY]) for record in _journal_records(self.journal))
        yield from self.tail


def _entries_intact(source: Path, journal: Path) -> int | None:
    """Where the last journaled entry ends, if every journaled entry is in `source`; else None."""
    end = 0
    try:
        with source.open("rb") as data:
            size = data.seek(0, os.SEEK_END)
            for record in _journal_records(journal):
                entry = record[ENTRY]
                if entry["end"] > size:
                    return None
                data.seek(entry["offset"])
                if data.read(4) != b"PK\x03\x04":
                    return None
                end = max(end, entry["end"])
    except (OSError, KeyError, TypeError):
        return None
    return end


class EvalLogWriter:
    """Same interface as the JSON `LogWriter`: `recover`, `start`, `write_sample`, `finish`."""

    def __init__(self, path: Path, header: dict[str, Any], redact: Redactor | None = None) -> None:
        """`header` holds `eval` and `plan`; `results` and `stats` come at the end."""
        self.path = path
        self.part_path = part_path(path)
        self.journal_path = journal_path(path)
        self.header = header
        self.redact = redact or Redactor()
        self._part: IO[bytes] | None = None
        self._zip: zipfile.ZipFile | None = None
        self._journal: IO[str] | None = None
        self._resume_at: int | None = None

    def recover(self, selected: set[str] | None = None) -> Recovered:
        """What an interrupted run of this log scored; its entries are kept for `start` (only
        the journaled ones are listed in the finished log)."""
        recovered = recover_journal(self.journal_path, selected)
        if not recovered.done:
            self.journal_path.unlink(missing_ok=True)
            return recovered
        source = self.part_path if self.part_path.exists() else self.path
        end = _entries_intact(source, self.journal_path) if source.exists() else None
        if end is None:  # the samples' entries are gone: nothing can be kept
            self.journal_path.unlink(missing_ok=True)
            return Recovered()
        if source != self.part_path:  # a finished (cancelled) log: its entries come first
            os.replace(source, self.part_path)
        self._resume_at = end
        return recovered

    def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        start = {"version": LOG_VERSION, **self.header}
        self._write_placeholder(start)
        if self._resume_at is not None:
            self._part = self.part_path.open("r+b")
            self._part.truncate(self._resume_at)
            self._part.seek(self._resume_at)
            self._zip = zipfile.ZipFile(self._part, "w", _COMPRESSION)
            self._zip.writestr(_zip_info(START_JSON), self.redact(_dumps(start)))
        else:
            self._part = self.part_path.open("w+b")
            self._zip = zipfile.ZipFile(self._part, "w", _COMPRESSION)
            self._zip.writestr(_zip_info(START_JSON), self.redact(_dumps(start)))
            self.journal_path.unlink(missing_ok=True)
        self._part.flush()
        self._journal = self.journal_path.open("a", encoding="utf-8")

    def _write_placeholder(self, start: dict[str, Any]) -> None:
        """The log's path during the run: Inspect's in-progress form (start.json only)."""
        temporary = self.path.with_name(f".{self.path.name}.tmp")
        with zipfile.ZipFile(temporary, "w", _COMPRESSION) as placeholder:
            placeholder.writestr(_zip_info(START_JSON), self.redact(_dumps(start)))
        os.replace(temporary, self.path)

    def write_sample(self, sample: dict[str, Any]) -> None:
        """Append one scored sample to the part file, then its line to the journal (flushed).

        The entry is not listed in the `ZipFile` (100,000 of them would be 30 MB held to the
        end): `finish` lists the entries for the central directory from the journal."""
        assert self._journal is not None
        text = self.redact(_dumps(sample)).encode()
        entry = _zip_info(sample_entry_name(sample["id"], sample["epoch"]))
        entry.CRC, entry.file_size = zlib.crc32(text), len(text)
        data = _deflate(text)
        entry.compress_size = len(data)
        end = self._append(entry, data)
        line = {**sample_summary(sample), ENTRY: _entry_record(entry, end)}
        self._journal.write(self.redact(_dumps(line)) + "\n")
        self._journal.flush()

    def _append(self, entry: zipfile.ZipInfo, data: bytes) -> int:
        """Write `entry`'s local header (its sizes and CRC set) and its compressed `data` where
        the central directory would start, flushed; where it ends."""
        assert self._zip is not None and self._part is not None
        self._part.seek(self._zip.start_dir)
        entry.header_offset = self._part.tell()
        self._part.write(entry.FileHeader())
        self._part.write(data)
        self._zip.start_dir = self._part.tell()
        self._part.flush()
        return self._zip.start_dir

    def copy_samples(
        self, source: Path, skip: set[tuple[str, int]] | None = None
    ) -> Iterator[dict[str, Any]] | None:
        """The samples of the finished `.eval` log `source` appended as they are stored (still
        compressed, not redacted again: they were when written), each yielded as its summary
        once copied; a merge of shards neither decompresses nor recompresses a sample. None when
        `source` is no finished `.eval` with an entry for each summary (then read the samples).
        A sample listed twice is taken once, at its first place, with its last entry, as
        `iter_log_samples` reads it. `skip`: (id as text, epoch) of samples not to copy."""
        if source.suffix != ".eval":
            return None
        archive = zipfile.ZipFile(source)
        try:
            names = set(archive.namelist())
            if HEADER_JSON not in names or SUMMARIES_JSON not in names:
                archive.close()
                return None
            listed: dict[str, dict[str, Any]] = {}
            for summary in json.loads(archive.read(SUMMARIES_JSON)):
                listed[sample_entry_name(summary["id"], summary["epoch"])] = summary
            if not names.issuperset(listed):
                archive.close()
                return None
        except (zipfile.BadZipFile, ValueError, KeyError, TypeError):
            archive.close()
            return None
        return self._copied(archive, listed, skip or set())

    def _copied(
        self,
        archive: zipfile.ZipFile,
        listed: dict[str, dict[str, Any]],
        skip: set[tuple[str, int]],
    ) -> Iterator[dict[str, Any]]:
        assert self._zip is not None and self._part is not None and self._journal is not None
        with archive, Path(str(archive.filename)).open("rb") as stored:
            for name, summary in listed.items():
                if (str(summary["id"]), int(summary.get("epoch", 1))) in skip:
                    continue
                info = archive.getinfo(name)
                stored.seek(info.header_offset)
                fields = _LOCAL_HEADER.unpack(stored.read(_LOCAL_HEADER.size))
                if fields[0] != b"PK\x03\x04":
                    raise zipfile.BadZipFile(f"{archive.filename}: no entry at {name}'s offset")
                stored.seek(info.header_offset + _LOCAL_HEADER.size + fields[-2] + fields[-1])
                data = stored.read(info.compress_size)
                entry = zipfile.ZipInfo(name, info.date_time)
                entry.compress_type = info.compress_type
                entry.external_attr = info.external_attr
                entry.CRC, entry.compress_size = info.CRC, info.compress_size
                entry.file_size = info.file_size
                entry.flag_bits = info.flag_bits & ~0x08  # sizes in the header, no descriptor
                end = self._append(entry, data)
                line = {**summary, ENTRY: _entry_record(entry, end)}
                self._journal.write(self.redact(_dumps(line)) + "\n")
                self._journal.flush()
                yield summary

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
        assert self._zip is not None and self._part is not None
        entries = _JournaledEntries(self._zip.filelist, self.journal_path)
        self._zip.filelist = entries  # type: ignore[assignment]
        with self._zip.open(_zip_info(SUMMARIES_JSON), "w") as out:
            out.write(b"[")
            for index, record in enumerate(_journal_records(self.journal_path)):
                record.pop(ENTRY, None)
                out.write((b"," if index else b"") + _dumps(record).encode())
            out.write(b"]")
        if reductions is not None:
            with self._zip.open(_zip_info(REDUCTIONS_JSON), "w") as out:
                for text in batched_text(reductions_json(reductions)):
                    out.write(text.encode())
        log: dict[str, Any] = {"version": LOG_VERSION, "status": status, **self.header}
        if results is not None:
            log["results"] = results
        log["stats"] = stats
        if error is not None:
            log["error"] = error
        self._zip.writestr(_zip_info(HEADER_JSON), self.redact(_dumps(log)))
        self._zip.close()
        self._part.flush()
        os.fsync(self._part.fileno())
        self._part.close()
        self._zip = self._part = None
        os.replace(self.part_path, self.path)
        if status == "success":
            self.journal_path.unlink(missing_ok=True)  # kept otherwise: a rerun resumes from it
