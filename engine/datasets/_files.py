"""Dataset files (JSONL, JSON, CSV, Parquet; local or from the Hub) → samples.

A `DatasetFile` re-reads its files on every pass instead of holding the samples, so memory does not
grow with the dataset (JSON, which cannot be streamed, is parsed whole). Every error names the file
and the line (or record) at fault: a dataset bug should be fixable from the message. Records become
samples by the declarative field mapping or by a `record_to_sample` hook kept beside the task.
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal, get_args

from engine._local_files import LocalFileError, allowed_roots, find_local_file
from engine.config import DatasetConfig, DatasetFields
from engine.datasets._hooks import Hook, HookError, load_hook
from engine.datasets._hub import HubError, hub_files
from engine.datasets._images import ImageError, image_parts
from engine.datasets._sample import Sample
from engine.errors import InspectRunError
from engine.messages import (
    ChatMessage,
    Content,
    ContentAudio,
    ContentImage,
    ContentText,
    ContentVideo,
    Role,
    content_from_log,
    is_url,
    is_vetted,
    vet_file,
)

Format = Literal["jsonl", "json", "csv", "parquet"]

_EXTENSIONS: dict[str, Format] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".csv": "csv",
    ".parquet": "parquet",
}
HOOK_FIELDS = DatasetFields(choices="choices", images="images")
"""How a dict returned by a hook becomes a sample: the sample's own field names."""
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ROLES: frozenset[str] = frozenset(get_args(Role))
_JSON_LIST_KEYS = ("samples", "data")
_UNITS: dict[Format, str] = {"jsonl": "line", "json": "record", "csv": "line", "parquet": "row"}
"""What a record's number counts in each format, as error messages name it (`line 3`)."""


class DatasetError(InspectRunError, ValueError):
    """A dataset file is missing or one of its records cannot become a sample."""


class DatasetFile:
    """The samples of a dataset, in file order, read lazily on each iteration.

    `search_dirs` are where a relative `path` may be found; `task_dirs` are the only places a
    `record_to_sample` hook is loaded from; the media its records name are files in the dataset
    file's folder (see `engine._local_files`), `dataset.allowed_roots` adding folders to all
    three. Without `fetch`, a Hub dataset is not downloaded (and has no samples):
    `inspect-run validate` checks configs offline.
    """

    def __init__(
        self,
        config: DatasetConfig,
        search_dirs: Sequence[Path],
        task_dirs: Sequence[Path] = (),
        *,
        fetch: bool = True,
    ) -> None:
        self.config = config
        self.fields = config.fields
        self.base_dir: Path | None
        allowed = allowed_roots(config.allowed_roots)
        try:
            if config.hub is not None:
                self.paths = hub_files(config.hub) if fetch else []
                self.base_dir = None
                self.allowed: list[Path] = []  # Hub data names no local file, ever
            else:
                self.paths = [resolve_path(str(config.path), search_dirs, allowed)]
                self.base_dir = self.paths[0].parent
                self.allowed = allowed
            self.hook: Hook | None = (
                load_hook(config.record_to_sample, task_dirs, allowed)
                if config.record_to_sample
                else None
            )
        except (HubError, HookError) as error:
            raise DatasetError(str(error)) from None
        for path in self.paths:
            dataset_format(config, path)  # an unknown format fails now, not mid-run
        self._repeated: frozenset[str] | None = None
        """Set once a whole pass found every id unique (after renaming): the ids (as text) that
        `duplicate_ids: suffix` renames. Later passes track only those, so iterating the
        dataset (once per epoch, while the samples run) holds nothing per sample."""

    def __iter__(self) -> Iterator[Sample]:
        return self._samples(resize_images=True)

    def checked(self) -> Iterator[Sample]:
        """The same samples, for the plan-time pass: every record is checked as in `__iter__`,
        but images are only verified, not decoded and resized (their parts are placeholders, not
        to be sent), so a vision dataset's images are processed once, when its samples run."""
        return self._samples(resize_images=False)

    def selected(self, positions: set[int]) -> Iterator[tuple[int, Sample]]:
        """The samples at `positions` (0-based, in iteration order) with their positions, in file
        order; only their images are decoded and resized."""
        made = self._samples(resize_images=False, resize_at=positions)
        return ((n, sample) for n, sample in enumerate(made) if n in positions)

    def _samples(self, resize_images: bool, resize_at: set[int] | None = None) -> Iterator[Sample]:
        index = position = 0
        ids = _UniqueIds(self.config.duplicate_ids, self._repeated)
        shuffle = self.config.shuffle_choices
        maker = self._maker(self.fields if self.hook is None else HOOK_FIELDS, resize_images)
        resizing = self._maker(maker.fields, True) if resize_at else maker
        for path in self.paths:
            fmt = dataset_format(self.config, path)
            unit = _UNITS[fmt]
            for number, record in _records(path, fmt, self.config):
                index += 1
                if not isinstance(record, dict):
                    raise DatasetError(
                        f"{path}, {unit} {number}: a record must be an object, got "
                        f"{type(record).__name__}"
                    )
                chosen = resizing if resize_at and position in resize_at else maker
                try:
                    sample = (
                        chosen(record, index)
                        if self.hook is None
                        else self._from_hook(record, index, chosen)
                    )
                except (DatasetError, ImageError) as error:
                    raise DatasetError(f"{self._name(path)}, {unit} {number}: {error}") from None
                if sample is not None:
                    if shuffle:
                        sample = shuffle_choices(sample, self.config.seed)
                    sample.id = ids.check(sample.id, path, unit, number)
                    position += 1
                    yield sample
        if self._repeated is None:
            self._repeated = frozenset(ids.repeats)

    def _maker(self, fields: DatasetFields, resize_images: bool) -> SampleMaker:
        """The mapping of `fields` for this dataset (its folder, roots and image size)."""
        return SampleMaker(
            fields,
            self.base_dir,
            self.config.image_max_size,
            resize_images=resize_images,
            allowed=self.allowed,
        )

    def _name(self, path: Path) -> str:
        """The dataset file as a user knows it (a Hub file: the dataset, then the cached file)."""
        return f"{self.config.location} ({path.name})" if self.config.hub is not None else str(path)

    def _from_hook(self, record: dict[str, Any], index: int, maker: SampleMaker) -> Sample | None:
        """The hook's sample (a dict it returns is mapped by `maker`, on `HOOK_FIELDS`)."""
        assert self.hook is not None
        try:
            made = self.hook(record)
        except Exception as error:
            raise DatasetError(f"record_to_sample failed: {error!r}") from None
        if made is None or isinstance(made, Sample):
            if made is not None and made.id is None:
                made.id = index
            if made is not None:
                made.input = vetted_media(
                    made.input, self.base_dir, self.allowed, "record_to_sample's input"
                )
            return made
        if isinstance(made, dict):
            return maker(made, index)
        raise DatasetError(
            f"record_to_sample must return a Sample, a dict or None, got {type(made).__name__}"
        )


class _UniqueIds:
    """Sample ids are unique as text (a resumed run and the log key on it): a repeat is an error
    naming both places, or with `duplicate_ids: suffix` becomes `id#2`, `id#3`, … in file order."""

    def __init__(
        self, mode: Literal["error", "suffix"], repeated: frozenset[str] | None = None
    ) -> None:
        """`repeated`: known from an earlier whole pass (see `DatasetFile`); only these ids are
        tracked, the others are known to be unique."""
        self.mode = mode
        self.repeated = repeated
        self.seen: dict[str, tuple[Path, str, int]] = {}
        """Each id (as text) → where it was first seen (file, unit, number: see `_place`)."""
        self.repeats: dict[str, int] = {}
        self.made: set[str] = set()
        """Ids made by `suffix`: a sample whose own id equals one is an error, not renamed."""

    def check(
        self, sample_id: str | int | None, path: Path, unit: str, number: int
    ) -> str | int | None:
        text = sample_id if type(sample_id) is str else str(sample_id)
        if self.repeated is not None and text not in self.repeated:
            return sample_id
        if text not in self.seen:  # a new id (the rest is for repeats)
            self.seen[text] = (path, unit, number)
            return sample_id
        if self.mode == "suffix" and text not in self.made:
            count = self.repeats[text] = self.repeats.get(text, 1) + 1
            sample_id = text = f"{text}#{count}"
            self.made.add(text)
        here = (path, unit, number)
        first = self.seen.setdefault(text, here)
        if first is not here:
            fix = "" if self.mode == "suffix" else "; or set dataset.duplicate_ids: suffix"
            raise DatasetError(
                f"duplicate sample id {sample_id!r}: {_place(*first)} and {_place(*here)} (sample "
                f"ids must be unique, compared as text: give each sample its own id{fix})"
            )
        return sample_id


def _place(path: Path, unit: str, number: int) -> str:
    """A record's place as a user finds it: `FILE:LINE`, else `FILE, record N`."""
    return f"{path}:{number}" if unit == "line" else f"{path}, {unit} {number}"


def read_samples(config: DatasetConfig, search_dirs: Sequence[Path]) -> list[Sample]:
    """All samples of the dataset `config` names, in file order, in memory."""
    return list(DatasetFile(config, search_dirs))


load_dataset = read_samples
"""Alias of `read_samples`."""


def resolve_path(path: str, search_dirs: Sequence[Path], allowed: Sequence[Path] = ()) -> Path:
    """A relative path against each directory in order, first hit wins, never leading out of it
    (the rule of `engine._local_files`); an absolute one only inside `allowed`."""
    try:
        found = find_local_file(path, [Path(d) for d in search_dirs], allowed, "dataset file")
    except LocalFileError as error:
        raise DatasetError(str(error)) from None
    if found is not None:
        return found
    searched = ", ".join(str(d) for d in [*search_dirs, *allowed]) or "(no directories given)"
    raise DatasetError(f"dataset file '{path}' not found; searched: {searched}")


def vetted_media(
    sample_input: str | list[ChatMessage],
    base_dir: Path | None,
    allowed: Sequence[Path],
    field: str,
) -> str | list[ChatMessage]:
    """The input with each image, audio and video file checked by the one rule for local files
    and replaced by its resolved path, the only kind a provider reads (URLs and `data:` URIs
    stay as they are). Without `base_dir` (the Hub), no local file is accepted."""
    if isinstance(sample_input, str):
        return sample_input
    messages = []
    for m, message in enumerate(sample_input, start=1):
        if isinstance(message.content, str):
            messages.append(message)
            continue
        parts = []
        for p, part in enumerate(message.content, start=1):
            where = f"{field}, message {m}, part {p} ({part.type})"
            parts.append(_vetted_part(part, base_dir, allowed, where))
        messages.append(ChatMessage(message.role, parts, message.source))
    return messages


def _vetted_part(
    part: Content, base_dir: Path | None, allowed: Sequence[Path], where: str
) -> Content:
    if isinstance(part, ContentImage):
        source = part.image
    elif isinstance(part, ContentAudio):
        source = part.audio
    elif isinstance(part, ContentVideo):
        source = part.video
    else:
        return part
    if not isinstance(source, str):
        raise DatasetError(f"{where}: the source must be a string, got {type(source).__name__}")
    if source.startswith("data:") or is_url(source) or is_vetted(source):
        return part
    if base_dir is None:
        raise DatasetError(
            f"{where}: {source!r} is a local path, but this dataset has no folder (a Hub "
            "dataset's media are bytes, data URIs or URLs): refused"
        )
    try:
        found = find_local_file(
            source, [base_dir], allowed, f"{part.type} file", "the dataset's folder"
        )
    except LocalFileError as error:
        raise DatasetError(f"{where}: {error}") from None
    if found is None:
        raise DatasetError(f"{where}: {part.type} file {source!r} not found in {base_dir}")
    vetted = vet_file(found)
    if isinstance(part, ContentImage):
        return ContentImage(vetted, part.detail)
    if isinstance(part, ContentAudio):
        return ContentAudio(vetted, part.format)
    return ContentVideo(vetted, part.format)


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


def record_to_sample(
    record: dict[str, Any],
    fields: DatasetFields,
    index: int,
    base_dir: Path | None = None,
    image_max_size: int = 1024,
    *,
    resize_images: bool = True,
    allowed: Sequence[Path] = (),
) -> Sample:
    """One record → a sample; `index` (1-based) is the id when the record has none.

    Local files it names are found in `base_dir` (or `allowed`), by the one rule for local
    files; without `base_dir`, none is read. `resize_images=False` only checks the images (see
    `DatasetFile.checked`). A dataset makes its `SampleMaker` once and calls it per record."""
    maker = SampleMaker(
        fields, base_dir, image_max_size, resize_images=resize_images, allowed=allowed
    )
    return maker(record, index)


class SampleMaker:
    """`record_to_sample` with the field mapping resolved once for a whole dataset: the field
    names, the texts of its errors and which parts it has are worked out here, so a record of
    plain values (text input, a text or number target, an id) costs a few dictionary lookups."""

    def __init__(
        self,
        fields: DatasetFields,
        base_dir: Path | None = None,
        image_max_size: int = 1024,
        *,
        resize_images: bool = True,
        allowed: Sequence[Path] = (),
    ) -> None:
        self.fields = fields
        self.base_dir = base_dir
        self.image_max_size = image_max_size
        self.resize_images = resize_images
        self.allowed = allowed
        self.input = fields.input
        self.input_where = f"input field '{fields.input}'"
        self.target = fields.target or None
        self.id = fields.id or None
        self.choices = fields.choices or None
        self.images = fields.images
        self.metadata = fields.metadata
        self.extra = [name for name in (fields.cluster, fields.human_grade) if name is not None]
        """Fields that join the metadata under their own names (see `_with_fields`)."""

    def __call__(self, record: dict[str, Any], index: int) -> Sample:
        name = self.input
        found, value = _field(record, name)
        if not found:
            present = ", ".join(map(str, record)) or "no fields"
            raise DatasetError(f"missing input field '{name}' (record has: {present})")
        sample_input: str | list[ChatMessage] = (
            value
            if type(value) is str
            else vetted_media(_input(value, name), self.base_dir, self.allowed, self.input_where)
        )
        if self.images is not None:
            sample_input = self._images(record, sample_input)
        target: str | list[str] = ""
        if self.target is not None:
            value = _field(record, self.target)[1]
            target = value if type(value) is str else _target(value)
        sample_id = _field(record, self.id)[1] if self.id is not None else None
        if type(sample_id) is not int and (type(sample_id) is not str or sample_id == ""):
            sample_id = _id(sample_id, index)
        choices = (
            _choices(_field(record, self.choices)[1], self.choices)
            if self.choices is not None
            else None
        )
        metadata = _metadata(record, self.metadata)
        if self.extra:
            metadata = _with_fields(metadata, record, self.extra)
        return Sample(sample_input, target, sample_id, choices, metadata)

    def _images(
        self, record: dict[str, Any], sample_input: str | list[ChatMessage]
    ) -> str | list[ChatMessage]:
        images_field = self.images
        assert images_field is not None
        try:
            images = image_parts(
                _field(record, images_field)[1],
                self.base_dir,
                self.image_max_size,
                resize=self.resize_images,
                allowed=self.allowed,
            )
        except ImageError as error:
            raise ImageError(f"{error} (images field '{images_field}')") from None
        return _with_images(sample_input, images) if images else sample_input


def shuffle_choices(sample: Sample, seed: int | None) -> Sample:
    """The sample with its choices in a seeded random order; letter targets follow their choice."""
    if not sample.choices:
        return sample
    order = list(range(len(sample.choices)))
    random.Random(f"{seed}:{sample.id}").shuffle(order)
    new_letter = {_LETTERS[original]: _LETTERS[position] for position, original in enumerate(order)}

    def moved(target: str) -> str:
        return new_letter.get(target.strip().upper(), target)

    target = (
        moved(sample.target)
        if isinstance(sample.target, str)
        else [moved(t) for t in sample.target]
    )
    choices = [sample.choices[original] for original in order]
    return Sample(sample.input, target, sample.id, choices, sample.metadata)


def _field(record: dict[str, Any], name: str) -> tuple[bool, Any]:
    """A field by name, or by a dotted path into nested objects (`choices.text`)."""
    if name in record:
        return True, record[name]
    value: Any = record
    for part in name.split("."):
        if not isinstance(value, dict) or part not in value:
            return False, None
        value = value[part]
    return True, value


def _with_images(
    sample_input: str | list[ChatMessage], images: list[ContentImage]
) -> list[ChatMessage]:
    """The input with `images` after the text of its (last) user message."""
    if isinstance(sample_input, str):
        return [ChatMessage("user", [ContentText(sample_input), *images], "input")]
    messages = list(sample_input)
    for position in range(len(messages) - 1, -1, -1):
        message = messages[position]
        if message.role == "user":
            parts: list[Content] = (
                [ContentText(message.content)]
                if isinstance(message.content, str)
                else list(message.content)
            )
            messages[position] = ChatMessage("user", [*parts, *images], message.source)
            return messages
    return [*messages, ChatMessage("user", list(images), "input")]


def _records(path: Path, fmt: Format, config: DatasetConfig) -> Iterator[tuple[int, Any]]:
    """Each record with its number (`_UNITS` says what it counts)."""
    try:
        if fmt == "jsonl":
            yield from _jsonl_records(path, config.encoding)
        elif fmt == "json":
            yield from _json_records(path, config.encoding)
        elif fmt == "csv":
            yield from _csv_records(path, config)
        else:
            yield from _parquet_records(path)
    except UnicodeDecodeError as error:
        encoding = "UTF-8" if config.encoding.lower().startswith("utf-8") else config.encoding
        raise DatasetError(
            f"{path} is not {encoding} text: {error}; set dataset.encoding"
        ) from None


def _jsonl_records(path: Path, encoding: str) -> Iterator[tuple[int, Any]]:
    """Each line parsed by pydantic's JSON parser (about twice as fast as `json`); a line it
    refuses is parsed again by `json`, which decides (it also takes lone surrogates) and words
    the error, so what is accepted and every message are `json`'s."""
    from pydantic_core import from_json

    with path.open(encoding=encoding) as lines:
        for number, line in enumerate(lines, start=1):
            try:
                record = from_json(line)
            except ValueError:
                if not line.strip():  # a blank line (never valid JSON) is skipped
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as error:
                    raise DatasetError(f"{path}, line {number}: invalid JSON: {error}") from None
            yield number, record


def _json_records(path: Path, encoding: str) -> Iterator[tuple[int, Any]]:
    try:
        data = json.loads(path.read_text(encoding=encoding))
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
    yield from enumerate(data, start=1)


def _csv_records(path: Path, config: DatasetConfig) -> Iterator[tuple[int, Any]]:
    with path.open(encoding=config.encoding, newline="") as file:
        reader = (
            csv.DictReader(file, dialect=config.dialect, delimiter=config.delimiter)
            if config.delimiter
            else csv.DictReader(file, dialect=config.dialect)
        )
        for row in reader:
            yield reader.line_num, row


def _parquet_records(path: Path) -> Iterator[tuple[int, Any]]:
    """Rows in batches (Parquet is columnar; a batch at a time keeps memory flat)."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise DatasetError(
            "Parquet datasets need pyarrow: pip install 'inspect-run[hub]'"
        ) from None
    try:
        rows = pq.ParquetFile(path)
        number = 0
        for batch in rows.iter_batches(batch_size=256):
            for row in batch.to_pylist():
                number += 1
                yield number, row
    except (OSError, ValueError) as error:  # pyarrow's ArrowInvalid is a ValueError
        raise DatasetError(f"{path}: not a readable Parquet file: {error}") from None


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


def _with_fields(
    metadata: dict[str, Any] | None, record: dict[str, Any], names: Sequence[str | None]
) -> dict[str, Any] | None:
    """The cluster and human-grade fields join the metadata under their own names (the log keeps
    them, so a comparison or a gate reads them back)."""
    for name in names:
        if name is None:
            continue
        found, value = _field(record, name)
        if found:
            metadata = {**(metadata or {}), name: value}
    return metadata


def _text(value: Any, what: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise DatasetError(f"{what} must hold strings or numbers, got {type(value).__name__}")
