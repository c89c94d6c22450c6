"""Local dataset files (JSONL, JSON, CSV) → samples.

A `DatasetFile` re-reads its file on every pass instead of holding the samples, so memory does not
grow with the dataset (JSON, which cannot be streamed, is parsed whole). Every error names the file
and the line (or record) at fault: a dataset bug should be fixable from the message.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal, get_args

from engine.config import DatasetConfig, DatasetFields
from engine.datasets._sample import Sample
from engine.providers import ChatMessage
from engine.providers._types import Content, ContentImage, Role, content_from_log

Format = Literal["jsonl", "json", "csv"]

_EXTENSIONS: dict[str, Format] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".csv": "csv",
}
_ROLES: frozenset[str] = frozenset(get_args(Role))
_JSON_LIST_KEYS = ("samples", "data")
_ENCODING = "utf-8-sig"
"""UTF-8, tolerating the byte-order mark spreadsheet tools put at the start of a CSV."""


class DatasetError(ValueError):
    """A dataset file is missing or one of its records cannot become a sample."""


class DatasetFile:
    """The samples of a dataset file, in file order, read lazily on each iteration."""

    def __init__(self, config: DatasetConfig, search_dirs: Sequence[Path]) -> None:
        self.path = resolve_path(config.path, search_dirs)
        self.format = dataset_format(config, self.path)
        self.fields = config.fields

    def __iter__(self) -> Iterator[Sample]:
        return _iter_samples(self.path, self.format, self.fields)


def read_samples(config: DatasetConfig, search_dirs: Sequence[Path]) -> list[Sample]:
    """All samples of the dataset `config` names, in file order, in memory."""
    return list(DatasetFile(config, search_dirs))


load_dataset = read_samples
"""Alias of `read_samples`."""


def resolve_path(path: str, search_dirs: Sequence[Path]) -> Path:
    """An absolute path as is; a relative one against each directory in order, first hit wins."""
    candidate = Path(path).expanduser()
    if candidate.is_absolute():
        if candidate.is_file():
            return candidate
        raise DatasetError(f"dataset file {candidate} does not exist")
    for directory in search_dirs:
        found = Path(directory) / candidate
        if found.is_file():
            return found
    searched = ", ".join(str(directory) for directory in search_dirs) or "(no directories given)"
    raise DatasetError(f"dataset file '{path}' not found; searched: {searched}")


def dataset_format(config: DatasetConfig, path: Path) -> Format:
    """`config.format` when set, else the file extension."""
    if config.format is not None:
        return config.format
    found = _EXTENSIONS.get(path.suffix.lower())
    if found is None:
        raise DatasetError(
            f"cannot tell the format of {path} from its extension; set dataset.format to one of "
            f"{', '.join(get_args(Format))}"
        )
    return found


def record_to_sample(record: dict[str, Any], fields: DatasetFields, index: int) -> Sample:
    """One record → a sample; `index` (1-based) is the id when the record has none."""
    if fields.input not in record:
        present = ", ".join(map(str, record)) or "no fields"
        raise DatasetError(f"missing input field '{fields.input}' (record has: {present})")
    return Sample(
        input=_input(record[fields.input], fields.input),
        target=_target(record.get(fields.target)) if fields.target else "",
        id=_id(record.get(fields.id) if fields.id else None, index),
        choices=_choices(record.get(fields.choices), fields.choices) if fields.choices else None,
        metadata=_metadata(record, fields.metadata),
    )


def _iter_samples(path: Path, fmt: Format, fields: DatasetFields) -> Iterator[Sample]:
    records = {"jsonl": _jsonl_records, "json": _json_records, "csv": _csv_records}[fmt]
    try:
        for index, (where, record) in enumerate(records(path), start=1):
            if not isinstance(record, dict):
                raise DatasetError(
                    f"{path}, {where}: a record must be an object, got {type(record).__name__}"
                )
            try:
                yield record_to_sample(record, fields, index)
            except DatasetError as error:
                raise DatasetError(f"{path}, {where}: {error}") from None
    except UnicodeDecodeError as error:
        raise DatasetError(f"{path} is not UTF-8 text: {error}") from None


def _jsonl_records(path: Path) -> Iterator[tuple[str, Any]]:
    with path.open(encoding=_ENCODING) as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise DatasetError(f"{path}, line {number}: invalid JSON: {error}") from None
            yield f"line {number}", record


def _json_records(path: Path) -> Iterator[tuple[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding=_ENCODING))
    except json.JSONDecodeError as error:
        raise DatasetError(f"{path}, line {error.lineno}: invalid JSON: {error.msg}") from None
    if isinstance(data, dict):
        for key in _JSON_LIST_KEYS:
            if isinstance(data.get(key), list):
                data = data[key]
                break
    if not isinstance(data, list):
        raise DatasetError(
            f"{path}: a JSON dataset is a list of records or an object with a list under "
            f"{' or '.join(repr(key) for key in _JSON_LIST_KEYS)}"
        )
    for number, record in enumerate(data, start=1):
        yield f"record {number}", record


def _csv_records(path: Path) -> Iterator[tuple[str, Any]]:
    with path.open(encoding=_ENCODING, newline="") as file:
        reader = csv.DictReader(file)
        for row in reader:
            yield f"line {reader.line_num}", row


def _input(value: Any, name: str) -> str | list[ChatMessage]:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value:
        return [_message(item, number, name) for number, item in enumerate(value, start=1)]
    raise DatasetError(
        f"input field '{name}' must be a string or a non-empty list of chat messages, "
        f"got {type(value).__name__}"
    )


def _message(item: Any, number: int, name: str) -> ChatMessage:
    where = f"input field '{name}', message {number}"
    if not isinstance(item, dict) or "role" not in item or "content" not in item:
        raise DatasetError(f"{where}: a chat message is an object with 'role' and 'content'")
    role, content = item["role"], item["content"]
    if role not in _ROLES:
        raise DatasetError(f"{where}: unknown role {role!r} (one of {', '.join(sorted(_ROLES))})")
    if isinstance(content, list):
        try:
            content = [_part(part) for part in content]
        except (ValueError, TypeError) as error:
            raise DatasetError(f"{where}: {error}") from None
    elif not isinstance(content, str):
        raise DatasetError(
            f"{where}: content must be a string or a list of parts, got {type(content).__name__}"
        )
    return ChatMessage(role, content, "input")


def _part(part: Any) -> Content:
    """A content part in Inspect's form (`{type: image, image: …}`) or OpenAI's (`image_url`)."""
    if not isinstance(part, dict):
        raise TypeError(f"a content part is an object with a 'type', got {type(part).__name__}")
    if part.get("type") == "image_url" and isinstance(part.get("image_url"), dict):
        return ContentImage(part["image_url"]["url"], part["image_url"].get("detail", "auto"))
    return content_from_log(part)


def _target(value: Any) -> str | list[str]:
    if value is None:
        return ""
    if isinstance(value, list):
        return [_text(item, "target") for item in value]
    return _text(value, "target")


def _id(value: Any, index: int) -> str | int:
    if value is None or value == "":
        return index
    if isinstance(value, int | str) and not isinstance(value, bool):
        return value
    return str(value)


def _choices(value: Any, name: str) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise DatasetError(f"choices field '{name}' must be a list, got {type(value).__name__}")
    return [_text(item, f"choices field '{name}'") for item in value]


def _metadata(record: dict[str, Any], names: list[str] | None) -> dict[str, Any] | None:
    if names is not None:
        return {name: record[name] for name in names if name in record}
    metadata = record.get("metadata")
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        raise DatasetError(f"field 'metadata' must be an object, got {type(metadata).__name__}")
    return metadata


def _text(value: Any, what: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise DatasetError(f"{what} must hold strings or numbers, got {type(value).__name__}")
