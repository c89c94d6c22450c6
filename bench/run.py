"""Benchmark inspect-run against a local OpenAI-compatible server. Prints figures; always exits 0.

    python bench/run.py                      # the full run (2–4 minutes)
    python bench/run.py --quick              # smaller N, fewer repetitions
    python bench/run.py --only throughput    # one figure: help, one-sample, cpu, throughput, memory, big
    python bench/run.py --only workers       # one process beside workers=2, at the issue-18 settings

Each eval is `inspect-run task=bench model=openai-api/bench/bench …` in a subprocess, against
`tests.support.openai_server` running in its own subprocess (one per latency setting), so the
server's CPU is never counted. The child's CPU and peak RSS come from `os.wait4`, i.e. the rusage of
exactly that process (and of anything it waited for, such as `git`). Every run is checked: exit
status 0 and a log with N scored samples. Standard library only.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

REPO = Path(__file__).resolve().parent.parent
FIGURES = ("help", "one-sample", "cpu", "engine", "throughput", "memory", "big", "workers")


# ── what a run measured ──────────────────────────────────────────────────────────────────────────


@dataclass
class Run:
    """One `inspect-run` process."""

    label: str
    samples: int
    latency: float
    connections: int
    wall: float
    cpu: float
    """User + system seconds of the child (and of what it waited for)."""
    max_rss_mb: float
    server_cpu: float | None = None
    eval_seconds: float | None = None
    """From the log's stats (started_at → completed_at): the eval without process start-up."""
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def cpu_ms_per_sample(self) -> float:
        return 1000 * self.cpu / max(self.samples, 1)

    @property
    def samples_per_s(self) -> float:
        return self.samples / self.wall if self.samples else 0.0

    @property
    def physical_limit(self) -> float:
        """The floor set by the server: N × latency / connections (seconds)."""
        return self.samples * self.latency / max(self.connections, 1)

    @property
    def efficiency(self) -> float | None:
        return self.physical_limit / self.wall if self.physical_limit > 0 else None


@dataclass
class Figure:
    """One line of the summary: a measured value against the target and the peers."""

    name: str
    value: float | None
    unit: str
    target: float
    higher_is_better: bool
    inspect_ai: str
    lm_eval: str
    note: str = ""

    @property
    def verdict(self) -> str:
        if self.value is None:
            return "ERROR"
        met = self.value >= self.target if self.higher_is_better else self.value <= self.target
        return "PASS" if met else "MISS"

    def measured(self) -> str:
        return "-" if self.value is None else f"{_num(self.value)} {self.unit}"

    def wanted(self) -> str:
        return f"{'≥' if self.higher_is_better else '≤'} {_num(self.target)} {self.unit}"


def _num(value: float) -> str:
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}" if value < 1 else f"{value:.2f}"


# ── the server and the child processes ───────────────────────────────────────────────────────────


class Server:
    """`python -m tests.support.openai_server` in its own process, replying "A" after `latency`."""

    def __init__(self, latency: float, log: IO[bytes]) -> None:
        self.latency = latency
        argv = [sys.executable, "-m", "tests.support.openai_server", "--port", "0"]
        argv += ["--latency", str(latency), "--reply", "A", "--no-record"]
        self.process = subprocess.Popen(
            argv, cwd=REPO, stdout=subprocess.PIPE, stderr=log, text=True
        )
        assert self.process.stdout is not None
        self.base_url = self.process.stdout.readline().strip()
        if not self.base_url.startswith("http"):
            self.stop()
            raise RuntimeError(f"the local server did not start (first line {self.base_url!r})")

    def cpu_seconds(self) -> float | None:
        """The server's own user + system CPU so far (Linux /proc), to see if it was the limit."""
        try:
            stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        except OSError:
            return None
        fields = stat.rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class Exit:
    code: int
    wall: float
    cpu: float
    max_rss_mb: float
    stdout: str
    stderr: str


def spawn(argv: Sequence[str], env: dict[str, str], cwd: Path, timeout: float) -> Exit:
    """Run `argv` and reap it with `os.wait4`: its own rusage, nothing else's."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(list(argv), stdout=out, stderr=err, env=env, cwd=cwd)
        killer = threading.Timer(timeout, process.kill)
        killer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            killer.cancel()
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Exit(
            code=process.returncode,
            wall=wall,
            cpu=usage.ru_utime + usage.ru_stime,
            max_rss_mb=usage.ru_maxrss / 1024,  # KiB on Linux
            stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
        )


def _read_log(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(header, samples or their summaries) of a `.eval` (zip) or JSON log."""
    if path.suffix == ".eval":
        import zipfile

        with zipfile.ZipFile(path) as archive:
            header = json.loads(archive.read("header.json"))
            return header, json.loads(archive.read("summaries.json"))
    with path.open(encoding="utf-8") as file:
        log: dict[str, Any] = json.load(file)
    return log, log.get("samples") or []


def check_log(log_dir: Path, samples: int, pattern: str = "*/*") -> tuple[str | None, float | None]:
    """(problem or None, eval seconds from the log's stats). `pattern`: where the log is
    (`merged-*/*` for `workers=K`, whose shards' logs lie beside the merged one)."""
    logs = sorted(p for p in log_dir.glob(pattern) if p.suffix in (".eval", ".json"))
    if len(logs) != 1:
        return f"expected one log under {log_dir}/*/, found {len(logs)}", None
    log, records = _read_log(logs[0])
    if log.get("status") != "success":
        return f"log status {log.get('status')!r}", None
    if len(records) != samples:
        return f"log has {len(records)} samples, expected {samples}", None
    unscored = sum(1 for r in records if r.get("error") or not r.get("scores"))
    if unscored:
        return f"{unscored} samples without a score", None
    stats = log.get("stats") or {}
    try:
        started = datetime.fromisoformat(stats["started_at"])
        completed = datetime.fromisoformat(stats["completed_at"])
    except (KeyError, TypeError, ValueError):
        return None, None
    return None, (completed - started).total_seconds()


def find_inspect_run() -> str:
    for candidate in (
        Path(sys.executable).parent / "inspect-run",
        REPO / ".venv" / "bin" / "inspect-run",
    ):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which("inspect-run")
    if found is None:
        raise SystemExit(
            "bench: inspect-run not found (install the package, or --inspect-run PATH)"
        )
    return found


# ── the benchmark ────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Sizes:
    reps: int
    cpu_samples: int
    throughput_samples: int
    memory_samples: int
    big_samples: int
    big_series: tuple[int, ...] = ()
    """Smaller N run before `big_samples` by `--only big`: peak RSS must not grow with N."""


FULL = Sizes(
    reps=5,
    cpu_samples=2000,
    throughput_samples=2000,
    memory_samples=10000,
    big_samples=100_000,
    big_series=(10_000, 20_000),
)
QUICK = Sizes(
    reps=3,
    cpu_samples=300,
    throughput_samples=500,
    memory_samples=2000,
    big_samples=20_000,
    big_series=(2_000,),
)

BENCH_MODEL = "openai-api/bench/bench"
"""The local OpenAI-protocol server, through the openai SDK."""
ENGINE_MODEL = "mockllm/model"
"""Answers in process (the sample's target): no SDK, no HTTP, only the engine's own work."""
ENGINE_TARGET_MS = 0.1
CPU_CONNECTIONS = 100
ONE_SAMPLE_CONNECTIONS = 10
THROUGHPUT_LATENCY, THROUGHPUT_CONNECTIONS = 0.1, 100
MEMORY_LATENCY, MEMORY_CONNECTIONS = 0.05, 500
BIG_LATENCY, BIG_CONNECTIONS, BIG_TARGET_MB = 0.0, 100, 150
BIG_GROWTH_TARGET_MB = 20
"""Peak RSS at the largest N minus at the smallest: flat in N."""


@dataclass
class Bench:
    executable: str
    workdir: Path
    sizes: Sizes
    timeout: float
    keep_logs: bool
    servers: dict[float, Server] = field(default_factory=dict)
    config_dirs: dict[int, Path] = field(default_factory=dict)
    one_sample: list[Run] = field(default_factory=list)
    warmed: bool = False
    figures: list[Figure] = field(default_factory=list)
    _runs: int = 0

    # fixtures

    def server(self, latency: float) -> Server:
        if latency not in self.servers:
            log = (self.workdir / f"server-{latency}.log").open("wb")
            self.servers[latency] = Server(latency, log)
        return self.servers[latency]

    def in_process(self, samples: int, connections: int, latency: float) -> list[str]:
        """Make this process what a bench child would be (its server, config dir, working
        directory and environment) and return the child's arguments, for an eval run here under
        a profiler or tracemalloc. Its log goes to `workdir/logs`."""
        server = self.server(latency)
        os.environ.pop("INSPECT_EVAL_MODEL", None)
        os.environ |= {
            "INSPECT_RUN_CONFIG_PATH": str(self.config_dir(samples)),
            "BENCH_BASE_URL": server.base_url,
            "BENCH_API_KEY": "dummy",
        }
        os.chdir(self.workdir)
        return [
            "task=bench",
            "model=openai-api/bench/bench",
            f"limit={samples}",
            f"connection.max_connections={connections}",
            "display=none",
            f"log_dir={self.workdir / 'logs'}",
        ]

    def config_dir(self, samples: int) -> Path:
        """A user config dir whose `task/bench.yaml` points at a dataset of exactly N samples."""
        if samples not in self.config_dirs:
            dataset = self.workdir / f"data-{samples}.jsonl"
            with dataset.open("w", encoding="utf-8") as file:
                for index in range(samples):
                    record = {"id": f"s{index}", "input": f"Question {index}: A or B?"}
                    file.write(json.dumps({**record, "target": "A"}) + "\n")
            conf = self.workdir / f"conf-{samples}"
            (conf / "task").mkdir(parents=True)
            (conf / "task" / "bench.yaml").write_text(
                "name: bench\n"
                "description: inspect-run benchmark (generated by bench/run.py)\n"
                "dataset:\n"
                # relative: the runs' working directory is the workdir (an absolute path must
                # be in dataset.allowed_roots)
                f"  path: {json.dumps(dataset.name)}\n"
                "solvers: [generate]\n"
                "scorers: [match]\n"
                "metrics: [accuracy, stderr]\n",
                encoding="utf-8",
            )
            self.config_dirs[samples] = conf
        return self.config_dirs[samples]

    def shutdown(self) -> None:
        for server in self.servers.values():
            server.stop()

    def child_env(self) -> dict[str, str]:
        """As on a user's machine: bytecode is cached (this sandbox sets PYTHONDONTWRITEBYTECODE,
        which would recompile every module of an editable install on every run)."""
        env = dict(os.environ)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(self.workdir / "pycache")
        return env

    # runs

    def run_help(self, label: str) -> Run:
        done = spawn([self.executable, "--help"], self.child_env(), self.workdir, self.timeout)
        error = None if done.code == 0 else f"exit {done.code}: {_one_line(done.stderr)}"
        if error is None and "usage: inspect-run" not in done.stdout:
            error = "no usage text on stdout"
        run = Run(label, 0, 0.0, 0, done.wall, done.cpu, done.max_rss_mb, error=error)
        _print_run(run)
        return run

    def run_eval(
        self,
        label: str,
        samples: int,
        latency: float,
        connections: int,
        workers: int = 1,
        model: str = BENCH_MODEL,
    ) -> Run:
        server = self.server(latency)
        self._runs += 1
        slug = "".join(c if c.isalnum() else "-" for c in label).strip("-")
        log_dir = self.workdir / "logs" / f"{self._runs:03d}-{slug}"
        env = self.child_env()
        env.pop("INSPECT_EVAL_MODEL", None)
        env |= {
            "INSPECT_RUN_CONFIG_PATH": str(self.config_dir(samples)),
            "BENCH_BASE_URL": server.base_url,
            "BENCH_API_KEY": "dummy",
        }
        argv = [
            self.executable,
            "task=bench",
            f"model={model}",
            f"limit={samples}",
            f"connection.max_connections={connections}",
            "display=none",
            f"log_dir={log_dir}",
        ]
        if workers > 1:
            argv.append(f"workers={workers}")
        server_before = server.cpu_seconds()
        done = spawn(argv, env, self.workdir, self.timeout)
        server_after = server.cpu_seconds()
        error, eval_seconds = None, None
        if done.code != 0:
            error = f"exit {done.code}: {_one_line(done.stderr)}"
        else:
            pattern = "merged-*/*" if workers > 1 else "*/*"
            error, eval_seconds = check_log(log_dir, samples, pattern)
        if not self.keep_logs:
            shutil.rmtree(log_dir, ignore_errors=True)
        run = Run(
            label,
            samples,
            latency,
            connections,
            done.wall,
            done.cpu,
            done.max_rss_mb,
            server_cpu=None
            if server_before is None or server_after is None
            else server_after - server_before,
            eval_seconds=eval_seconds,
            error=error,
        )
        _print_run(run)
        return run

    # figures

    def figure_help(self) -> None:
        _section("inspect-run --help", self.sizes.reps)
        runs = [self.run_help(f"help #{i + 1}") for i in range(self.sizes.reps)]
        self._best_of(runs, "`inspect-run --help` wall time", 0.3, "1.5 s", "0.31 s")

    def figure_one_sample(self) -> None:
        _section("1-sample run, 0 ms latency", self.sizes.reps)
        self._one_sample_runs()
        self._best_of(self.one_sample, "1-sample run wall time (0 ms)", 1.0, "4.0 s", "6.4 s")

    def _one_sample_runs(self) -> list[Run]:
        if not self.one_sample:
            self.one_sample = [
                self.run_eval(f"one-sample #{i + 1}", 1, 0.0, ONE_SAMPLE_CONNECTIONS)
                for i in range(self.sizes.reps)
            ]
        return self.one_sample

    def warm_up(self) -> None:
        """One unmeasured run first: the first run in a fresh workdir compiles every module into
        its bytecode cache (seconds of CPU no user pays twice)."""
        if not self.warmed:
            self.run_eval("warm-up (bytecode cache)", 1, 0.0, ONE_SAMPLE_CONNECTIONS)
            self.warmed = True

    def _best_of(
        self, runs: list[Run], name: str, target: float, inspect_ai: str, lm_eval: str
    ) -> None:
        walls = [r.wall for r in runs if r.ok]
        best = min(walls) if walls else None
        note = f"median {statistics.median(walls):.3f} s" if walls else _first_error(runs)
        if walls:
            print(f"  → best {best:.3f} s, median {statistics.median(walls):.3f} s", flush=True)
        self._add(Figure(name, best, "s", target, False, inspect_ai, lm_eval, note))

    def figure_cpu(self) -> None:
        samples = self.sizes.cpu_samples
        _section(f"CPU per sample, N={samples}, 0 ms latency, {CPU_CONNECTIONS} connections", 1)
        baseline_runs = self._one_sample_runs()
        run = self.run_eval(f"cpu N={samples}", samples, 0.0, CPU_CONNECTIONS)
        baseline = [r.cpu for r in baseline_runs if r.ok]
        total = run.cpu_ms_per_sample if run.ok else None
        marginal = _marginal_ms(run, baseline)
        if marginal is not None:
            print(
                f"  → total {total:.2f} ms/sample; marginal {marginal:.2f} ms/sample "
                f"((CPU(N={samples}) − median CPU(1 sample) {statistics.median(baseline):.3f} s)"
                f" / {samples - 1})",
                flush=True,
            )
        note = run.error or ""
        name = f"CPU/sample total (N={samples}, 0 ms)"
        self._add(
            Figure(
                name, total, "ms", 2.0, False, inspect_ai="15.5 ms", lm_eval="~1.5 ms", note=note
            )
        )
        self._add(
            Figure(
                f"CPU/sample marginal (N={samples}, 0 ms)",
                marginal,
                "ms",
                2.0,
                False,
                inspect_ai="15.5 ms",
                lm_eval="~1.5 ms",
                note=note or "peers: the team's one CPU/sample figure",
            )
        )

    def figure_engine(self) -> None:
        """Issue 18's "CPU per sample spent in the engine's own code", without a profiler (which
        inflates pure Python most): the cpu figure's eval with `mockllm/model`, which answers in
        process, so what a sample costs beyond start-up is the engine's work (the runner, the
        transcript, scoring, redaction, the log) and the asyncio it runs on."""
        samples = self.sizes.cpu_samples
        _section(f"engine CPU per sample ({ENGINE_MODEL}: no SDK, no HTTP), N={samples}", 1)
        one = [
            self.run_eval(
                f"engine one-sample #{i + 1}", 1, 0.0, CPU_CONNECTIONS, model=ENGINE_MODEL
            )
            for i in range(self.sizes.reps)
        ]
        run = self.run_eval(
            f"engine N={samples}", samples, 0.0, CPU_CONNECTIONS, model=ENGINE_MODEL
        )
        marginal = _marginal_ms(run, [r.cpu for r in one if r.ok])
        if marginal is not None:
            print(f"  → marginal {marginal:.3f} ms/sample", flush=True)
        note = "" if marginal is not None else run.error or _first_error(one)
        name = f"engine CPU/sample (N={samples}, {ENGINE_MODEL})"
        self._add(Figure(name, marginal, "ms", ENGINE_TARGET_MS, False, "–", "–", note))

    def figure_throughput(self) -> None:
        samples = self.sizes.throughput_samples
        latency, connections = THROUGHPUT_LATENCY, THROUGHPUT_CONNECTIONS
        _section(
            f"throughput, N={samples}, {latency * 1000:.0f} ms latency, {connections} connections",
            1,
        )
        run = self.run_eval(f"throughput N={samples}", samples, latency, connections)
        value = run.samples_per_s if run.ok else None
        note = run.error or ""
        if run.ok:
            limit_rate = connections / latency
            note = f"physical limit {limit_rate:.0f}/s; efficiency {run.efficiency:.0%}"
            if run.eval_seconds:
                note += f"; eval-only {samples / run.eval_seconds:.0f}/s"
            print(f"  → {value:.0f} samples/s over the process wall time ({note})", flush=True)
        self._add(
            Figure(
                f"samples/s (N={samples}, {latency * 1000:.0f} ms, {connections} conn)",
                value,
                "/s",
                450,
                True,
                "59",
                "~430",
                note,
            )
        )

    def figure_memory(self) -> None:
        samples = self.sizes.memory_samples
        latency, connections = MEMORY_LATENCY, MEMORY_CONNECTIONS
        _section(
            f"peak memory, N={samples}, {latency * 1000:.0f} ms latency, {connections} connections",
            1,
        )
        run = self.run_eval(f"memory N={samples}", samples, latency, connections)
        value = run.max_rss_mb if run.ok else None
        if run.ok:
            print(f"  → peak RSS {value:.0f} MB", flush=True)
        self._add(
            Figure(
                f"peak RSS (N={samples}, {latency * 1000:.0f} ms, {connections} conn)",
                value,
                "MB",
                250,
                False,
                "430 MB",
                "388 MB",
                run.error or "",
            )
        )

    def figure_big(self) -> None:
        """Large evals at full speed, N rising (10k, 20k, 100k): does peak memory stay flat in N
        (streamed dataset, journal, compact tallies) and does CPU per sample hold?"""
        latency, connections = BIG_LATENCY, BIG_CONNECTIONS
        series = sorted({*self.sizes.big_series, self.sizes.big_samples})
        _section(
            f"peak memory by N ({', '.join(map(str, series))}), {latency * 1000:.0f} ms latency, "
            f"{connections} connections",
            1,
        )
        runs = [self.run_eval(f"big N={n}", n, latency, connections) for n in series]
        run = runs[-1]
        samples = run.samples
        value = run.max_rss_mb if run.ok else None
        if run.ok:
            print(
                f"  → peak RSS {run.max_rss_mb:.0f} MB, wall {run.wall:.1f} s, "
                f"CPU {run.cpu_ms_per_sample:.2f} ms/sample, {run.samples_per_s:.0f} samples/s",
                flush=True,
            )
        ok = [r for r in runs if r.ok]
        if ok:
            by_n = ", ".join(f"N={r.samples}: {r.max_rss_mb:.1f} MB" for r in ok)
            print(f"  → peak RSS by N: {by_n}", flush=True)
        note = run.error or ""
        if run.ok:
            note = (
                f"wall {run.wall:.1f} s; {run.cpu_ms_per_sample:.2f} ms CPU/sample; "
                f"{run.samples_per_s:.0f} samples/s"
            )
        self._add(
            Figure(
                f"peak RSS (N={samples}, {latency * 1000:.0f} ms, {connections} conn)",
                value,
                "MB",
                BIG_TARGET_MB,
                False,
                "-",
                "-",
                note,
            )
        )
        if len(runs) > 1:
            first = runs[0]
            growth = run.max_rss_mb - first.max_rss_mb if run.ok and first.ok else None
            per_10k = (
                f"{10_000 * growth / (run.samples - first.samples):.2f} MB per 10k samples"
                if growth is not None
                else _first_error(runs)
            )
            self._add(
                Figure(
                    f"peak RSS growth, N={first.samples} → {run.samples}",
                    growth,
                    "MB",
                    BIG_GROWTH_TARGET_MB,
                    False,
                    "-",
                    "-",
                    per_10k,
                )
            )

    def figure_workers(self) -> None:
        """Issue 18: one process beside `workers=2` (two shard processes, connections divided,
        merged), at N=2000/100 ms/100 connections and N=10000/50 ms/500 connections. Eval-only
        samples/s (the merged log's started_at → completed_at) is the figure; the whole-process
        one (start-up, merge) is printed beside it."""
        settings = [
            (self.sizes.throughput_samples, THROUGHPUT_LATENCY, THROUGHPUT_CONNECTIONS, 900),
            (self.sizes.memory_samples, MEMORY_LATENCY, MEMORY_CONNECTIONS, 1800),
        ]
        for samples, latency, connections, target in settings:
            _section(
                f"workers, N={samples}, {latency * 1000:.0f} ms latency, "
                f"{connections} connections in total (limit {connections / latency:.0f}/s)",
                1,
            )
            for workers in (1, 2):
                label = f"{'one process' if workers == 1 else f'workers={workers}'} N={samples}"
                run = self.run_eval(label, samples, latency, connections, workers)
                value = samples / run.eval_seconds if run.ok and run.eval_seconds else None
                note = run.error or f"whole process {run.samples_per_s:.0f}/s"
                if value is not None:
                    print(f"  → {value:.0f} samples/s over the eval's span ({note})", flush=True)
                self._add(
                    Figure(
                        f"eval samples/s, workers={workers} (N={samples}, "
                        f"{latency * 1000:.0f} ms, {connections} conn)",
                        value,
                        "/s",
                        target if workers > 1 else 0,
                        True,
                        "-",
                        "-",
                        note,
                    )
                )

    def _add(self, figure: Figure) -> None:
        self.figures.append(figure)


# ── printing ─────────────────────────────────────────────────────────────────────────────────────

_COLUMNS = (
    ("run", 18, "<"),
    ("N", 6, ">"),
    ("lat ms", 6, ">"),
    ("conn", 5, ">"),
    ("wall s", 7, ">"),
    ("cpu s", 7, ">"),
    ("cpu ms/smp", 10, ">"),
    ("peak MB", 7, ">"),
    ("smp/s", 7, ">"),
    ("limit s", 7, ">"),
    ("effic.", 6, ">"),
    ("eval s", 7, ">"),
    ("srv cpu s", 9, ">"),
)


def _marginal_ms(run: Run, baseline: list[float]) -> float | None:
    """CPU ms per sample beyond start-up: (CPU(N) − median CPU of 1-sample runs) / (N − 1)."""
    if not run.ok or not baseline:
        return None
    return 1000 * (run.cpu - statistics.median(baseline)) / (run.samples - 1)


def _row(cells: Sequence[str]) -> str:
    return "  ".join(
        f"{c:{align}{width}}" for c, (_, width, align) in zip(cells, _COLUMNS, strict=True)
    )


def _section(title: str, reps: int) -> None:
    suffix = f" ({reps} repetitions)" if reps > 1 else ""
    print(f"\n## {title}{suffix}", flush=True)
    print(_row([name for name, _, _ in _COLUMNS]), flush=True)


def _print_run(run: Run) -> None:
    def opt(value: float | None, fmt: str) -> str:
        return "-" if value is None else format(value, fmt)

    is_eval = run.samples > 0
    cells = [
        run.label,
        str(run.samples) if is_eval else "-",
        f"{run.latency * 1000:.0f}" if is_eval else "-",
        str(run.connections) if is_eval else "-",
        f"{run.wall:.3f}",
        f"{run.cpu:.3f}",
        f"{run.cpu_ms_per_sample:.2f}" if is_eval else "-",
        f"{run.max_rss_mb:.1f}",
        f"{run.samples_per_s:.1f}" if is_eval else "-",
        f"{run.physical_limit:.3f}" if is_eval else "-",
        opt(run.efficiency, ".0%"),
        opt(run.eval_seconds, ".3f"),
        opt(run.server_cpu, ".2f"),
    ]
    print(_row(cells), flush=True)
    if run.error:
        print(f"    FAILED: {run.error}", flush=True)


def _one_line(text: str, limit: int = 600) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else "…" + flat[-limit:]


def _first_error(runs: list[Run]) -> str:
    return next((r.error for r in runs if r.error), "")


def print_summary(figures: list[Figure], quick: bool) -> None:
    headers = ("figure", "measured", "target", "Inspect AI 0.3.285", "lm-eval 0.4.13", "verdict")
    rows = [(f.name, f.measured(), f.wanted(), f.inspect_ai, f.lm_eval, f.verdict) for f in figures]
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    title = "summary (quick run: smaller N than the targets assume)" if quick else "summary"
    print(f"\n## {title}")
    for line in (headers, tuple("-" * w for w in widths), *rows):
        print("  ".join(f"{cell:<{w}}" for cell, w in zip(line, widths, strict=True)).rstrip())
    notes = [f"  {f.name}: {f.note}" for f in figures if f.note]
    if notes:
        print("notes:")
        print("\n".join(notes))


# ── entry point ──────────────────────────────────────────────────────────────────────────────────


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python bench/run.py",
        description="Benchmark inspect-run against a local OpenAI-compatible server.",
    )
    parser.add_argument("--quick", action="store_true", help="smaller N, 3 repetitions")
    parser.add_argument("--only", choices=FIGURES, action="append", help="run only this figure")
    parser.add_argument("--reps", type=int, help="repetitions for help and one-sample (3-5)")
    parser.add_argument("--inspect-run", dest="executable", help="the inspect-run executable")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per run before kill")
    parser.add_argument("--keep", action="store_true", help="keep the temporary dir and logs")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = QUICK if args.quick else FULL
    if args.reps:
        sizes = dataclasses.replace(sizes, reps=args.reps)
    executable = args.executable or find_inspect_run()
    selected = args.only or list(FIGURES)
    workdir = Path(tempfile.mkdtemp(prefix="inspect-run-bench-"))
    version = subprocess.run(
        [executable, "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    print(f"# inspect-run benchmark{' (quick)' if args.quick else ''}")
    print(f"{version or executable} · {executable}")
    print(
        f"python {platform.python_version()} · {platform.system()} {platform.machine()} · "
        f"{os.cpu_count()} CPUs · workdir {workdir}"
    )
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        print(
            "PYTHONDONTWRITEBYTECODE is set here; runs use a bytecode cache in the workdir instead"
        )
    bench = Bench(executable, workdir, sizes, args.timeout, keep_logs=args.keep)
    steps: dict[str, Callable[[], None]] = {
        "help": bench.figure_help,
        "one-sample": bench.figure_one_sample,
        "cpu": bench.figure_cpu,
        "engine": bench.figure_engine,
        "throughput": bench.figure_throughput,
        "memory": bench.figure_memory,
        "big": bench.figure_big,
        "workers": bench.figure_workers,
    }
    started = time.perf_counter()
    try:
        for name in FIGURES:
            if name in selected:
                try:
                    if name != "help":
                        bench.warm_up()
                    steps[name]()
                except Exception as error:  # a report: record it and go on
                    print(f"  {name}: bench error: {type(error).__name__}: {error}", flush=True)
    finally:
        bench.shutdown()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print_summary(bench.figures, args.quick)
    print(f"\nbench took {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
