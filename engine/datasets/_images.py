"""Images from dataset records → image parts, scaled down to a maximum size with Pillow.

A record may hold raw bytes, the Hub's `{bytes, path}` form, a file path (relative to the dataset
file's folder, by the one rule of `engine._local_files`), a URL or a `data:` URI. Larger images are scaled so their longer
side is `max_size` pixels (the seed's 1024 px) and sent as `data:` URIs; smaller ones keep their
bytes. Pillow is imported only when a dataset has images. The plan-time pass over a dataset only
checks each image (`resize=False`); decoding and resizing happen when the sample runs, and the
results are kept (by content, within `RESIZED_CACHE_BYTES`) for the next epoch's reading.
"""

from __future__ import annotations

import base64
import hashlib
import io
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from engine._local_files import LocalFileError, find_local_file
from engine.errors import InspectRunError
from engine.messages import ContentImage, is_url, media_bytes

_KEPT_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}


class ImageError(InspectRunError, ValueError):
    """An image in a record cannot be read."""


def _pillow() -> Any:
    try:
        from PIL import Image
    except ImportError:
        raise ImageError(
            "images in datasets need Pillow: pip install 'inspect-run[vision]'"
        ) from None
    return Image


RESIZED_CACHE_BYTES = 256 * 1024 * 1024
"""How much of the resized images' data URIs are kept, most recently used first, so a dataset read
again for each epoch resizes each image once when they fit (a larger one: as before, per epoch)."""
_resized: OrderedDict[tuple[str, int], str] = OrderedDict()
_resized_bytes = 0


def resized_data_uri(data: bytes, max_size: int) -> str:
    """`data` as a data URI, scaled down to fit `max_size` × `max_size` when larger."""
    global _resized_bytes
    key = (hashlib.sha256(data).hexdigest(), max_size)
    found = _resized.get(key)
    if found is not None:
        _resized.move_to_end(key)
        return found
    uri = _resize(data, max_size)
    if len(uri) <= RESIZED_CACHE_BYTES:
        _resized[key] = uri
        _resized_bytes += len(uri)
        while _resized_bytes > RESIZED_CACHE_BYTES:
            _resized_bytes -= len(_resized.popitem(last=False)[1])
    return uri


def _resize(data: bytes, max_size: int) -> str:
    image_module = _pillow()
    try:
        with image_module.open(io.BytesIO(data)) as image:
            image_format = image.format or "PNG"
            if max(image.size) <= max_size and image_format in _KEPT_FORMATS:
                mime = _KEPT_FORMATS[image_format]
            else:
                image.thumbnail((max_size, max_size))
                image_format = "JPEG" if image_format == "JPEG" else "PNG"
                mime = _KEPT_FORMATS[image_format]
                buffer = io.BytesIO()
                image.save(buffer, format=image_format)
                data = buffer.getvalue()
    except (image_module.UnidentifiedImageError, OSError) as error:
        raise ImageError(f"not a readable image: {error}") from None
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def checked_image(data: bytes) -> str:
    """A placeholder for `data` once Pillow has checked it can be read whole.

    A PNG's chunks are verified without decoding pixels; a JPEG is decoded at 1/8 scale; nothing is
    resized or encoded. This is the plan-time check, so the full decoding and resizing happen once,
    when the sample runs, and an image that would fail then fails planning instead. The placeholder (an empty `data:`
    URI of the image's type) is never sent to a model.
    """
    image_module = _pillow()
    try:
        with image_module.open(io.BytesIO(data)) as image:
            image_format = image.format or ""
            mime = image_module.MIME.get(image_format, "image/png")
            if image_format == "PNG":
                image.verify()  # every chunk's CRC: a truncated or damaged file fails
            else:  # JPEG decodes at 1/8 scale (cheap); other formats are read whole
                image.draft("RGB", (max(1, image.width // 8), max(1, image.height // 8)))
                image.load()
    except (image_module.UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise ImageError(f"not a readable image: {error}") from None
    return f"data:{mime};base64,"


def image_parts(
    value: Any,
    base_dir: Path | None,
    max_size: int,
    *,
    resize: bool = True,
    allowed: Sequence[Path] = (),
) -> list[ContentImage]:
    """Every image in `value` (one or a list), as image parts.

    A file path is found by the one rule for local files (`engine._local_files`) in
    `base_dir` or `allowed`; without `base_dir` (the Hub), no path is read. `resize=False` only
    checks that each image is readable (see `checked_image`).
    """
    convert = (lambda data: resized_data_uri(data, max_size)) if resize else checked_image
    items = value if isinstance(value, list) else [value]
    return [
        ContentImage(_source(item, base_dir, allowed, convert))
        for item in items
        if item is not None
    ]


def _source(
    item: Any, base_dir: Path | None, allowed: Sequence[Path], convert: Callable[[bytes], str]
) -> str:
    if isinstance(item, dict):
        if item.get("bytes"):
            return convert(bytes(item["bytes"]))
        item = item.get("path")
    if isinstance(item, bytes | bytearray):
        return convert(bytes(item))
    if not isinstance(item, str) or not item:
        raise ImageError(f"an image is bytes, {{bytes, path}}, a path or a URL, got {item!r}")
    if is_url(item):
        return item
    if item.startswith("data:"):
        return convert(media_bytes(item)[1])
    return convert(_local_file(item, base_dir, allowed).read_bytes())


def _local_file(name: str, base_dir: Path | None, allowed: Sequence[Path]) -> Path:
    """An image path inside the dataset's folder (or an allowed root); anything else is refused."""
    if base_dir is None:
        raise ImageError(
            f"image path {name!r}: this dataset has no folder to read files from (a Hub "
            "dataset's images are bytes or URLs)"
        )
    try:
        found = find_local_file(name, [base_dir], allowed, "image path", "the dataset's folder")
    except LocalFileError as error:
        raise ImageError(str(error)) from None
    if found is None:
        raise ImageError(f"image file {name!r} not found in {base_dir}")
    return found
