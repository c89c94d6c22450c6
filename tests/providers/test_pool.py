"""ConnectionPool: retries and adaptive concurrency (AIMD on 429s).

The adaptive tests drive the real `openai` SDK through `ModelHub` against the local server, which
answers scripted 429 bursts; what counts is the number of requests the *server* sees in flight.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator

import anyio
import anyio.lowlevel
import pytest

from engine.config import ConnectionConfig, GenerationConfig
from engine.messages import user
from engine.models import Model, ModelHub
from engine.providers import GenerateError
from engine.providers._errors import Classified, ErrorKind
from engine.providers._pool import ConnectionPool, Slots
from tests.support.openai_server import OpenAIServer, Reply, Request, error

MODEL = "openai/gpt-4o-mini"
CEILING = 8
FAST = ConnectionConfig(
    max_connections=CEILING, backoff_base=0.01, backoff_max=0.05, max_retries=8, attempt_timeout=5
)
ADAPTIVE = FAST.model_copy(update={"adaptive": True})
LATENCY = 0.05


class Burst:
    """Answers "ok" after `LATENCY`; `fail(n)` makes the next n chat requests 429s."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures = 0
        self.rate_limited = 0

    def fail(self, count: int) -> None:
        with self._lock:
            self._failures = count

    def __call__(self, request: Request) -> Reply:
        with self._lock:
            failing = self._failures > 0
            if failing:
                self._failures -= 1
                self.rate_limited += 1
        if failing:
            return error(429, "Rate limit reached", headers={"retry-after": "0"}, delay=LATENCY)
        return Reply(text="ok", delay=LATENCY)


@pytest.fixture
def burst(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[OpenAIServer, Burst]]:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    script = Burst()
    with OpenAIServer(script) as server:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-pool")
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        yield server, script


async def calls(model: Model, count: int, concurrency: int = 2 * CEILING) -> int:
    """`count` generate calls from `concurrency` tasks; returns how many succeeded."""
    remaining = iter(range(count))
    succeeded = 0

    async def worker() -> None:
        nonlocal succeeded
        for index in remaining:
            try:
                await model.generate([user(f"question {index}")])
                succeeded += 1
            except GenerateError:
                pass

    async with anyio.create_task_group() as group:
        for _ in range(concurrency):
            group.start_soon(worker)
    return succeeded


async def phase(server: OpenAIServer, model: Model, count: int) -> int:
    """Run `count` successful calls at full demand; the server's in-flight maximum meanwhile."""
    server.reset()
    assert await calls(model, count) == count
    return server.max_in_flight


# ── with a real server ────────────────────────────────────────────────────────────────────────────


@pytest.mark.anyio
async def test_adaptive_pool_cuts_on_a_429_burst_and_recovers(
    burst: tuple[OpenAIServer, Burst],
) -> None:
    server, script = burst
    hub = ModelHub(ADAPTIVE)
    try:
        model = hub.get(MODEL, GenerationConfig())
        pool = model.pool
        assert await phase(server, model, 3 * CEILING) == CEILING
        assert list(pool.history) == [] and pool.limit == CEILING

        # A burst: every request in flight is rate limited. One cut, not one per 429 (they were
        # all sent before the cut), then growth as the retries and later calls succeed.
        script.fail(CEILING)
        assert await calls(model, CEILING) == CEILING
        assert script.rate_limited == CEILING
        cuts = [c for c in pool.history if c.reason == "rate_limit"]
        assert [(c.old_limit, c.new_limit) for c in cuts] == [(CEILING, CEILING // 2)]
        assert pool.max_connections == CEILING  # the ceiling stays; the runner sizes by it
        after_burst = pool.limit
        assert after_burst < CEILING

        # Right after the burst the server sees fewer requests at once than before it.
        peak = await phase(server, model, 2 * after_burst)
        assert peak < CEILING
        assert peak <= pool.limit

        # Successes add one connection per `limit` in a row, back up to max_connections.
        await phase(server, model, 60)
        assert pool.limit == CEILING
        assert await phase(server, model, 3 * CEILING) == CEILING
        ups = [c for c in pool.history if c.reason == "steady_state_up"]
        assert ups and all(c.new_limit == c.old_limit + 1 for c in ups)
        assert ups[-1].new_limit == CEILING
    finally:
        await hub.aclose()


@pytest.mark.anyio
async def test_a_429_storm_halves_down_to_one_connection_then_recovers(
    burst: tuple[OpenAIServer, Burst],
) -> None:
    server, script = burst
    hub = ModelHub(ADAPTIVE)
    try:
        model = hub.get(MODEL, GenerationConfig())
        pool = model.pool
        # Retries keep meeting 429s: each round sent after a cut may cut again, to the floor.
        script.fail(20)
        assert await calls(model, CEILING) == CEILING
        cuts = [(c.old_limit, c.new_limit) for c in pool.history if c.reason == "rate_limit"]
        assert cuts[:3] == [(8, 4), (4, 2), (2, 1)]
        assert all(new >= 1 for _, new in cuts)
        assert min(c.new_limit for c in pool.history) == 1

        peak = await phase(server, model, 6)
        assert peak <= pool.limit < CEILING

        await phase(server, model, 80)
        assert pool.limit == CEILING
        assert await phase(server, model, 3 * CEILING) == CEILING
    finally:
        await hub.aclose()


@pytest.mark.anyio
async def test_without_adaptive_the_limit_never_moves(burst: tuple[OpenAIServer, Burst]) -> None:
    server, script = burst
    hub = ModelHub(FAST)
    try:
        model = hub.get(MODEL, GenerationConfig())
        pool = model.pool
        script.fail(3 * CEILING)
        assert await calls(model, CEILING) == CEILING
        assert script.rate_limited == 3 * CEILING
        assert pool.rate_limits == 3 * CEILING
        assert await phase(server, model, 3 * CEILING) == CEILING
        assert pool.limit == CEILING
        assert list(pool.history) == []
    finally:
        await hub.aclose()


# ── the controller alone (fake attempts, no server) ───────────────────────────────────────────────


class RateLimited(Exception):
    pass


def classify(error: BaseException) -> Classified:
    if isinstance(error, RateLimited):
        return Classified(ErrorKind.RATE_LIMIT, "HTTP 429: slow down", retry_after=0.0)
    return Classified(ErrorKind.FATAL, repr(error))


def pool_of(**settings: object) -> ConnectionPool:
    config = ADAPTIVE.model_copy(update=settings)
    return ConnectionPool(("openai", "http://127.0.0.1:1/v1", "acct"), config)


async def succeed(timeout: float | None) -> str:
    return "ok"


@pytest.mark.anyio
async def test_growth_needs_limit_successes_in_a_row_and_stops_at_the_ceiling() -> None:
    pool = pool_of(max_connections=4)
    pool._set_limit(1, "rate_limit")
    for _ in range(1 + 2 + 3):
        await pool.call(succeed, classify)
    assert pool.limit == 4
    for _ in range(20):
        await pool.call(succeed, classify)
    assert pool.limit == 4
    assert [(c.old_limit, c.new_limit, c.reason) for c in pool.history] == [
        (4, 1, "rate_limit"),
        (1, 2, "steady_state_up"),
        (2, 3, "steady_state_up"),
        (3, 4, "steady_state_up"),
    ]


@pytest.mark.anyio
async def test_a_provider_cap_is_the_ceiling() -> None:
    pool = ConnectionPool(("llama-cpp-python", "", ""), ADAPTIVE, cap=1)
    for _ in range(10):
        await pool.call(succeed, classify)
    assert (pool.limit, pool.max_connections, list(pool.history)) == (1, 1, [])


@pytest.mark.anyio
async def test_a_final_429_still_cuts_and_the_error_names_it() -> None:
    pool = pool_of(max_retries=0)

    async def limited(timeout: float | None) -> str:
        raise RateLimited

    with pytest.raises(GenerateError, match="HTTP 429"):
        await pool.call(limited, classify)
    assert pool.limit == CEILING // 2


@pytest.mark.anyio
async def test_history_reads_as_inspects_connection_limit_history() -> None:
    pool = pool_of()
    calls_made = 0

    async def once_limited(timeout: float | None) -> str:
        nonlocal calls_made
        calls_made += 1
        if calls_made == 1:
            raise RateLimited
        return "ok"

    assert await pool.call(once_limited, classify) == "ok"
    [entry] = pool.limit_history("openai/gpt-4o-mini")
    assert set(entry) == {"timestamp", "model", "old_limit", "new_limit", "reason"}
    assert entry["model"] == "openai/gpt-4o-mini"
    assert (entry["old_limit"], entry["new_limit"], entry["reason"]) == (8, 4, "rate_limit")
    assert pool.limit_history()[0]["model"] == "openai http://127.0.0.1:1/v1"

    from inspect_ai.log._log import ConnectionLimitChange

    ConnectionLimitChange.model_validate(entry)


@pytest.mark.anyio
async def test_off_by_default_nothing_is_counted() -> None:
    pool = ConnectionPool(("openai", "", ""), FAST)
    assert not pool.adaptive
    calls_made = 0

    async def limited_twice(timeout: float | None) -> str:
        nonlocal calls_made
        calls_made += 1
        if calls_made <= 2:
            raise RateLimited
        return "ok"

    assert await pool.call(limited_twice, classify) == "ok"
    assert (pool.limit, pool.retries, pool.rate_limits, list(pool.history)) == (CEILING, 2, 2, [])


@pytest.mark.anyio
async def test_slots_let_waiting_attempts_in_first_come_first_served() -> None:
    slots = Slots(2)
    order: list[int] = []
    release = anyio.Event()

    async def attempt(index: int, ready: anyio.Event) -> None:
        ready.set()
        async with slots:
            order.append(index)
            await release.wait()

    async with anyio.create_task_group() as group:
        for index in range(5):  # started one by one: each queues behind the one before
            ready = anyio.Event()
            group.start_soon(attempt, index, ready)
            await ready.wait()
        assert (order, slots.borrowed) == ([0, 1], 2)
        release.set()
    assert order == [0, 1, 2, 3, 4] and slots.borrowed == 0


@pytest.mark.anyio
async def test_slots_growing_lets_waiters_in_and_shrinking_holds_new_ones() -> None:
    slots = Slots(1)
    inside: list[int] = []
    done = anyio.Event()

    async def attempt(index: int) -> None:
        async with slots:
            inside.append(index)
            await done.wait()

    async with anyio.create_task_group() as group:
        for index in range(3):
            group.start_soon(attempt, index)
        await anyio.wait_all_tasks_blocked()
        assert inside == [0]
        slots.resize(3)  # the two waiting are let in at once
        assert slots.borrowed == 3
        await anyio.wait_all_tasks_blocked()
        assert inside == [0, 1, 2]
        slots.resize(1)  # the three inside stay; the next waits until two have left
        group.start_soon(attempt, 3)
        await anyio.wait_all_tasks_blocked()
        assert inside == [0, 1, 2]
        done.set()
    assert inside == [0, 1, 2, 3] and slots.borrowed == 0


@pytest.mark.anyio
async def test_a_cancelled_waiter_takes_no_slot_and_a_free_slot_gives_no_loop_turn() -> None:
    slots = Slots(1)
    await slots.__aenter__()
    with anyio.move_on_after(0):  # cancelled while it waits
        async with slots:
            raise AssertionError("let in without a free slot")
    assert (slots.borrowed, len(slots._waiting)) == (1, 0)
    await slots.__aexit__(None, None, None)

    others_ran: list[str] = []

    async def other() -> None:
        others_ran.append("other")

    async with anyio.create_task_group() as group:
        group.start_soon(other)
        async with slots:  # free: taken without letting `other` run first
            assert others_ran == []
    assert others_ran == ["other"] and slots.borrowed == 0


@pytest.mark.anyio
async def test_an_attempt_the_sdk_does_not_stop_is_cut_by_the_backstop() -> None:
    """The SDK gets the attempt timeout; an attempt still running 5 s after it is cut and
    counted as a timed-out attempt (here `max_retries=0`, so the call ends with it)."""
    pool = pool_of(attempt_timeout=0.01, max_retries=0)
    stuck = anyio.Event()

    async def hangs(timeout: float | None) -> str:
        await stuck.wait()  # never set: only the backstop's deadline ends it
        return "late"

    with anyio.fail_after(60):
        with pytest.raises(GenerateError, match=r"attempt timed out after 0\.01s"):
            await pool.call(hangs, classify)


@pytest.mark.anyio
async def test_a_waiter_cancelled_as_its_slot_frees_leaves_the_slot_to_the_next() -> None:
    """A waiter's cancellation lands before it runs again: a slot freed in that gap goes to the
    next live waiter, not to the cancelled one (nor is it lost)."""
    slots = Slots(1)
    await slots.__aenter__()  # held by the test
    entered: list[str] = []
    scopes: dict[str, anyio.CancelScope] = {}

    async def waiter(name: str) -> None:
        with anyio.CancelScope() as scope:
            scopes[name] = scope
            async with slots:
                entered.append(name)

    async with anyio.create_task_group() as group:
        for name in ("first", "second"):
            group.start_soon(waiter, name)
            await anyio.wait_all_tasks_blocked()
        scopes["first"].cancel()  # its wait is cancelled now; it runs its handler later
        slots.release()  # in the same turn
    assert entered == ["second"] and slots.borrowed == 0


async def _random_slots_run(seed: int) -> None:
    """One random run of attempts on `Slots` (see the test below)."""
    rng = random.Random(seed)
    slots = Slots(rng.randint(1, 3))
    state: dict[int, str] = {}
    leave = {index: anyio.Event() for index in range(8)}
    scopes: dict[int, anyio.CancelScope] = {}

    async def attempt(index: int) -> None:
        with anyio.CancelScope() as scope:
            scopes[index] = scope
            state[index] = "waiting"
            async with slots:
                state[index] = "inside"
                await leave[index].wait()
            state[index] = "done"
            return
        state[index] = "cancelled"

    def check() -> None:
        inside = sum(1 for s in state.values() if s == "inside")
        waiting = sum(1 for s in state.values() if s == "waiting")
        assert slots.borrowed == inside
        assert waiting == 0 or inside >= slots.total

    async def settle() -> None:
        """Until every task waits. (A few turns first: `wait_all_tasks_blocked` polls every
        0.1 s while a task is still running.)"""
        for _ in range(8):
            await anyio.lowlevel.checkpoint()
        await anyio.wait_all_tasks_blocked()

    async with anyio.create_task_group() as group:
        for index in leave:
            group.start_soon(attempt, index)
        await settle()
        check()
        for _ in range(12):
            for _ in range(rng.randint(1, 3)):  # several in one turn
                index, action = rng.randrange(8), rng.random()
                if action < 0.3:
                    scopes[index].cancel()
                elif action < 0.8:
                    leave[index].set()
                else:
                    slots.resize(rng.randint(1, 3))
            await settle()
            check()
        for event in leave.values():
            event.set()
    assert set(state.values()) <= {"done", "cancelled"}
    assert (slots.borrowed, len(slots._waiting)) == (0, 0)


@pytest.mark.anyio
async def test_slots_under_random_cancels_releases_and_resizes_never_hold_a_slot_back() -> None:
    """Whatever the order of cancellations, releases and resizes (some in the same turn), once
    every task has run: the holders are exactly those inside, no slot is free while an attempt
    waits, and at the end every attempt has entered or was cancelled, and every slot is back."""
    for seed in range(40):
        try:
            await _random_slots_run(seed)
        except AssertionError as failure:
            raise AssertionError(f"seed {seed}: {failure}") from failure
