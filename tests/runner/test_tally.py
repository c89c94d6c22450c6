"""The score tally: every sample's values by place and epoch, compact until the metrics and
reductions are made at the end of a run."""

from __future__ import annotations

import sys

from engine.runner._tally import ScoreTally


def test_values_come_back_by_sample_in_place_order_and_by_epoch() -> None:
    tally = ScoreTally(["match", "f1"], epochs=2)
    first, second, third = (tally.place(sample_id) for sample_id in ("a", "b", "c"))
    tally.add(second, 2, {"match": 1.0, "f1": 0.5})  # epoch 2 finished before epoch 1
    tally.add(second, 1, {"match": 0.0, "f1": 0.25})
    tally.add(first, 1, {"match": 1.0, "f1": 1.0})  # its epoch 2 failed: no value
    values = tally.scores()
    assert list(values["match"].items()) == [("a", [1.0]), ("b", [0.0, 1.0])]
    assert list(values["f1"].values()) == [[1.0], [0.25, 0.5]]  # "c" has no value: left out
    assert list(values["match"].items()) == list(values["match"].items())  # read afresh
    assert third == 2 and tally.places == 3


def test_an_interrupted_runs_values_join_their_samples() -> None:
    tally = ScoreTally(["match"], epochs=2)
    tally.add_earlier("match", "a", 1, 0.0)  # scored by the interrupted run
    tally.add_earlier("match", "z", 2, 1.0)  # a sample this run stopped before reaching
    tally.add_earlier("match", "z", 1, 0.5)
    tally.add_earlier("other", "a", 1, 1.0)  # a scorer the task no longer has
    place = tally.place("a")
    tally.take_earlier(place, "a", 1)  # the run passes the sample it had scored
    tally.add(place, 2, {"match": 1.0})
    assert list(tally.scores()["match"].items()) == [("a", [0.0, 1.0]), ("z", [0.5, 1.0])]


def test_values_are_kept_without_an_object_per_sample() -> None:
    """A dict of lists keyed by sample id held a string, a list and a float per sample (about
    250 bytes, 25 MB at 100,000 samples); the tally holds packed bytes and doubles."""
    tally = ScoreTally(["match"], epochs=1)
    for n in range(100):  # the arrays' first allocations
        tally.add(tally.place(f"s{n}"), 1, {"match": 1.0})
    before = sys.getallocatedblocks()
    for n in range(100, 20_100):
        tally.add(tally.place(f"sample-{n}"), 1, {"match": n / 7})
    assert sys.getallocatedblocks() - before < 2000  # a dict of lists: more than 60,000
    assert sum(len(values) for values in tally.scores()["match"].values()) == 20_100
