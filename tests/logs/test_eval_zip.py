"""The `.eval` writer: sample entries appended as scored, summaries and header at the end, and a
run that stopped anywhere picks up what it had (inspect_ai reads every stage)."""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st
from inspect_ai.log import (
    read_eval_log,
    read_eval_log_sample_summaries,
    read_eval_log_samples,
)

from engine.logs import EvalLogWriter, iter_log_samples, read_log_header
from tests.logs.test_writer import HEADER as JSON_HEADER
from tests.logs.test_writer import sample

HEADER = {
    **JSON_HEADER,
    "eval": {
        **JSON_HEADER["eval"],
        "dataset": {"name": "t", "samples": 3, "sample_ids": [0, 1, 2]},
        "config": {"epochs": 1},
    },
}

RESULTS = {"total_samples": 3, "completed_samples": 3, "scores": []}


def log_path(tmp_path: Path) -> Path:
    return tmp_path / "run" / "2026-01-01T00-00-00_t_m.eval"


def test_samples_go_into_the_zip_as_scored_and_the_header_comes_last(tmp_path: Path) -> None:
    writer = EvalLogWriter(log_path(tmp_path), HEADER)
    writer.start()
    # During the run the log is Inspect's in-progress form: a start entry, status started.
    assert read_eval_log(str(writer.path)).status == "started"
    sizes = []
    for index in range(3):
        writer.write_sample(sample(index))
        sizes.append(writer.part_path.stat().st_size)
    assert sizes[0] < sizes[1] < sizes[2]  # each sample is on disk when written
    assert len(writer.journal_path.read_text().splitlines()) == 3
    assert [s["id"] for s in iter_log_samples(writer.path)] == [0, 1, 2]  # readable mid-run
    writer.finish("success", RESULTS, {}, reductions=[])
    assert not writer.part_path.exists() and not writer.journal_path.exists()
    names = zipfile.ZipFile(writer.path).namelist()
    assert names[0] == "_journal/start.json"
    assert names[1:4] == [f"samples/{i}_epoch_1.json" for i in range(3)]
    assert names[-3:] == ["summaries.json", "reductions.json", "header.json"]
    log = read_eval_log(str(writer.path))
    assert log.status == "success" and [s.id for s in log.samples or []] == [0, 1, 2]
    assert [s.id for s in read_eval_log_samples(str(writer.path))] == [0, 1, 2]
    summaries = read_eval_log_sample_summaries(str(writer.path))
    assert [(s.id, s.scores["match"].value) for s in summaries if s.scores] == [
        (0, "C"),
        (1, "C"),
        (2, "C"),
    ]
    assert read_log_header(writer.path)["status"] == "success"


def test_a_killed_run_resumes_from_its_part_file_and_a_torn_tail_is_cut(tmp_path: Path) -> None:
    first = EvalLogWriter(log_path(tmp_path), HEADER)
    first.start()
    first.write_sample(sample(0))
    first.write_sample(sample(1))
    assert first._part is not None
    first._part.write(b"PK\x03\x04torn entry")  # killed while writing a third entry
    first._part.flush()
    with first.journal_path.open("a") as journal:
        journal.write('{"id": 2, "ep')  # and its journal line

    second = EvalLogWriter(log_path(tmp_path), HEADER)
    recovered = second.recover()
    assert recovered.done == {("0", 1), ("1", 1)}
    second.start()
    second.write_sample(sample(2))
    second.finish("success", RESULTS, {})
    log = read_eval_log(str(second.path))
    assert [s.id for s in log.samples or []] == [0, 1, 2]
    assert zipfile.ZipFile(second.path).testzip() is None


def test_a_cancelled_log_is_complete_and_the_next_run_appends_to_it(tmp_path: Path) -> None:
    first = EvalLogWriter(log_path(tmp_path), HEADER)
    first.start()
    first.write_sample(sample(0))
    first.finish("cancelled", None, {})
    cancelled = read_eval_log(str(first.path))
    assert cancelled.status == "cancelled" and [s.id for s in cancelled.samples or []] == [0]
    assert first.journal_path.exists()  # kept: the same command resumes

    second = EvalLogWriter(log_path(tmp_path), HEADER)
    assert second.recover().done == {("0", 1)}
    second.start()
    second.write_sample(sample(1))
    second.finish("success", RESULTS, {})
    assert [s.id for s in read_eval_log(str(second.path)).samples or []] == [0, 1]


def test_without_its_entries_a_journal_is_not_trusted(tmp_path: Path) -> None:
    first = EvalLogWriter(log_path(tmp_path), HEADER)
    first.start()
    first.write_sample(sample(0))
    first.part_path.unlink()  # the part file is gone: nothing can be kept
    second = EvalLogWriter(log_path(tmp_path), HEADER)
    assert second.recover().done == set()
    second.start()
    second.write_sample(sample(0))
    second.finish("success", RESULTS, {})
    assert [s.id for s in read_eval_log(str(second.path)).samples or []] == [0]


def test_secrets_are_redacted_in_entries_summaries_and_header(tmp_path: Path) -> None:
    from engine.logs import Redactor

    secret = "sk-zip-secret-123456"
    writer = EvalLogWriter(log_path(tmp_path), HEADER, Redactor([secret]))
    writer.start()
    writer.write_sample({**sample(0), "metadata": {"echo": f"key {secret}"}})
    writer.finish("success", RESULTS, {"note": secret})
    with zipfile.ZipFile(writer.path) as archive:
        for name in archive.namelist():
            assert secret.encode() not in archive.read(name), name


def test_finishing_holds_no_zip_entry_per_sample(tmp_path: Path) -> None:
    """The central directory lists every sample's entry, read from the journal one at a time as
    it is written: a list of them all was about 400 bytes a sample (40 MB at 100,000)."""
    import gc

    writer = EvalLogWriter(log_path(tmp_path), HEADER)
    writer.start()
    for index in range(1500):
        writer.write_sample(sample(index))
    most_alive = 0

    def count_entries(phase: str, _info: dict[str, int]) -> None:
        nonlocal most_alive
        if phase == "start":  # at each collection while finishing: the zip entries alive
            # (objects that pile up set collections off: a list of entries would be seen)
            alive = sum(1 for o in gc.get_objects() if isinstance(o, zipfile.ZipInfo))
            most_alive = max(most_alive, alive)

    thresholds = gc.get_threshold()
    gc.set_threshold(100)
    gc.callbacks.append(count_entries)
    try:
        writer.finish("success", RESULTS, {}, reductions=[])
    finally:
        gc.callbacks.remove(count_entries)
        gc.set_threshold(*thresholds)
    assert most_alive < 10
    names = zipfile.ZipFile(writer.path).namelist()
    assert names[1:] == [f"samples/{i}_epoch_1.json" for i in range(1500)] + [
        "summaries.json",
        "reductions.json",
        "header.json",
    ]
    summaries = read_eval_log_sample_summaries(str(writer.path))
    assert [s.id for s in summaries] == list(range(1500))


def test_entries_of_every_size_read_back_whole_with_their_crc(tmp_path: Path) -> None:
    """Sample entries are deflated with a window sized to the entry: from a few bytes to well
    past the largest window (32 kB), zipfile checks every CRC and inspect_ai reads each back."""
    import random

    writer = EvalLogWriter(log_path(tmp_path), HEADER)
    writer.start()
    rng = random.Random(5)
    words = ["apple", "kiwi", "fig", "plum"]  # drawn at random: text that compresses, not to nil
    inputs = [" ".join(rng.choice(words) for _ in range(n)) for n in (0, 60, 1_000, 8_000, 60_000)]
    for index, text in enumerate(inputs):
        writer.write_sample({**sample(index), "input": text})
    writer.finish("success", RESULTS, {}, reductions=[])
    with zipfile.ZipFile(writer.path) as archive:
        assert archive.testzip() is None  # every entry inflates to its recorded CRC
    log = read_eval_log(str(writer.path))
    assert [s.input for s in log.samples or []] == inputs
    assert max(len(text) for text in inputs) > 32_768 * 8


@given(st.binary(max_size=70_000) | st.text(max_size=20_000).map(str.encode))
@example(b"apple kiwi fig plum " * 400)  # 8,000 bytes: a window of 8 kB would be too small
@settings(max_examples=150, deadline=None)
def test_a_sample_entry_is_deflated_to_the_bytes_zipfile_writes(data: bytes) -> None:
    from engine.logs._eval_zip import _deflate

    compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)  # zipfile's
    assert _deflate(data) == compressor.compress(data) + compressor.flush()
