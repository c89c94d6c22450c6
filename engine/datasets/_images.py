"""Images from dataset records → image parts, scaled down to a maximum size with Pillow.

A record may hold raw bytes, the Hub's `{bytes, path}` form, a file path (relative to the dataset
file, never outside its folder), a URL or a `data:` URI. Larger images are scaled so their longer
side is `max_size` pixels (the seed's 1024 px) and sent as `data:` URIs; smaller ones keep their
bytes. Pillow is imported only when a dataset has images.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

from engine.providers import ContentImage
from engine.providers._media import is_url, media_bytes

_KEPT_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}


class ImageError(ValueError):
    """An image in a record cannot be read."""


def resized_data_uri(data: bytes, max_size: int) -> str:
    """`data` as a data URI, scaled down to fit `max_size` × `max_size` when larger."""
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:
        raise ImageError(
            "images in datasets need Pillow: pip install 'inspect-run[vision]'"
        ) from None
    try:
        with Image.open(io.BytesIO(data)) as image:
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
    except (UnidentifiedImageError, OSError) as error:
        raise ImageError(f"not a readable image: {error}") from None
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def image_parts(value: Any, base_dir: Path | None, max_size: int) -> list[ContentImage]:
    """Every image in `value` (one or a list), as image parts."""
    items = value if isinstance(value, list) else [value]
    return [ContentImage(_source(item, base_dir, max_size)) for item in items if item is not None]


def _source(item: Any, base_dir: Path | None, max_size: int) -> str:
    if isinstance(item, dict):
        if item.get("bytes"):
            return resized_data_uri(bytes(item["bytes"]), max_size)
        item = item.get("path")
    if isinstance(item, bytes | bytearray):
        return resized_data_uri(bytes(item), max_size)
    if not isinstance(item, str) or not item:
        raise ImageError(f"an image is bytes, {{bytes, path}}, a path or a URL, got {item!r}")
    if is_url(item):
        return item
    if item.startswith("data:"):
        return resized_data_uri(media_bytes(item)[1], max_size)
    return resized_data_uri(_local_file(item, base_dir).read_bytes(), max_size)


def _local_file(name: str, base_dir: Path | None) -> Path:
    """A relative image path inside the dataset's folder; anything else is refused."""
    if base_dir is None:
        raise ImageError(f"image path {name!r}: this dataset has no folder to read files from")
    path = (base_dir / name).resolve()
    if Path(name).is_absolute() or not path.is_relative_to(base_dir.resolve()):
        raise ImageError(f"image path {name!r} is outside the dataset's folder {base_dir}")
    if not path.is_file():
        raise ImageError(f"image file {name!r} not found in {base_dir}")
    return path
