"""Where does one eval's memory go? The bench eval in process, memory read at each phase.

    .venv/bin/python bench/memory_run.py                         # N=20000, RSS by phase
    .venv/bin/python bench/memory_run.py --samples 100000
    .venv/bin/python bench/memory_run.py --samples 10000 --trace --top 15   # + tracemalloc

Same dataset, task config, server and command line as `bench/run.py --only big` (0 ms latency,
100 connections, generate → match), but `engine.cli.cli(...)` runs inside this process, so the
phases can be marked: planned (the dataset's check pass done), the first sample written, 10 %,
50 % and 90 % of the samples written, all written (before the closing records: results,
reductions), closing records made (before the log's `finish`), log finished, cli returned. At
each mark it prints VmRSS and VmHWM (the peak so far, from /proc/self/status) and, with
`--trace`, tracemalloc's live and peak bytes since the previous mark and the largest allocation
sites (grouped by line) at 90 %, before `finish` and at the end. A sampler thread records the
highest RSS of each phase, so the phase of the peak is named. Needs the venv's Python (it
imports `engine`). Tracing costs time and memory of its own: read RSS from a run without it.
"""

from __future__ import annotations

import argparse
import gc
import shutil
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import FULL, REPO, Bench, check_log  # a sibling script (bench/ is not a package)


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


class Phases:
    """Marks phases; a thread samples VmRSS to tell in which phase the peak fell. A phase is
    named by the mark that ends it."""

    def __init__(self, trace: bool, top: int) -> None:
        self.trace = trace
        self.top = top
        self.highest = 0.0
        """The highest VmRSS sampled since the last mark."""
        self.peak_rss = 0.0
        self.peak_phase = ""
        self.per_phase: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self._note(_status_mb("VmRSS"))

    def _note(self, rss: float) -> None:
        self.highest = max(self.highest, rss)

    def mark(self, name: str, snapshot: bool = False) -> None:
        rss, hwm = _status_mb("VmRSS"), _status_mb("VmHWM")
        self._note(rss)
        self.per_phase[name] = self.highest
        if self.highest > self.peak_rss:
            self.peak_rss, self.peak_phase = self.highest, name
        self.highest = 0.0
        line = f"{name:<34} VmRSS {rss:7.1f} MB  VmHWM {hwm:7.1f} MB"
        if self.trace:
            current, peak = tracemalloc.get_traced_memory()
            line += f"  traced {current / 2**20:7.1f} MB (peak since last mark {peak / 2**20:.1f})"
            tracemalloc.reset_peak()
        print(line, flush=True)
        if self.trace and snapshot:
            self.show(tracemalloc.take_snapshot(), name)

    def show(self, snapshot: tracemalloc.Snapshot, title: str) -> None:
        snapshot = snapshot.filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
        stats = snapshot.statistics("lineno")
        print(f"  largest allocation sites at {title!r}:")
        for stat in stats[: self.top]:
            frame = stat.traceback[0]
            where = frame.filename.split("site-packages/")[-1].removeprefix(f"{REPO}/")
            print(f"    {stat.size / 2**20:7.2f} MB {stat.count:8d} blocks  {where}:{frame.lineno}")

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _wrap(owner: Any, name: str, before: Callable[[], None] | None, after: Callable[[], None]):
    original = getattr(owner, name)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if before is not None:
            before()
        result = original(*args, **kwargs)
        after()
        return result

    setattr(owner, name, wrapped)


def install_marks(phases: Phases, samples: int, snapshots: bool) -> None:
    """Mark the phases by wrapping the engine's functions (this script only, never a test)."""
    import engine.logs._eval_zip as eval_zip
    import engine.logs._writer as json_writer
    import engine.runner._execute as execute
    import engine.runner._run as run

    _wrap(execute, "build_plan", None, lambda: phases.mark("planned (dataset checked)"))
    written = [0]
    marks = {max(1, samples * p // 100): f"{p} % of samples written" for p in (10, 50, 90)}
    marks.setdefault(1, "first sample written")

    def count() -> None:
        written[0] += 1
        if written[0] in marks:
            phases.mark(marks[written[0]], snapshot=snapshots and "90 %" in marks[written[0]])

    for writer in (eval_zip.EvalLogWriter, json_writer.LogWriter):
        _wrap(writer, "write_sample", None, count)
        _wrap(
            writer,
            "finish",
            lambda: phases.mark("closing records made", snapshot=snapshots),
            lambda: phases.mark("log finished"),
        )
    _wrap(run, "_closing_records", lambda: phases.mark("all samples written"), lambda: None)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python bench/memory_run.py", description=__doc__)
    parser.add_argument("--samples", type=int, default=20000)
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--format", choices=["eval", "json"], default="eval")
    parser.add_argument("--trace", action="store_true", help="tracemalloc (slower)")
    parser.add_argument("--top", type=int, default=12, help="allocation sites shown per snapshot")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="inspect-run-memory-"))
    bench = Bench("", workdir, FULL, timeout=3600, keep_logs=False)
    try:
        cli_args = [
            *bench.in_process(args.samples, args.connections, args.latency),
            f"log_format={args.format}",
        ]
        log_dir = workdir / "logs"
        print(f"inspect-run {' '.join(cli_args)} (in process)", flush=True)
        if args.trace:
            tracemalloc.start(1)
        phases = Phases(args.trace, args.top)
        from engine.cli import cli

        install_marks(phases, args.samples, snapshots=args.trace)
        started = time.perf_counter()
        code = cli(cli_args)
        wall = time.perf_counter() - started
        phases.mark("cli returned")
        gc.collect()
        phases.mark("after gc.collect()", snapshot=args.trace)
        phases.stop()
        problem, _ = check_log(log_dir, args.samples, "*/*")
        print(f"exit {code}; log: {problem or 'ok'}; wall {wall:.1f} s")
        print(f"peak RSS {phases.peak_rss:.1f} MB, in the phase up to {phases.peak_phase!r}")
        print("highest RSS sampled in each phase (named by the mark that ends it):")
        for phase, rss in phases.per_phase.items():
            print(f"  {rss:7.1f} MB  up to {phase}")
    finally:
        bench.shutdown()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
