"""The batch journal: what a resumed run re-attaches to."""

from __future__ import annotations

from pathlib import Path

from engine.batch import BatchJournal, OpenBatch, batch_journal_path


def test_resume_reattaches_batches_with_unscored_samples_running_or_ended(tmp_path: Path) -> None:
    path = batch_journal_path(tmp_path / "run.json")
    assert path.name == "run.batches.jsonl"
    journal = BatchJournal(path)
    journal.created("m#1", "batch_a", ["c1", "c2"], [("s1", 1), ("s2", 1)])
    journal.created("m#1", "batch_b", ["c3"], [("s3", 1)])
    journal.created("g#1", "batch_c", ["c4"], [("s1", 2)])
    journal.ended("batch_a")
    journal.created("m#1", "batch_gone", ["c5"], [("s5", 1)])
    journal.abandoned("batch_gone")
    with path.open("a") as torn:  # a kill mid-write leaves a partial last line
        torn.write('{"event":"created","key":"m#1","batch":"batch_d"')

    scored = {("s1", 1), ("s3", 1)}
    assert BatchJournal(path).reattachable(scored) == [
        OpenBatch("m#1", "batch_a", ("c1", "c2")),  # ended, but s2 is not scored yet
        OpenBatch("g#1", "batch_c", ("c4",)),  # epoch 2 of s1 is not scored
    ]
    assert BatchJournal(path).reattachable({("s1", 1), ("s2", 1), ("s3", 1), ("s1", 2)}) == []
    assert BatchJournal(None).reattachable(()) == []


def test_a_line_journaled_after_a_torn_one_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "run.batches.jsonl"
    BatchJournal(path).created("m#1", "batch_a", ["c1"], [("s1", 1)])
    with path.open("a") as torn:  # the interrupted run was killed mid-write
        torn.write('{"event":"created","key":"m#1","batch":"batch_b"')

    resumed = BatchJournal(path)
    resumed.created("m#1", "batch_c", ["c3"], [("s3", 1)])  # the resumed run's batch

    assert [batch.batch_id for batch in BatchJournal(path).reattachable(())] == [
        "batch_a",
        "batch_c",
    ]
