"""A sample's transcript: Inspect's `events`, recorded while the sample runs.

The runner opens one `Transcript` per sample attempt and makes it current; solvers' and scorers'
spans, every model call (the model layer records it) and the scores land in it as plain dicts in
Inspect's event shapes (`inspect_ai.event`), so `inspect view` shows them in the Transcript tab.
The events live only as long as the sample: they are written with it and dropped.

A leaf module (standard library only): the model layer imports it without pulling in the runner.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any

from engine.logs._records import eval_error

__all__ = [
    "Transcript",
    "current_transcript",
    "event_time",
    "iso_utc",
    "recording",
    "seconds_to_micros",
]

_current: ContextVar[Transcript | None] = ContextVar("transcript", default=None)
_span: ContextVar[str | None] = ContextVar("transcript_span", default=None)


def current_transcript() -> Transcript | None:
    """The transcript of the sample being run here, or None outside a sample."""
    return _current.get()


_second: tuple[int, str] = (0, "")
"""The last whole second `iso_utc` formatted, and its text up to the seconds."""


def iso_utc(now: float) -> str:
    """`datetime.fromtimestamp(now, timezone.utc).isoformat()`, the date and time of day formatted
    once a second: a sample's ~15 timestamps cost half as much."""
    global _second
    second, micro = divmod(round(now * 1_000_000), 1_000_000)
    cached = _second
    if cached[0] != second:
        cached = (
            second,
            datetime.fromtimestamp(second, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"),
        )
        _second = cached
    return f"{cached[1]}.{micro:06d}+00:00" if micro else f"{cached[1]}+00:00"


def event_time() -> str:
    """Now, UTC, ISO 8601 (Inspect's form): an event's timestamp, a log's times."""
    return iso_utc(time.time())


def seconds_to_micros(seconds: float) -> float:
    """`round(seconds, 6)`, but several times cheaper (a float rounded to digits goes through
    decimal text; a whole number of microseconds does not): it may differ in the last
    microsecond where the product rounds the other way. Keeps a log's durations short."""
    return round(seconds * 1_000_000) / 1_000_000


def _event_id() -> str:
    """22 random hex digits, as Inspect's event ids: from `random`'s generator (reseeded in a
    forked child), not `uuid4` (a system call and an object for each of a sample's ~20 events)."""
    return f"{random.getrandbits(88):022x}"


class Transcript:
    """The events of one sample attempt, oldest first, and its working time.

    Working time is wall time minus the time spent waiting (for a connection slot, a retry's
    backoff, a batch), as Inspect counts it: what the sample itself took.
    """

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self._started = time.monotonic()
        self.waited = 0.0
        """Seconds spent waiting rather than working (added by the model layer)."""

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self._started

    @property
    def working_time(self) -> float:
        return max(0.0, self.elapsed - self.waited)

    def add(self, kind: str, **fields: Any) -> dict[str, Any]:
        """Append an event of type `kind` (Inspect's `event` discriminator) and return it.

        About 13 events a sample, among the engine's hottest code: the keys are set one by one
        (no generator, no delete), in the order Inspect writes them."""
        event = self._new(kind)
        for key, value in fields.items():
            if value is not None:
                event[key] = value
        self.events.append(event)
        return event

    def _new(self, kind: str) -> dict[str, Any]:
        """An event's common keys, in Inspect's order; the caller adds its own and appends it."""
        event: dict[str, Any] = {"uuid": _event_id()}
        span_id = _span.get()
        if span_id is not None:
            event["span_id"] = span_id
        event["timestamp"] = event_time()
        event["working_start"] = seconds_to_micros(self.working_time)
        event["event"] = kind
        return event

    def span(self, name: str, kind: str) -> _Span:
        """`span_begin` … `span_end` around a step (Inspect's types: init, solvers, solver,
        scorers, scorer); events inside carry its id (`with transcript.span(…) as span_id`)."""
        return _Span(self, name, kind)

    def error(self, message: str, traceback: str) -> None:
        self.add("error", error=eval_error(message, traceback))

    def role_usage(self) -> dict[str, dict[str, int]]:
        """Token usage summed by model role (Inspect's `role_usage`), from the model events."""
        totals: dict[str, dict[str, int]] = {}
        for event in self.events:
            role = event.get("role")
            if event["event"] != "model" or role is None:
                continue
            total = totals.setdefault(role, {})
            for name, value in ((event.get("output") or {}).get("usage") or {}).items():
                if isinstance(value, int):
                    total[name] = total.get(name, 0) + value
        return totals


class _Span:
    """`Transcript.span`'s context manager (a class: cheaper than a generator's, ~10 a sample)."""

    __slots__ = ("_kind", "_name", "_token", "_transcript", "span_id")

    def __init__(self, transcript: Transcript, name: str, kind: str) -> None:
        self._transcript = transcript
        self._name = name
        self._kind = kind

    def __enter__(self) -> str:
        """`add("span_begin", id=…, parent_id=…, type=…, name=…)`, the keys set directly (no
        keyword dict: ~10 spans a sample)."""
        self.span_id = span_id = _event_id()
        parent = _span.get()
        self._token = _span.set(span_id)
        event = self._transcript._new("span_begin")
        event["id"] = span_id
        if parent is not None:
            event["parent_id"] = parent
        event["type"] = self._kind
        event["name"] = self._name
        self._transcript.events.append(event)
        return span_id

    def __exit__(self, *exc_info: object) -> None:
        event = self._transcript._new("span_end")
        event["id"] = self.span_id
        self._transcript.events.append(event)
        _span.reset(self._token)


@contextmanager
def recording(transcript: Transcript) -> Iterator[Transcript]:
    """Make `transcript` current for the code run inside (one sample attempt)."""
    token = _current.set(transcript)
    span_token = _span.set(None)
    try:
        yield transcript
    finally:
        _span.reset(span_token)
        _current.reset(token)
