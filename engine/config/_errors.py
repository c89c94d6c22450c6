"""Config problems: every one found is reported at once, with its key, its source and a did-you-mean."""

from __future__ import annotations

import re
import types
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from engine.errors import InspectRunError
from engine.registry import did_you_mean as suggest  # the one did-you-mean helper

EXIT_BAD_CONFIG = 2


@dataclass(frozen=True, slots=True)
class Problem:
    key: str
    message: str
    source: str | None = None

    def __str__(self) -> str:
        where = f" [{self.source}]" if self.source else ""
        return f"{self.key or '(root)'}{where}: {self.message}"


class ConfigError(InspectRunError, ValueError):
    """The configuration is invalid; nothing has been sent to any provider."""

    exit_status = 2

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(self.render())

    def render(self) -> str:
        count = len(self.problems)
        head = f"invalid configuration ({count} problem{'s' if count != 1 else ''}):"
        return "\n".join([head, *(f"  - {problem}" for problem in self.problems)])


_PYDANTIC_TAG = re.compile(r"[a-z]+(-[a-z]+)+")
"""`constrained-int`, `lax-or-strict`: how pydantic names a union member it tried."""
_TYPE_TAGS = {"int", "float", "str", "bool", "none", "dict", "list", "tuple", "literal"}


def _key_path(root: type[BaseModel], loc: typing.Sequence[object]) -> list[str]:
    """The config key of a pydantic error location, without the union members pydantic puts in
    it (`int`, `RoleConfig`, `function-after[…]`). Decided by the schema, so a dict key such as
    `openai/gpt-4o` is kept."""
    current: list[Any] = [root]
    path: list[str] = []
    for segment in loc:
        text = str(segment)
        names = {kind.__name__ for kind in current if isinstance(kind, type)}
        union = len([kind for kind in current if kind is not type(None)]) > 1
        tag = text in _TYPE_TAGS or text in names or _PYDANTIC_TAG.fullmatch(text) is not None
        if "[" in text or (union and tag):
            narrowed = [k for k in current if isinstance(k, type) and k.__name__ == text]
            current = narrowed or current
            continue
        path.append(text)
        following: list[Any] = []
        for kind in current:
            origin = typing.get_origin(kind)
            if kind is Any:
                following.append(Any)
            elif isinstance(kind, type) and issubclass(kind, BaseModel):
                field = kind.model_fields.get(text)
                following += _unwrap(field.annotation) if field is not None else []
            elif origin is dict:
                following += _unwrap(typing.get_args(kind)[1])
            elif origin in (list, tuple):
                args = [a for a in typing.get_args(kind) if a is not Ellipsis]
                for arg in args:
                    following += _unwrap(arg)
        current = following or [Any]
    return path


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
        path = _key_path(root, item["loc"])
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
