"""`engine._gc`: the cyclic collector paused for a block of start-up work and running again after
it, whatever happened inside; its young threshold raised while an eval's samples run."""

from __future__ import annotations

import gc
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine._gc import SAMPLING_THRESHOLD, sampling, startup
from tests.support.cli import run_cli


def test_the_collector_is_paused_inside_and_runs_again_after() -> None:
    assert gc.isenabled()
    frozen = gc.get_freeze_count()  # what the suite froze after collecting (conftest)
    with startup():
        assert not gc.isenabled()
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen  # a library caller's objects are never frozen


def test_an_inner_block_leaves_the_pause_to_the_outer_one() -> None:
    with startup():
        with startup():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_the_collector_runs_again_after_an_error() -> None:
    with pytest.raises(ValueError), startup():
        raise ValueError("bad config")
    assert gc.isenabled()


def test_a_caller_that_paused_the_collector_keeps_it_paused() -> None:
    gc.disable()
    try:
        with startup():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.fixture
def thresholds() -> Iterator[tuple[int, int, int]]:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield gc.get_threshold()
    gc.set_threshold(*before)


def test_samples_run_with_a_raised_young_threshold_then_it_is_restored(
    thresholds: tuple[int, int, int],
) -> None:
    with sampling():
        assert gc.get_threshold() == (SAMPLING_THRESHOLD, 10, 10)
    assert gc.get_threshold() == thresholds
    with pytest.raises(ValueError), sampling():
        raise ValueError("a failed run")
    assert gc.get_threshold() == thresholds


def test_overlapping_evals_restore_the_thresholds_when_the_last_one_ends(
    thresholds: tuple[int, int, int],
) -> None:
    first, second = sampling(), sampling()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)  # a sweep's evals end in any order
    assert gc.get_threshold()[0] == SAMPLING_THRESHOLD
    second.__exit__(None, None, None)
    assert gc.get_threshold() == thresholds


def test_evals_in_threads_restore_the_thresholds(thresholds: tuple[int, int, int]) -> None:
    inside = threading.Barrier(4)

    def run() -> None:
        with sampling():
            inside.wait()  # all four inside at once
            assert gc.get_threshold()[0] == SAMPLING_THRESHOLD

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert gc.get_threshold() == thresholds


def test_a_higher_threshold_of_the_callers_is_kept() -> None:
    before = gc.get_threshold()
    gc.set_threshold(SAMPLING_THRESHOLD * 2, 5, 5)
    try:
        with sampling():
            assert gc.get_threshold() == (SAMPLING_THRESHOLD * 2, 5, 5)
        assert gc.get_threshold() == (SAMPLING_THRESHOLD * 2, 5, 5)
    finally:
        gc.set_threshold(*before)


RECORDER = """\
import gc

from engine import solver


@solver
def record_threshold():
    async def solve(state, generate):
        state.metadata["gc_threshold"] = gc.get_threshold()[0]
        return await generate(state)

    return solve
"""


def test_an_eval_runs_its_samples_with_the_raised_threshold(
    tmp_path: Path, thresholds: tuple[int, int, int]
) -> None:
    (tmp_path / "data.jsonl").write_text(
        "".join(json.dumps({"id": f"s{i}", "input": "q", "target": "A"}) + "\n" for i in range(3))
    )
    (tmp_path / "conf" / "task").mkdir(parents=True)
    (tmp_path / "conf" / "task" / "gc.yaml").write_text(
        "name: gc\ndataset: {path: data.jsonl}\nsolvers: [gc/components.py:record_threshold]\n"
        "scorers: [match]\nmetrics: [accuracy]\n"
    )
    (tmp_path / "tasks" / "gc").mkdir(parents=True)
    (tmp_path / "tasks" / "gc" / "components.py").write_text(RECORDER)
    done = run_cli(
        "task=gc", "model=mockllm/model", "display=none", "log_format=json", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    (log,) = (tmp_path / "logs").rglob("*.json")
    samples = json.loads(log.read_text())["samples"]
    assert [s["metadata"]["gc_threshold"] for s in samples] == [SAMPLING_THRESHOLD] * 3
    assert gc.get_threshold() == thresholds
