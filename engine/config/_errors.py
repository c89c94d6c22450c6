"""Config problems: every one found is reported at once, with its key, its source and a did-you-mean."""

from __future__ import annotations

import difflib
import types
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

EXIT_BAD_CONFIG = 2


@dataclass(frozen=True, slots=True)
class Problem:
    key: str
    message: str
    source: str | None = None

    def __str__(self) -> str:
        where = f" [{self.source}]" if self.source else ""
        return f"{self.key or '(root)'}{where}: {self.message}"


class ConfigError(ValueError):
    """The configuration is invalid; nothing has been sent to any provider."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(self.render())

    def render(self) -> str:
        count = len(self.problems)
        head = f"invalid configuration ({count} problem{'s' if count != 1 else ''}):"
        return "\n".join([head, *(f"  - {problem}" for problem in self.problems)])


def suggest(word: str, options: typing.Iterable[str]) -> str:
    close = difflib.get_close_matches(word, sorted(options), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


_TYPE_TAGS = {"int", "float", "str", "bool", "none", "dict", "list", "tuple", "literal"}


def _is_union_tag(segment: object) -> bool:
    """pydantic puts the union member tried (`int`, `RoleConfig`, `function-after[…]`) in `loc`."""
    if not isinstance(segment, str) or not segment:
        return False
    return segment[0].isupper() or segment in _TYPE_TAGS or any(c in segment for c in "[]()-,")


def _unwrap(annotation: Any) -> list[Any]:
    """The concrete types behind Optional/Union/Annotated."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin is typing.Union or origin is types.UnionType:
        found: list[Any] = []
        for arg in typing.get_args(annotation):
            found += _unwrap(arg)
        return found
    return [annotation]


def types_at(root: type[BaseModel], path: list[str]) -> list[Any]:
    """The concrete types found by following `path` (field names and dict keys) from `root`.

    `Any` stands for a free-form value (under `model_args`, `metadata`, `extra_body`, …).
    """
    current: list[Any] = [root]
    for segment in path:
        following: list[Any] = []
        for kind in current:
            if kind is Any:
                following.append(Any)
            elif isinstance(kind, type) and issubclass(kind, BaseModel):
                field = kind.model_fields.get(segment)
                if field is not None:
                    following += _unwrap(field.annotation)
            elif typing.get_origin(kind) is dict:
                following += _unwrap(typing.get_args(kind)[1])
        current = following
    return current


def model_at(root: type[BaseModel], path: list[str]) -> type[BaseModel] | None:
    for kind in types_at(root, path):
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            return kind
    return None


def is_mapping(root: type[BaseModel], path: list[str]) -> bool:
    """True where any key may be added: dict-typed fields and free-form values."""
    return any(kind is Any or typing.get_origin(kind) is dict for kind in types_at(root, path))


def check_key(root: type[BaseModel], key: str, above: str = "") -> str | None:
    """Why `key` cannot exist in the schema (with a did-you-mean), or None if it can."""
    parts = key.split(".")
    for depth, segment in enumerate(parts):
        prefix = parts[:depth]
        if is_mapping(root, prefix):
            return None if Any in types_at(root, prefix) else check_key_below(root, parts, depth)
        parent = model_at(root, prefix)
        if parent is None:
            return None
        if segment not in parent.model_fields:
            path = ".".join([above, *prefix] if above else prefix)
            where = f"'{path}'" if path else "the top level"
            return f"unknown key '{segment}' at {where}{suggest(segment, parent.model_fields)}"
    return None


def check_key_below(root: type[BaseModel], parts: list[str], depth: int) -> str | None:
    """Under a dict of models (`roles.NAME.…`) the name is free, the rest is checked again."""
    inner = model_at(root, parts[: depth + 1])
    if inner is None or depth + 1 >= len(parts):
        return None
    return check_key(inner, ".".join(parts[depth + 1 :]), ".".join(parts[: depth + 1]))


def problems_from_validation(
    error: ValidationError, root: type[BaseModel], locate: typing.Callable[[str], str | None]
) -> list[Problem]:
    """Turn pydantic's errors into one problem per key (union branches merged)."""
    merged: dict[str, list[str]] = {}
    other_branch: set[str] = set()
    """Keys whose error is only that another union branch's type did not fit (`a valid list`)."""
    for item in error.errors(include_url=False):
        path = [str(seg) for seg in item["loc"] if not _is_union_tag(seg)]
        key = ".".join(path)
        if item["type"] in ("list_type", "dict_type", "model_type"):
            other_branch.add(key)
        if item["type"] == "extra_forbidden":
            parent = model_at(root, path[:-1])
            options = parent.model_fields if parent is not None else []
            message = f"unknown key '{path[-1]}'{suggest(path[-1], options)}"
        elif item["type"] == "missing":
            message = "required but not set"
        elif item["type"] == "value_error":  # our own validators: the message says it all
            message = item["msg"].removeprefix("Value error, ")
        else:
            message = f"{item['msg']} (got {item.get('input')!r})"
        messages = merged.setdefault(key, [])
        if message not in messages:
            messages.append(message)
    # A mapping that fits the model branch but holds a bad value: report the value, not that it
    # is not a list either.
    for key in other_branch:
        if any(other.startswith(f"{key}.") for other in merged):
            merged.pop(key, None)
    problems = []
    for key, messages in merged.items():
        text = messages[0] if len(messages) == 1 else "expected one of: " + "; or ".join(messages)
        problems.append(Problem(key, text, locate(key)))
    return problems
