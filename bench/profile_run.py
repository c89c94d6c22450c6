"""Profile one bench eval in process with cProfile: where does inspect-run's CPU go?

    .venv/bin/python bench/profile_run.py                          # N=2000, 0 ms, 100 connections
    .venv/bin/python bench/profile_run.py --samples 10000 --latency 0.05 --connections 500
    .venv/bin/python bench/profile_run.py --out /tmp/prof.out --top 40
    .venv/bin/python bench/profile_run.py --real 3                 # + the engine's real ms/sample

Same dataset, task config, server and command line as `bench/run.py`, but `engine.cli.cli(...)`
runs inside this process under cProfile (so it needs the venv's Python). Prints the top functions
by cumulative and by own time, then own time grouped by package (the time of C functions is
charged to the package that called them; waiting in epoll is shown on its own), then the engine's
own share. cProfile inflates pure-Python code most, so the seconds are not real ones: `--real K`
also runs the eval K times without the profiler (N samples and 1 sample, as `bench/run.py` does)
and prints the engine's share × the real marginal CPU per sample, issue 18's "CPU ms per sample
spent in the engine's own code".
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import resource
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import (
    FULL,
    REPO,
    Bench,
    check_log,
    find_inspect_run,
)  # a sibling script (bench/ is not a package)

Func = tuple[str, int, str]


def group_of(func: Func) -> str:
    """A package-level label for a profiled function."""
    path = func[0]
    if path == "~":
        return "(C)"
    path = path.replace("\\", "/")
    if "/site-packages/" in path:
        top = path.split("/site-packages/", 1)[1].split("/")[0]
        return top.removesuffix(".py")
    engine = str(REPO / "engine") + "/"
    if path.startswith(engine):
        parts = path[len(engine) :].split("/")
        return "engine/" + (parts[0].removesuffix(".py") if len(parts) > 1 else parts[0])
    if "/tests/" in path or path.startswith(str(REPO)):
        return "repo:" + path.removeprefix(str(REPO) + "/")
    marker = f"/lib/python{sys.version_info.major}.{sys.version_info.minor}/"
    if marker in path:
        top = path.split(marker, 1)[1].split("/")[0]
        return "stdlib:" + top.removesuffix(".py")
    if path.startswith("<frozen "):
        return "stdlib:" + path[len("<frozen ") : -1].split(".")[0]
    return path


def by_package(stats: pstats.Stats) -> list[tuple[str, float]]:
    """Own time per package; a C function's own time goes to its callers' packages."""
    raw: dict[Func, Any] = stats.stats  # type: ignore[attr-defined]
    totals: dict[str, float] = defaultdict(float)
    for func, (_cc, _nc, tottime, _ct, callers) in raw.items():
        group = group_of(func)
        if group != "(C)":
            totals[group] += tottime
            continue
        name = func[2]
        if "poll" in name:
            totals["(waiting in epoll)"] += tottime
            continue
        edge_total = sum(edge[2] for edge in callers.values())
        if not callers or edge_total <= 0:
            totals[f"(C) {name}"] += tottime
            continue
        for caller, edge in callers.items():
            totals[group_of(caller)] += tottime * edge[2] / edge_total
    return sorted(totals.items(), key=lambda item: -item[1])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python bench/profile_run.py", description=__doc__)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--out", default="/tmp/prof.out", help="where to save the raw profile")
    parser.add_argument("--packages", type=int, default=30, help="rows of the package breakdown")
    parser.add_argument(
        "--real",
        type=int,
        default=0,
        metavar="K",
        help="also run the eval K times without the profiler (as bench/run.py does) for the real "
        "CPU per sample, and print the engine's share of it",
    )
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="inspect-run-profile-"))
    bench = Bench("", workdir, FULL, timeout=600, keep_logs=False)
    try:
        cli_args = bench.in_process(args.samples, args.connections, args.latency)
        log_dir = workdir / "logs"
        print(f"profiling: inspect-run {' '.join(cli_args)}", flush=True)
        profiler = cProfile.Profile()
        cpu_before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        from engine.cli import cli  # cheap: the heavy imports happen inside cli(), profiled

        profiler.enable()
        code = cli(cli_args)
        profiler.disable()
        wall = time.perf_counter() - started
        cpu_after = resource.getrusage(resource.RUSAGE_SELF)
        profiler.dump_stats(args.out)
        problem, _ = check_log(log_dir, args.samples)
        cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (
            cpu_after.ru_stime - cpu_before.ru_stime
        )
        print(
            f"exit {code}; log: {problem or 'ok'}; wall {wall:.2f} s, "
            f"CPU {cpu:.2f} s under the profiler (its overhead included); saved {args.out}"
        )
    finally:
        bench.shutdown()
        shutil.rmtree(workdir, ignore_errors=True)

    stats = pstats.Stats(args.out)
    total = stats.total_tt  # type: ignore[attr-defined]
    for order in ("cumulative", "tottime"):
        buffer = io.StringIO()
        pstats.Stats(args.out, stream=buffer).strip_dirs().sort_stats(order).print_stats(args.top)
        print(f"\n## top {args.top} by {order}")
        print(buffer.getvalue().split("\n", 4)[-1].rstrip())
    print(f"\n## own time by package (total {total:.2f} s profiled)")
    groups = by_package(stats)
    for group, seconds in groups[: args.packages]:
        print(f"  {seconds:7.3f} s  {100 * seconds / total:5.1f}%  {group}")
    engine = sum(seconds for group, seconds in groups if group.startswith("engine/"))
    share = engine / total
    print(
        f"\n## the engine's own code (engine/*, C calls charged to their callers)\n"
        f"  {engine:.3f} s of {total:.2f} s profiled ({100 * share:.1f}%): "
        f"{1000 * engine / args.samples:.3f} ms per sample under the profiler"
    )
    if args.real:
        marginal = real_cpu_per_sample(args.samples, args.latency, args.connections, args.real)
        print(
            f"  real CPU per sample without the profiler (marginal, best of {args.real}): "
            f"{marginal:.3f} ms → engine's own ≈ {share * marginal:.3f} ms per sample "
            "(its share of the profile × the real CPU)"
        )
    return 0


def real_cpu_per_sample(samples: int, latency: float, connections: int, repeat: int) -> float:
    """(CPU(N samples) − CPU(1 sample)) / (N − 1) in ms, of `inspect-run` processes as
    `bench/run.py` runs them, the best of `repeat` pairs: what the profiled shares apply to."""
    workdir = Path(tempfile.mkdtemp(prefix="inspect-run-profile-"))
    bench = Bench(find_inspect_run(), workdir, FULL, timeout=600, keep_logs=False)
    best = float("inf")
    try:
        bench.warm_up()
        for index in range(repeat):
            one = bench.run_eval(f"1 sample #{index + 1}", 1, latency, connections)
            many = bench.run_eval(f"N={samples} #{index + 1}", samples, latency, connections)
            if one.ok and many.ok:
                best = min(best, 1000 * (many.cpu - one.cpu) / (samples - 1))
    finally:
        bench.shutdown()
        shutil.rmtree(workdir, ignore_errors=True)
    return best


if __name__ == "__main__":
    sys.exit(main())
