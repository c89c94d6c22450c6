"""`engine._gc.startup`: the cyclic collector paused for a block of start-up work, and running
again after it, whatever happened inside."""

from __future__ import annotations

import gc

import pytest

from engine._gc import startup


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
