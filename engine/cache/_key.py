"""Cache keys and expiry: what makes two requests the same answer, and how long an answer lives."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.config import GenerationConfig
    from engine.messages import ChatMessage

KEY_VERSION = 1
"""Bumped when the key's parts change, so old entries are simply never found again."""

NOT_IN_KEY = frozenset({"extra_headers"})
"""Generation settings that do not change the answer (and may carry credentials)."""

_UNITS = {
    "s": 1,
    "m": 60,
    "h": 3600,
    "D": 86_400,
    "W": 7 * 86_400,
    "M": 30 * 86_400,
    "Y": 365 * 86_400,
}
_DURATION = re.compile(r"^(\d+)([smhDWMY])$")


def parse_expiry(expiry: str | None) -> float | None:
    """`30m`, `12h`, `1D`, `1W`, `3M` (30-day months), `1Y` (365 days) → seconds; None → never.

    Units are case-sensitive: `m` is minutes, `M` months.
    """
    if expiry is None or expiry == "never":
        return None
    match = _DURATION.match(expiry)
    if match is None:
        raise ValueError(f"expiry {expiry!r}: expected a duration like 30m, 12h, 1D, 1W, 3M, 1Y")
    return float(int(match.group(1)) * _UNITS[match.group(2)])


def cache_key(
    *,
    provider: str,
    model: str,
    base_url: str | None,
    messages: Sequence[ChatMessage],
    generation: GenerationConfig,
    epoch: int | None = None,
    scopes: Mapping[str, str] | None = None,
) -> str:
    """sha256 of the canonical JSON of everything that decides the answer.

    Connection settings (limits, timeouts, retries), the API key and `extra_headers` are never
    part of it: the same question asked with another key or concurrency gets the same answer.
    """
    parts: dict[str, Any] = {
        "v": KEY_VERSION,
        "provider": provider,
        "model": model,
        "base_url": base_url,
        "messages": [[m.role, m.to_log()["content"]] for m in messages],
        "generation": generation.model_dump(exclude_none=True, exclude=set(NOT_IN_KEY)),
        "epoch": epoch,
        "scopes": dict(scopes or {}),
    }
    canonical = json.dumps(
        parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()
