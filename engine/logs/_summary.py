"""A sample's summary (Inspect's `EvalSampleSummary`): what a log viewer lists without opening it.

Thinned the way Inspect thins it (long text cut, large metadata values dropped), so a `.eval`
log's `summaries.json` stays small however large the samples are.
"""

from __future__ import annotations

import json
import textwrap
from typing import Any

MAX_TEXT_LENGTH = 5120
THIN_TEXT_WIDTH = 1024


def _truncate(text: str) -> str:
    if len(text) > MAX_TEXT_LENGTH:
        return text[:MAX_TEXT_LENGTH] + "...\n(content truncated)"
    return text


def _thin_text(text: str) -> str:
    if len(text) <= THIN_TEXT_WIDTH:
        return text  # nothing to cut (shortening is costly, and this is the common case)
    return textwrap.shorten(text[: THIN_TEXT_WIDTH * 8], width=THIN_TEXT_WIDTH, placeholder="...")


def _thin_input(value: Any) -> Any:
    if isinstance(value, str):
        return _truncate(value)
    thinned = []
    for message in value:
        content = message.get("content")
        if isinstance(content, str):
            content = _truncate(content)
        else:
            content = [
                {"type": "text", "text": _truncate(part.get("text", ""))}
                if part.get("type") == "text"
                else {"type": "text", "text": f"({str(part.get('type', '')).capitalize()})"}
                for part in content or []
            ]
        thinned.append({**message, "content": content})
    return thinned


def _thin_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    thinned: dict[str, Any] = {}
    for key, value in metadata.items():
        if isinstance(value, str):
            thinned[key] = _thin_text(value)
        elif (
            isinstance(value, int | float | bool)
            or value is None
            or len(json.dumps(value, default=str)) <= 1024
        ):
            thinned[key] = value
        else:
            thinned[key] = "Key removed from summary (> 1k)"
    return thinned


def sample_summary(sample: dict[str, Any]) -> dict[str, Any]:
    """The summary of a logged sample (its `to_log` dict)."""
    target = sample.get("target", "")
    scores = {
        name: {
            key: _thin_text(value) if key in ("answer", "explanation") and value else value
            for key, value in score.items()
            if key != "metadata"
        }
        for name, score in (sample.get("scores") or {}).items()
    }
    error = sample.get("error")
    summary: dict[str, Any] = {
        "id": sample["id"],
        "epoch": sample["epoch"],
        "input": _thin_input(sample.get("input", "")),
        "target": [_truncate(t) for t in target] if isinstance(target, list) else _truncate(target),
        "metadata": _thin_metadata(sample.get("metadata") or {}),
        "scores": scores or None,
        "model_usage": sample.get("model_usage") or {},
        "role_usage": sample.get("role_usage") or {},
        "started_at": sample.get("started_at"),
        "completed_at": sample.get("completed_at"),
        "total_time": sample.get("total_time"),
        "working_time": sample.get("working_time"),
        "uuid": sample.get("uuid"),
        "error": error["message"] if isinstance(error, dict) else error,
        "retries": len(sample["error_retries"]) if sample.get("error_retries") else None,
        "completed": True,
        "message_count": len(sample.get("messages") or []),
    }
    if sample.get("choices") is not None:
        summary["choices"] = sample["choices"]
    return {key: value for key, value in summary.items() if value is not None}
