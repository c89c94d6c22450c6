"""The main help: usage, the config keys (generated from the schema) and the config groups found.

The key list is read from `schemas/config.schema.json`, which `inspect-run schemas` generates from
`RunConfig` (and `schemas --check` keeps in step), so help stays instant without importing pydantic.
"""

from __future__ import annotations

import json
from typing import Any

USAGE = """\
usage: inspect-run [-m] [--cfg job] [KEY=VALUE | GROUP=OPTION | +roles.NAME=MODEL …]
       inspect-run +sweep=NAME [KEY=VALUE …]
       inspect-run COMMAND [ARGS…]   (inspect-run COMMAND --help)"""

DESCRIPTION = """\
Run an eval composed from YAML config groups. With no arguments: theory_of_mind on the embedded
local model (SmolLM2 through llama.cpp), graded by the same model.

examples:
  inspect-run task=theory_of_mind model=openai/gpt-4o-mini roles.grader=openai/gpt-4o
  inspect-run -m task=theory_of_mind model=openai/gpt-4o,groq/llama-3.3-70b-versatile
  inspect-run model=vllm/Qwen/Qwen3-8B model_base_url=http://gpu:8000/v1 limit=50
  inspect-run model=openai/gpt-4o generation.temperature=0 connection.max_connections=50
  inspect-run preset=smollm2 model_args.n_ctx=4096
  inspect-run --cfg job task=arc_easy model=openai/gpt-4o   (print the config; send nothing)"""

NOTES = """\
model strings: PROVIDER/NAME; model=none for tasks that only use roles; unset → INSPECT_EVAL_MODEL
API keys come from the environment or a .env file, never from config.
exit status: 0 success, 1 samples failed beyond fail_on_error (or gate FAIL), 2 bad config,
             3 gate INCONCLUSIVE (gate=NAME on a run or sweep, or `inspect-run gate`),
             75 another process is running the same eval (nothing sent), 130 interrupted
             (Ctrl-C or SIGTERM; the same command resumes)"""

GROUPS: tuple[str, ...] = ("task", "generation", "connection", "batch", "cache", "roles", "prices")
GROUPS += ("preset", "sweep", "gate", "hydra/launcher")


def _key(name: str, schema: dict[str, Any]) -> str:
    """`generation.*` for a nested model, `metadata.KEY` for a mapping, `display (a|b)` for a
    choice, else the name."""
    options = [schema, *schema.get("anyOf", [])]
    if any("$ref" in option for option in options):
        return f"{name}.*"
    if schema.get("type") == "object":
        return f"{name}.KEY"
    if "enum" in schema:
        return f"{name} ({'|'.join(map(str, schema['enum']))})"
    return name


def config_keys() -> list[str]:
    """Every top-level key of `RunConfig`, as the help shows it."""
    from engine._assets import schemas_dir

    schema = json.loads((schemas_dir() / "config.schema.json").read_text(encoding="utf-8"))
    return [_key(name, field) for name, field in schema["properties"].items()]


def _wrapped(label: str, items: list[str], width: int = 100) -> list[str]:
    """`label item, item, …` over lines of at most `width`, never breaking an item."""
    lines = [label]
    for item in items:
        if len(lines[-1]) + len(item) + 2 > width and lines[-1].strip():
            lines[-1] = lines[-1].rstrip()
            lines.append(" " * len(label))
        lines[-1] += f"{item}, "
    lines[-1] = lines[-1].removesuffix(", ")
    return lines


def run_help() -> str:
    """The text after the options: the keys, the notes and the config groups found."""
    from engine.config import group_options

    lines = _wrapped("keys: ", config_keys())
    lines += [NOTES, "", "config groups (user dirs: ./conf and INSPECT_RUN_CONFIG_PATH first):"]
    lines += [f"  {group}: {', '.join(group_options(group)) or '-'}" for group in GROUPS]
    return "\n".join(lines)
