"""Cache keys: stable for the same request, different whenever the answer could differ."""

from __future__ import annotations

from typing import Any

import pytest

from engine.cache import cache_key, parse_expiry
from engine.config import CacheConfig, GenerationConfig
from engine.messages import assistant, system, user

BASE: dict[str, Any] = {
    "provider": "openai",
    "model": "gpt-4o-mini",
    "base_url": "http://127.0.0.1:1/v1",
    "messages": [system("Be brief."), user("Where is the ball?")],
    "generation": GenerationConfig(temperature=0.0, max_tokens=64),
    "epoch": 1,
    "scopes": {},
}


def key(**changes: Any) -> str:
    return cache_key(**(BASE | changes))


def test_the_same_request_gives_the_same_key() -> None:
    first = key()
    again = cache_key(
        provider="openai",
        model="gpt-4o-mini",
        base_url="http://127.0.0.1:1/v1",
        messages=[system("Be brief."), user("Where is the ball?")],
        generation=GenerationConfig(max_tokens=64, temperature=0.0),
        epoch=1,
        scopes={},
    )
    assert first == again
    assert len(first) == 64 and int(first, 16) >= 0  # a sha256 hex digest


def test_the_key_is_stable_across_processes_and_releases() -> None:
    """A changed recipe silently empties everyone's cache: change it (and KEY_VERSION) on purpose."""
    assert key() == "f7f46d25911d23e19c8de3258cb66610e334a11de9f8fcf4520a9cfabf7991b7"


@pytest.mark.parametrize(
    "changes",
    [
        {"messages": [system("Be brief."), user("Where is the box?")]},
        {"messages": [user("Where is the ball?")]},
        {"messages": [system("Be brief."), assistant("Where is the ball?")]},
        {"generation": GenerationConfig(temperature=0.5, max_tokens=64)},
        {"generation": GenerationConfig(temperature=0.0, max_tokens=65)},
        {"generation": GenerationConfig(temperature=0.0, max_tokens=64, seed=1)},
        {"generation": GenerationConfig(temperature=0.0, max_tokens=64, extra_body={"a": 1})},
        {"model": "gpt-4o"},
        {"provider": "azure"},
        {"base_url": "http://127.0.0.1:2/v1"},
        {"base_url": None},
        {"epoch": 2},
        {"epoch": None},
        {"scopes": {"prompt_version": "v3"}},
    ],
    ids=lambda changes: ",".join(changes),
)
def test_what_can_change_the_answer_changes_the_key(changes: dict[str, Any]) -> None:
    assert key(**changes) != key()


def test_scope_values_and_names_both_count() -> None:
    assert key(scopes={"v": "1"}) != key(scopes={"v": "2"})
    assert key(scopes={"v": "1"}) != key(scopes={"w": "1"})
    assert key(scopes={"a": "1", "b": "2"}) == key(scopes={"b": "2", "a": "1"})


def test_extra_headers_are_not_part_of_the_key() -> None:
    with_headers = GenerationConfig(
        temperature=0.0, max_tokens=64, extra_headers={"Authorization": "Bearer sk-secret"}
    )
    assert key(generation=with_headers) == key()


def test_content_is_not_confused_with_role() -> None:
    """[role, content] pairs, not a flat join: `user: a` + `b` differs from `user: a b`."""
    assert key(messages=[user("a"), user("b")]) != key(messages=[user("a b")])
    assert key(messages=[user("a"), user("b")]) != key(messages=[user("a\nb")])


@pytest.mark.parametrize(
    ("expiry", "seconds"),
    [
        ("45s", 45),
        ("30m", 30 * 60),
        ("12h", 12 * 3600),
        ("1D", 86_400),
        ("1W", 7 * 86_400),
        ("3M", 90 * 86_400),
        ("1Y", 365 * 86_400),
        (None, None),
        ("never", None),
    ],
)
def test_expiry_parsing(expiry: str | None, seconds: int | None) -> None:
    assert parse_expiry(expiry) == seconds


@pytest.mark.parametrize("expiry", ["", "1", "m", "1d", "1w", "1.5h", "-1D", "1 D", "10 years"])
def test_bad_expiry_is_refused(expiry: str) -> None:
    with pytest.raises(ValueError, match="30m, 12h"):
        parse_expiry(expiry)


def test_every_expiry_the_config_accepts_parses() -> None:
    for expiry in ("30m", "12h", "1D", "1W", "3M", "1Y", "never", None):
        parse_expiry(CacheConfig(expiry=expiry).expiry)
