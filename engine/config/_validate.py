"""`inspect-run validate [DIR…]`: check a config repo's YAML against the JSON Schemas, then compose
and plan every task, so a team's CI catches a bad config before any eval runs.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from engine.config._errors import ConfigError, Problem, suggest
from engine.config._searchpath import display_path, extra_config_dirs, group_options, search_dirs

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


def _schema_name(directory: Path, path: Path) -> str | None:
    relative = path.relative_to(directory)
    if relative.parts == ("config.yaml",):
        return "config"
    return _SCHEMA_OF_GROUP.get(relative.parts[0]) if len(relative.parts) > 1 else None


def check_file(path: Path, schema_name: str) -> list[Problem]:
    """Problems in one YAML file: YAML syntax, then the group's JSON Schema."""
    import jsonschema
    import yaml

    from engine.config._jsonschema import load_schema

    where = display_path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        return [Problem("", f"not valid YAML: {error}", where)]
    if data is None:
        return []
    if not isinstance(data, dict):
        return [Problem("", f"expected a mapping, got {type(data).__name__}", where)]
    partial = "defaults" in data or schema_name == "config"
    data = {k: v for k, v in data.items() if k not in ("defaults", "hydra")}
    schema = load_schema(schema_name)
    problems = []
    for invalid in jsonschema.Draft202012Validator(schema).iter_errors(data):
        if isinstance(invalid.instance, str) and "${" in invalid.instance:
            continue  # an interpolation: checked after composition
        if invalid.validator == "required" and partial:
            continue  # an overlay or a file that extends another: composition checks the rest
        keys = [str(part) for part in invalid.absolute_path]
        if invalid.validator == "additionalProperties" and isinstance(invalid.instance, dict):
            allowed = set(invalid.schema.get("properties", {}))
            for unknown in (k for k in invalid.instance if k not in allowed):
                key = ".".join([*keys, unknown])
                problems.append(Problem(key, f"unknown key{suggest(unknown, allowed)}", where))
            continue
        if invalid.context:  # anyOf: say what each alternative wanted
            wanted = sorted({str(e.message).split(" is not ")[-1] for e in invalid.context})
            message = f"{invalid.instance!r} is not {' or '.join(wanted)}"
        else:
            message = str(invalid.message)
        problems.append(Problem(".".join(keys), message, where))
    return problems


def validate_dirs(dirs: Sequence[str | Path]) -> tuple[list[Problem], int, int]:
    """(problems, files checked, tasks composed) for the built-ins plus `dirs`."""
    from engine.config._compose import compose_config, expand_sweep
    from engine.runner import build_plan

    problems: list[Problem] = []
    files = 0
    missing = [Path(d) for d in dirs if not Path(d).is_dir()]
    problems += [Problem("", "no such config directory", str(d)) for d in missing]
    with extra_config_dirs([d for d in dirs if Path(d).is_dir()]):
        for directory in search_dirs():
            for path in sorted(directory.rglob("*.yaml")):
                schema_name = _schema_name(directory, path)
                if schema_name is not None:
                    files += 1
                    problems += check_file(path, schema_name)
        tasks = group_options("task")
        for task in tasks:
            try:
                build_plan(compose_config([f"task={task}", "model=none"]), fetch=False)
            except ConfigError as error:
                problems += [
                    Problem(p.key, f"{p.message} (composing task={task})", p.source)
                    for p in error.problems
                ]
        for name in group_options("gate"):  # the check texts parse (pydantic, not JSON Schema)
            try:
                compose_config([f"gate={name}", "model=none"])
            except ConfigError as error:
                problems += [
                    Problem(p.key, f"{p.message} (composing gate={name})", p.source)
                    for p in error.problems
                ]
        for name in group_options("sweep"):  # every job composes (planning would need API keys)
            try:
                sweep = expand_sweep([f"+sweep={name}"])
            except ConfigError as error:
                problems += error.problems
                continue
            for job in sweep.jobs:
                try:
                    compose_config(job)
                except ConfigError as error:
                    problems += sweep.job_problems(error, job)
    return problems, files, len(tasks)


def validate_command(args: Sequence[str]) -> int:
    dirs: list[str | Path] = list(args)
    if not dirs and Path("conf").is_dir():
        dirs = [Path("conf")]
    problems, files, tasks = validate_dirs(dirs)
    if problems:
        print(ConfigError(problems).render(), file=sys.stderr)
        return 2
    print(f"ok: {files} config files valid, {tasks} tasks compose and plan")
    return 0
