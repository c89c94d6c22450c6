"""Image, audio and video sources (URL, `data:` URI or file path) as providers need them.

A local file is read only if the dataset layer vetted it (`vet_file`, after checking it lies inside
the task directories): a path that reached a provider any other way (a hook's Sample, a message
built in code) is refused, so no record can make a provider upload an arbitrary file.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
from pathlib import Path
from urllib.parse import unquote_to_bytes

__all__ = [
    "data_uri",
    "is_system_path",
    "is_url",
    "is_vetted",
    "media_bytes",
    "mime_type",
    "vet_file",
]

_EXTRA_TYPES = {".webp": "image/webp", ".mp3": "audio/mpeg", ".wav": "audio/wav"}


_SYSTEM_DIRS = (Path("/proc"), Path("/sys"), Path("/dev"))
_vetted: set[str] = set()
"""Resolved paths of the media files the dataset layer checked (the only files read here)."""


def is_system_path(path: Path) -> bool:
    """Under /proc, /sys or /dev: never a dataset's file, whatever the allowed roots."""
    return any(path == root or path.is_relative_to(root) for root in _SYSTEM_DIRS)


def vet_file(path: Path) -> str:
    """Mark a resolved, checked file as readable by providers; its path, as parts carry it."""
    source = str(path.resolve())
    _vetted.add(source)
    return source


def is_vetted(source: str) -> bool:
    return source in _vetted


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://", "gs://"))


def mime_type(source: str, fallback: str = "application/octet-stream") -> str:
    """The media type a source declares (data URI) or its file name suggests."""
    if source.startswith("data:"):
        return source[5:].split(";", 1)[0].split(",", 1)[0] or fallback
    suffix = Path(source.split("?", 1)[0]).suffix.lower()
    return _EXTRA_TYPES.get(suffix) or mimetypes.guess_type(f"x{suffix}")[0] or fallback


def media_bytes(source: str) -> tuple[str, bytes]:
    """(media type, bytes) of a `data:` URI or a local file; URLs are not fetched here."""
    if source.startswith("data:"):
        header, _, payload = source.partition(",")
        if ";base64" not in header:  # RFC 2397: the data is percent-encoded
            return mime_type(source), unquote_to_bytes(payload)
        try:
            return mime_type(source), base64.b64decode("".join(payload.split()), validate=True)
        except binascii.Error as error:
            raise ValueError(f"{header},… is not valid base64 data: {error}") from None
    if is_url(source):
        raise ValueError(
            f"{source} is a URL; this provider needs the bytes (use a file or data URI)"
        )
    path = Path(source)
    if source not in _vetted or str(path.resolve()) != source or is_system_path(path.resolve()):
        raise ValueError(
            f"media file {source!r} was not checked against the task directories "
            "(a dataset's files are); refused"
        )
    try:
        return mime_type(source), path.read_bytes()
    except OSError as error:
        raise ValueError(f"cannot read media file {source}: {error.strerror or error}") from None


def data_uri(source: str) -> str:
    """A URL or data URI as it is; a file path read into a base64 `data:` URI."""
    if source.startswith("data:") or is_url(source):
        return source
    kind, data = media_bytes(source)
    return f"data:{kind};base64,{base64.b64encode(data).decode()}"
