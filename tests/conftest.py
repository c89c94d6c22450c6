"""Shared pytest setup: async tests run on asyncio (anyio's pytest plugin), and every process the
suite starts reuses compiled bytecode."""

import gc
import os
import signal
import sys

import pytest


def pytest_configure(config: pytest.Config) -> None:
    """Bytecode is cached as on a user's machine or in CI. A machine that sets
    PYTHONDONTWRITEBYTECODE would otherwise make every `inspect-run` child, xdist worker, launcher
    and Ray worker compile the editable `engine/` again. The cache goes into gitignored
    `__pycache__` folders beside the sources: a PYTHONPYCACHEPREFIX folder would also hide the
    installed packages' bytecode, and compiling those again costs more than it saves. Runs in
    the controller before xdist starts its workers, so every process inherits it."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sys.dont_write_bytecode = False
    # The local models' OpenMP threads (llama.cpp in process and its server, torch) spin while
    # they wait; beside the other worker's tests that took 3 times the CPU (README, Providers).
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    _children_take_ctrl_c()


def _children_take_ctrl_c() -> None:
    """Processes the suite starts get SIGINT's default action, as from a terminal. A shell starts
    a background job (`pytest … &` in a script, `nohup`) with SIGINT ignored, which every child
    would inherit, and the tests that press Ctrl-C on a run would wait for it forever. Runs in
    the controller and in every xdist worker (each loads this file)."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow tests first: the workers take tests in this order (`--dist loadgroup`), so the long
    ones run beside the many short ones instead of making a tail after them."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


_frozen_at = 0
"""How many modules this process had loaded when it last froze what it holds."""


def _freeze() -> None:
    """Move what this process holds now out of the cyclic collector's sight (`gc.freeze`), as the
    command line's own process does (`engine._gc`): modules and what they made live as long as
    the test worker, yet every full collection walked them again. Those walks cost the two
    workers 17 s of CPU in a 155 s suite; freezing after collection and after each test that
    imports a library (torch, an SDK) leaves ~5 s. Young garbage is collected first; a cycle
    older than that, left by an earlier test, is kept for good, and a warning its finalizer
    would give is never seen."""
    global _frozen_at
    gc.collect(1)
    gc.freeze()
    _frozen_at = len(sys.modules)


def pytest_collection_finish(session: pytest.Session) -> None:
    _freeze()


def pytest_runtest_logfinish(nodeid: str, location: tuple[str, int | None, str]) -> None:
    if len(sys.modules) >= _frozen_at + 50:  # a test imported a library
        _freeze()
