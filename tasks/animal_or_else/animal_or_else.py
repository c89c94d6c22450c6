"""animal_or_else records → samples: a set of images and how many of them show an animal.

The images stay as the dataset holds them (bytes); the engine scales each to 1024 px and attaches
it to the user message after the question.
"""

from __future__ import annotations

from typing import Any

QUESTION = (
    "Here are {count} images. How many of them show an animal? "
    "Answer with the number, then one sentence naming the animals you see."
)


def record_to_sample(record: dict[str, Any]) -> dict[str, Any]:
    images = list(record["images"])
    return {
        "id": record["id"],
        "input": QUESTION.format(count=len(images)),
        "images": images,
        "target": f"{record['animals']} of the {len(images)} images show an animal.",
    }
