"""The file checks of `inspect-run validate` (the command is `engine.cli._problems`): a config
file's YAML against the JSON Schema of its group, every problem at `file:line`, before composing.
"""

from __future__ import annotations

from pathlib import Path

from engine.config._errors import Problem, suggest
from engine.config._lines import yaml_error, yaml_line
from engine.config._searchpath import display_path

_SCHEMA_OF_GROUP = {
    "task": "task",
    "generation": "generation",
    "connection": "connection",
    "batch": "batch",
    "cache": "cache",
    "roles": "roles",
    "prices": "prices",
    "gate": "gate",
    "preset": "config",  # overlays at the global package
    "sweep": "config",  # `hydra.sweeper.params` plus any keys it sets for every job
    "local": "config",
}


def schema_of_file(directory: Path, path: Path) -> str | None:
    """The schema a YAML file under a config root is checked against (None: not a config file)."""
    relative = path.relative_to(directory)
    if relative.parts == ("config.yaml",):
        return "config"
    return _SCHEMA_OF_GROUP.get(relative.parts[0]) if len(relative.parts) > 1 else None


def check_file(path: Path, schema_name: str) -> list[Problem]:
    """Problems in one YAML file: encoding, YAML syntax, then the group's JSON Schema."""
    import jsonschema
    import yaml

    from engine.config._jsonschema import load_schema

    where = display_path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as error:
        return [Problem("", f"not UTF-8 text ({error.reason} at byte {error.start})", where)]
    except yaml.YAMLError as error:
        return [yaml_error(error, path)]
    if data is None:
        return []
    if not isinstance(data, dict):
        return [Problem("", f"expected a mapping, got {type(data).__name__}", f"{where}:1")]
    partial = "defaults" in data or schema_name == "config"
    data = {k: v for k, v in data.items() if k not in ("defaults", "hydra")}
    schema = load_schema(schema_name)

    def at(keys: list[str]) -> str:
        line = yaml_line(path, keys)
        return f"{where}:{line}" if line is not None else where

    problems = []
    for invalid in jsonschema.Draft202012Validator(schema).iter_errors(data):
        if isinstance(invalid.instance, str) and "${" in invalid.instance:
            continue  # an interpolation: checked after composition
        if invalid.validator == "required" and partial:
            continue  # an overlay or a file that extends another: composition checks the rest
        keys = [str(part) for part in invalid.absolute_path]
        if invalid.validator == "required" and isinstance(invalid.instance, dict):
            for name in (n for n in invalid.validator_value if n not in invalid.instance):
                problems.append(Problem(".".join([*keys, name]), "required but not set", at(keys)))
            continue
        if invalid.validator == "additionalProperties" and isinstance(invalid.instance, dict):
            allowed = set(invalid.schema.get("properties", {}))
            for unknown in (k for k in invalid.instance if k not in allowed):
                key = ".".join([*keys, unknown])
                message = f"unknown key{suggest(unknown, allowed)}"
                problems.append(Problem(key, message, at([*keys, unknown])))
            continue
        if invalid.context:  # anyOf: say what each alternative wanted
            said = [str(e.message).removeprefix(f"{e.instance!r} ") for e in invalid.context]
            message = f"{invalid.instance!r} {', '.join(sorted(set(said)))}"
        else:
            message = str(invalid.message)
        problems.append(Problem(".".join(keys), message, at(keys)))
    return problems
