"""Join the shard logs of one job into the log an unsharded run of the same config writes.

The samples are copied as they are; the metrics are computed again over all of them with the
task's metrics and epoch reducers (never averaged across shards); usage is summed. The merged
log is `success` only when every shard finished and every selected sample is there.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import InspectRunError
from engine.logs import (
    LOG_SUFFIXES,
    LogSink,
    config_hash,
    eval_error,
    eval_stats,
    iter_log_samples,
    log_writer,
    read_log_header,
    utc_now,
)


class MergeError(InspectRunError, ValueError):
    """The logs given are not one whole shard set (the message lists each problem)."""


@dataclass
class ShardLog:
    path: Path
    header: dict[str, Any]

    @property
    def inspect_run(self) -> dict[str, Any]:
        return dict(
            ((self.header.get("eval") or {}).get("metadata") or {}).get("inspect_run") or {}
        )

    @property
    def shard(self) -> dict[str, Any]:
        return dict(self.inspect_run.get("shard") or {})


@dataclass
class MergedLog:
    path: Path
    status: str
    samples: int
    """(sample, epoch) records in the merged log."""
    expected: int
    errors: int
    metrics: dict[str, dict[str, float]]
    usage: dict[str, Any]
    shards: list[Path] = field(default_factory=list)
    duration: float = 0.0


def shard_logs(paths: Sequence[Path]) -> list[Path]:
    """The logs under `paths` (files as given; in a folder, each run folder's log)."""
    from engine.logs import find_log_files

    return find_log_files([Path(p) for p in paths])


def shard_of(header: dict[str, Any]) -> dict[str, Any] | None:
    """A log header's shard record (`index`, `count`, `job`, `samples`), None if unsharded."""
    inspect_run = ((header.get("eval") or {}).get("metadata") or {}).get("inspect_run") or {}
    shard = inspect_run.get("shard")
    return shard if isinstance(shard, dict) else None


def check_shard_set(logs: list[ShardLog]) -> None:
    """`MergeError` unless `logs` are the N shards of one job, each exactly once."""
    problems = []
    if not logs:
        raise MergeError("no shard logs found")
    for log in logs:
        if not log.shard:
            problems.append(f"{log.path} is not a shard log (no shard in its metadata)")
    if problems:
        raise MergeError("; ".join(problems))
    jobs: dict[tuple[str, int], list[Path]] = {}
    for log in logs:
        jobs.setdefault((str(log.shard.get("job")), int(log.shard["count"])), []).append(log.path)
    if len(jobs) > 1:
        listed = "; ".join(
            f"job {job[:12]} of {count} shards: {', '.join(map(str, paths))}"
            for (job, count), paths in jobs.items()
        )
        raise MergeError(f"these logs are from different jobs (or shard counts): {listed}")
    count = logs[0].shard["count"]
    by_index: dict[int, list[Path]] = {}
    for log in logs:
        by_index.setdefault(int(log.shard["index"]), []).append(log.path)
    for index, paths in sorted(by_index.items()):
        if len(paths) > 1:
            problems.append(
                f"shard {index}/{count} given {len(paths)} times: {', '.join(map(str, paths))}"
            )
    missing = [f"{i}/{count}" for i in range(count) if i not in by_index]
    if missing:
        problems.append(f"shard {', '.join(missing)} missing (have {len(by_index)} of {count})")
    if problems:
        raise MergeError("; ".join(problems))


def read_shard_set(paths: Sequence[Path]) -> list[ShardLog]:
    """The shard logs under `paths`, checked to be one whole set, in shard order."""
    found = shard_logs(paths)
    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        raise MergeError(f"no such file or folder: {', '.join(map(str, missing))}")
    logs = []
    for path in found:
        try:
            logs.append(ShardLog(path, read_log_header(path)))
        except Exception as error:  # a torn or foreign file: name it
            raise MergeError(f"{path}: not an eval log ({type(error).__name__}: {error})") from None
    check_shard_set(logs)
    return sorted(logs, key=lambda log: int(log.shard["index"]))


def _worst(statuses: list[str]) -> str:
    for status in ("error", "cancelled", "started"):
        if status in statuses:
            return status
    return "success"


class _Components:
    """The task's scorer names, metrics and reducers, built from the config the shards logged."""

    def __init__(self, resolved: dict[str, Any]) -> None:
        from engine._assets import tasks_dir
        from engine._usercode import using_code_dirs
        from engine.config import RunConfig, user_config_dirs
        from engine.scorers import check_reducers, metrics, scorers

        self.config = RunConfig.model_validate(resolved)
        hooks = [d.parent / "tasks" for d in user_config_dirs()] + [tasks_dir()]
        with using_code_dirs(hooks):
            self.scorers: list[tuple[str, dict[str, Any]]] = []
            for index, spec in enumerate(self.config.task.scorers):
                name, args, _ = scorers.create(spec)
                taken = {n for n, _ in self.scorers}
                self.scorers.append((name if name not in taken else f"{name}_{index}", args))
            self.metrics = [metrics.create(spec)[::2] for spec in self.config.task.metrics]
            self.reducers = check_reducers(self.config.reducers, self.config.epochs)

    def results(
        self, values: dict[str, dict[str, list[float]]], total: int, errors: int
    ) -> dict[str, Any]:
        """As the runner computes them, over every sample."""
        from engine.runner import results_record

        return results_record(self.scorers, values, self.reducers, self.metrics, total, errors)

    def reductions(self, values: dict[str, dict[str, list[float]]]) -> list[dict[str, Any]]:
        from engine.runner import reductions_record

        return reductions_record([name for name, _ in self.scorers], values, self.reducers)


def _interleaved(lists: list[list[Any]]) -> list[Any]:
    """Shard I holds positions I, I+N, …: taking one from each in turn restores the order."""
    merged = []
    for position in range(max((len(items) for items in lists), default=0)):
        merged += [items[position] for items in lists if position < len(items)]
    return merged


def _sum_usage(into: dict[str, Any], usage: dict[str, Any]) -> None:
    from engine.messages import ModelUsage

    for model, used in usage.items():
        total = ModelUsage.from_log(into[model]) if model in into else ModelUsage()
        total.add(ModelUsage.from_log(used))
        into[model] = total.to_log()


def _header(logs: list[ShardLog], resolved: dict[str, Any], created: str) -> dict[str, Any]:
    """Shard 0's header, made the header of the whole job."""
    first = logs[0].header
    eval_spec = dict(first["eval"])
    inspect_run = logs[0].inspect_run
    overrides = [
        o
        for o in inspect_run.get("overrides") or []
        if o.lstrip("+").split("=")[0] not in ("shard", "shards", "workers")
    ]
    inspect_run.pop("shard", None)
    inspect_run.update(
        config=resolved,
        config_hash=config_hash(resolved),
        overrides=overrides,
        resumed_samples=sum(int(log.inspect_run.get("resumed_samples") or 0) for log in logs),
        merged_from={
            "job": logs[0].shard["job"],
            "shards": len(logs),
            "logs": [log.path.name for log in logs],
        },
    )
    dataset = dict(eval_spec.get("dataset") or {})
    dataset["sample_ids"] = _interleaved(
        [list((log.header["eval"].get("dataset") or {}).get("sample_ids") or []) for log in logs]
    )
    eval_spec.update(
        eval_id=uuid.uuid4().hex,
        run_id=uuid.uuid4().hex[:12],
        created=created,
        dataset=dataset,
        metadata={**(eval_spec.get("metadata") or {}), "inspect_run": inspect_run},
    )
    return {"eval": eval_spec, "plan": first.get("plan") or {}}


def merged_log_name(logs: list[ShardLog], suffix: str) -> str:
    from engine.runner import log_file_name

    spec = logs[0].header["eval"]
    created = min(str(log.header["eval"].get("created") or "") for log in logs)
    return log_file_name(created, spec["task"], spec["model"], spec["task_id"], suffix.lstrip("."))


def merge_logs(paths: Sequence[Path], out: Path | None = None) -> MergedLog:
    """Merge the shard logs under `paths` (files or folders) into `out` (default: a folder
    `merged-<job>` beside the first shard's run folder, named as Inspect names logs; its format
    is `out`'s suffix, else the shards'). `MergeError` naming what is wrong with the set."""
    from engine.logs import eval_seconds
    from engine.runner import errors_exceed
    from engine.scorers import value_to_float

    logs = read_shard_set(paths)
    resolved = dict(logs[0].inspect_run.get("config") or {})
    for split_key in ("shard", "shards"):
        resolved[split_key] = None
    if int(resolved.get("workers") or 1) > 1:  # the job's connections were divided: add them up
        limits = [_max_connections(log.inspect_run.get("config") or {}) for log in logs]
        resolved["connection"] = {**resolved["connection"], "max_connections": sum(limits)}
    try:
        components = _Components(resolved)
    except Exception as error:
        raise MergeError(f"{logs[0].path}: its config cannot be read back ({error})") from None
    suffix = logs[0].path.suffix
    if out is None or out.suffix not in LOG_SUFFIXES:  # a folder
        folder = out or logs[0].path.parent.parent / f"merged-{str(logs[0].shard['job'])[:12]}"
        out = folder / merged_log_name(logs, suffix)
    out.parent.mkdir(parents=True, exist_ok=True)
    writer = log_writer(
        out, _header(logs, resolved, min(str(log.header["eval"].get("created")) for log in logs))
    )
    writer.journal_path.unlink(missing_ok=True)  # never append to a stale merge
    writer.start()

    values: dict[str, dict[str, list[tuple[int, float]]]] = {
        name: {} for name, _ in components.scorers
    }
    seen: set[tuple[str, int]] = set()
    errors = 0
    usage: dict[str, Any] = {}
    for log in logs:
        shard_usage: dict[str, Any] = {}
        for sample in _samples(log.path, writer, seen):
            key = (str(sample["id"]), int(sample.get("epoch", 1)))
            if key in seen:
                continue
            seen.add(key)
            _sum_usage(shard_usage, sample.get("model_usage") or {})
            if sample.get("error"):
                errors += 1
                continue
            for name, score in (sample.get("scores") or {}).items():
                if name in values:
                    values[name].setdefault(key[0], []).append(
                        (key[1], value_to_float(score.get("value")))
                    )
        stats_usage = (log.header.get("stats") or {}).get("model_usage")
        _sum_usage(usage, stats_usage if stats_usage else shard_usage)
    by_epoch = {
        name: {sid: [v for _, v in sorted(epochs)] for sid, epochs in per.items()}
        for name, per in values.items()
    }
    expected = sum(int(log.shard.get("samples") or 0) for log in logs) * components.config.epochs
    total = expected or len(seen)
    statuses = [str(log.header.get("status")) for log in logs]
    finished = all(s in ("success", "error") for s in statuses) and len(seen) >= expected
    if finished:
        status = (
            "error" if errors_exceed(errors, total, components.config.fail_on_error) else "success"
        )
    else:
        status = _worst([s for s in statuses if s != "success"] or ["started"])
    results = components.results(by_epoch, total, errors)
    cache_hits: dict[str, int] = {}
    for log in logs:
        for model, hits in (
            ((log.header.get("results") or {}).get("metadata") or {}).get("cache_hits") or {}
        ).items():
            cache_hits[model] = cache_hits.get(model, 0) + int(hits)
    if cache_hits:
        results["metadata"] = {"cache_hits": cache_hits}
    times = [log.header.get("stats") or {} for log in logs]
    stats = eval_stats(
        min((t["started_at"] for t in times if t.get("started_at")), default=utc_now()),
        max((t["completed_at"] for t in times if t.get("completed_at")), default=utc_now()),
        usage,
    )
    failure = None
    if status != "success":
        why = (
            f"{errors} of {total} samples failed (fail_on_error={components.config.fail_on_error})"
            if finished
            else f"not every shard finished ({', '.join(f'{i}/{len(logs)}: {s}' for i, s in enumerate(statuses))}); "
            f"{len(seen)} of {expected} samples are in the log"
        )
        failure = eval_error(why)
    writer.finish(status, results, stats, failure, components.reductions(by_epoch))
    writer.journal_path.unlink(missing_ok=True)  # a merge is redone from the shards, not resumed
    return MergedLog(
        path=out,
        status=status,
        samples=len(seen),
        expected=expected,
        errors=errors,
        metrics={
            s["name"]: {n: m["value"] for n, m in s["metrics"].items()} for s in results["scores"]
        },
        usage=usage,
        shards=[log.path for log in logs],
        duration=eval_seconds(stats),
    )


def _samples(path: Path, writer: LogSink, seen: set[tuple[str, int]]) -> Iterator[dict[str, Any]]:
    """Each sample of a shard log not `seen` in an earlier shard, written to `writer`, then
    yielded (a `.eval` into a `.eval`: copied compressed and yielded as its summary, which holds
    what the merge reads: id, epoch, scores, usage, error)."""
    from engine.logs import EvalLogWriter

    if isinstance(writer, EvalLogWriter):
        copied = writer.copy_samples(path, skip=seen)
        if copied is not None:
            yield from copied
            return
    for sample in iter_log_samples(path):
        if (str(sample["id"]), int(sample.get("epoch", 1))) not in seen:
            writer.write_sample(sample)
        yield sample


def merge_shard_sets(paths: list[Path]) -> list[Path]:
    """`paths` with each whole shard set replaced by its merged log: the one `inspect-run merge`
    wrote, when it is among `paths`, else one merged now into a temporary folder (removed at
    exit). An incomplete set (a shard missing or given twice) is left as separate logs."""
    headers: dict[Path, dict[str, Any]] = {}
    for path in paths:
        try:
            headers[path] = read_log_header(path)
        except Exception:  # the comparison reports an unreadable log itself
            continue
    merged_jobs = {
        str(merged.get("job"))
        for header in headers.values()
        if isinstance(merged := _inspect_run(header).get("merged_from"), dict)
    }
    sets: dict[str, list[ShardLog]] = {}
    for path, header in headers.items():
        shard = shard_of(header)
        if shard is not None:
            sets.setdefault(f"{shard.get('job')}/{shard.get('count')}", []).append(
                ShardLog(path, header)
            )
    replaced: dict[Path, Path | None] = {}
    for logs in sets.values():
        job = str(logs[0].shard.get("job"))
        if job in merged_jobs:
            replaced.update((log.path, None) for log in logs)
            continue
        try:
            check_shard_set(logs)
        except MergeError:
            continue
        target = _temporary_dir() / f"{job[:12]}{logs[0].path.suffix}"
        merged = merge_logs([log.path for log in logs], target).path
        replaced.update((log.path, None) for log in logs)
        replaced[logs[0].path] = merged
    kept = [replaced.get(path, path) for path in paths]
    return [path for path in kept if path is not None]


def _inspect_run(header: dict[str, Any]) -> dict[str, Any]:
    return dict(((header.get("eval") or {}).get("metadata") or {}).get("inspect_run") or {})


_temporary: list[Path] = []


def _temporary_dir() -> Path:
    if not _temporary:
        import atexit
        import shutil
        import tempfile

        folder = Path(tempfile.mkdtemp(prefix="inspect-run-merged-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        _temporary.append(folder)
    return _temporary[0]


def _max_connections(resolved: dict[str, Any]) -> int:
    return int((resolved.get("connection") or {}).get("max_connections") or 0)
