"""AI2 ARC records → samples. Most questions label their choices A-D, some 1-4: the target is
always the letter of the right choice, so the `choice` scorer can compare letters."""

from __future__ import annotations

import string
from typing import Any


def record_to_sample(record: dict[str, Any]) -> dict[str, Any]:
    labels = [str(label) for label in record["choices"]["label"]]
    return {
        "id": record["id"],
        "input": record["question"],
        "choices": list(record["choices"]["text"]),
        "target": string.ascii_uppercase[labels.index(str(record["answerKey"]))],
    }
