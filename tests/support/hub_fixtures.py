"""Small fixture datasets in the Hub's own formats (Parquet, images as {bytes, path}), for tests."""

from __future__ import annotations

import io
from typing import Any

ARC_EASY = [
    {
        "id": "Mercury_7175875",
        "question": "An astronomer observes that a planet rotates faster after a meteorite "
        "impact. Which is the most likely effect of this increase in rotation?",
        "choices": {
            "text": [
                "Planetary density will decrease.",
                "Planetary years will become longer.",
                "Planetary days will become shorter.",
                "Planetary gravity will become stronger.",
            ],
            "label": ["A", "B", "C", "D"],
        },
        "answerKey": "C",
    },
    {
        "id": "NYSEDREGENTS_2015_4_11",
        "question": "Which object gives off its own light?",
        "choices": {"text": ["the Moon", "the Sun", "Mars"], "label": ["1", "2", "3"]},
        "answerKey": "2",
    },
]

ARC_CHALLENGE = [
    {
        "id": "Mercury_SC_415702",
        "question": "George wants to warm his hands quickly by rubbing them. Which skin surface "
        "will produce the most heat?",
        "choices": {
            "text": [
                "dry palms",
                "wet palms",
                "palms covered with oil",
                "palms covered with lotion",
            ],
            "label": ["A", "B", "C", "D"],
        },
        "answerKey": "A",
    }
]


def parquet_bytes(rows: list[dict[str, Any]]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), buffer)
    return buffer.getvalue()


def png_bytes(width: int, height: int, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, format="PNG")
    return buffer.getvalue()


def arc_repo() -> dict[str, bytes]:
    """`allenai/ai2_arc` as the Hub lays it out: one folder per configuration."""
    return {
        "README.md": b"---\nlicense: cc-by-sa-4.0\n---\n# ai2_arc fixture\n",
        "ARC-Easy/test-00000-of-00001.parquet": parquet_bytes(ARC_EASY),
        "ARC-Easy/train-00000-of-00001.parquet": parquet_bytes(ARC_EASY[:1]),
        "ARC-Challenge/test-00000-of-00001.parquet": parquet_bytes(ARC_CHALLENGE),
    }


def animals_rows() -> list[dict[str, Any]]:
    """Records with several real images each (one larger than 1024 px) and the animal count."""
    return [
        {
            "id": "set-1",
            "images": [
                {"bytes": png_bytes(2048, 1024, (120, 80, 40)), "path": "dog.png"},
                {"bytes": png_bytes(64, 64, (30, 120, 200)), "path": "sky.png"},
            ],
            "animals": 1,
            "labels": ["dog", "sky"],
        },
        {
            "id": "set-2",
            "images": [
                {"bytes": png_bytes(32, 48, (250, 250, 250)), "path": "cat.png"},
                {"bytes": png_bytes(40, 40, (10, 200, 10)), "path": "bird.png"},
                {"bytes": png_bytes(40, 40, (90, 90, 90)), "path": "rock.png"},
            ],
            "animals": 2,
            "labels": ["cat", "bird", "rock"],
        },
    ]


def animals_repo() -> dict[str, bytes]:
    return {"data/test-00000-of-00001.parquet": parquet_bytes(animals_rows())}
