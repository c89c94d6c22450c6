"""`inspect-run validate [DIR…]`: check a config repo's YAML against the JSON Schemas, then compose
and plan every task, preset and sweep job, so a team's CI catches a bad config before any eval runs.

Every problem of every file is reported in one pass, once, at `file:line`: a problem that several
compositions meet (a bad `generation/default.yaml` breaks every task) is reported the first time.
A composition that fails is composed again without the keys at fault, so a problem behind another
one in the same file (a misspelt solver after a misspelt key) is found too. Models are checked by
name only (no API key needed) and Hub datasets are not downloaded.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from engine._assets import conf_dir
from engine.config import (
    CONFIG_PATH_VAR,
    ConfigError,
    Problem,
    check_file,
    display_path,
    extra_config_dirs,
    group_options,
    schema_of_file,
    search_dirs,
    user_config_dirs,
)
from engine.runner import all_problems


@dataclass
class Report:
    """What `validate` found and what it looked at."""

    problems: list[Problem] = field(default_factory=list)
    files: int = 0
    composed: int = 0
    roots: list[Path] = field(default_factory=list)
    """The user config roots checked (the built-in one is always checked)."""
    _seen: set[tuple[str | None, str, str]] = field(default_factory=set)

    def add(self, problems: Sequence[Problem], context: str = "") -> None:
        """Add problems not reported yet. At a `file:line` a key is reported once, whichever
        check found it; elsewhere a problem is the same when key, source and message are."""
        for problem in problems:
            tail = problem.key.rsplit(".", 1)[-1]
            seen = (
                (problem.source, tail, "")
                if _has_line(problem.source)
                else (problem.source, problem.key, problem.message)
            )
            if seen in self._seen:
                continue
            self._seen.add(seen)
            message = f"{problem.message} ({context})" if context else problem.message
            self.problems.append(Problem(problem.key, message, problem.source))


def _has_line(source: str | None) -> bool:
    return source is not None and source.rpartition(":")[2].isdigit()


def validate_dirs(dirs: Sequence[str | Path]) -> Report:
    """Check the built-ins plus `dirs` (and ./conf, INSPECT_RUN_CONFIG_PATH)."""
    from engine.config import compose_config, find_group_file, missing_config_path
    from engine.sweeps import check_sweep

    report = Report()
    missing = [Path(d) for d in dirs if not Path(d).is_dir()]
    report.add([Problem("", "no such config directory", str(d)) for d in missing])
    report.add(
        [
            Problem(CONFIG_PATH_VAR, f"no such config directory: {e}", "environment")
            for e in missing_config_path()
        ]
    )
    with extra_config_dirs([d for d in dirs if Path(d).is_dir()]):
        report.roots = user_config_dirs()
        broken: set[Path] = set()
        for directory in search_dirs():
            for path in sorted(directory.rglob("*.yaml")):
                schema_name = schema_of_file(directory, path)
                if schema_name is not None:
                    report.files += 1
                    found = check_file(path, schema_name)
                    report.add(found)
                    if any(not p.key for p in found):
                        broken.add(path)  # not YAML, or not a mapping: composing it says no more

        def plan(group: str, option: str, overrides: list[str]) -> None:
            if find_group_file(group, option) in broken:
                return
            report.composed += 1
            report.add(all_problems(overrides), f"composing {group}={option}")

        for task in group_options("task"):
            plan("task", task, [f"task={task}"])
        for preset in group_options("preset"):
            plan("preset", preset, [f"preset={preset}"])
        for name in group_options("gate"):  # the check texts parse (pydantic, not JSON Schema)
            report.composed += 1
            try:
                compose_config([f"gate={name}", "model=none"])
            except ConfigError as error:
                report.add(error.problems, f"composing gate={name}")
        for name in group_options("sweep"):
            if find_group_file("sweep", name) in broken:
                continue
            checked = check_sweep([f"+sweep={name}"])
            report.add(checked.composing, f"composing sweep={name}")
            report.composed += len(checked.jobs)
            for job in checked.jobs:
                report.add(job)
    return report


def _roots_line(report: Report) -> str:
    builtin = display_path(conf_dir().resolve())
    if not report.roots:
        return (
            f"checked only the built-in configs ({builtin}): no config directory given, "
            f"no ./conf, and {CONFIG_PATH_VAR} names none"
        )
    users = ", ".join(display_path(root) for root in report.roots)
    return f"checked config roots: {users}, and the built-in configs ({builtin})"


def validate_command(args: Sequence[str]) -> int:
    dirs: list[str | Path] = list(args)
    if not dirs and Path("conf").is_dir():
        dirs = [Path("conf")]
    report = validate_dirs(dirs)
    if report.problems:
        print(ConfigError(report.problems).render(), file=sys.stderr)
        print(_roots_line(report), file=sys.stderr)
        return 2
    print(_roots_line(report))
    print(
        f"ok: {report.files} config files valid; {report.composed} tasks, presets and sweep "
        "jobs compose and plan"
    )
    return 0
