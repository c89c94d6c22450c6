"""Progress while an eval runs and the results table after: rich on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from engine.batch import BatchCounts
    from engine.messages import ModelUsage
    from engine.runner._plan import EvalPlan
    from engine.runner._run import EvalResult


class Display:
    """Silent display; the base of the others."""

    def __init__(self) -> None:
        self.plan: EvalPlan | None = None
        self.total = 0
        self.done = 0
        self.errors = 0
        self.resumed = 0
        self.started = time.monotonic()
        self.usage: dict[str, ModelUsage] = {}
        self.cache_hits: dict[str, int] = {}

    def start(
        self,
        plan: EvalPlan,
        total: int,
        done: int = 0,
        usage: dict[str, ModelUsage] | None = None,
        cache_hits: dict[str, int] | None = None,
    ) -> None:
        """`done`: samples an interrupted run already scored (when resuming). `usage` and
        `cache_hits`: this eval's running totals by model, kept by the runner (a model shared with
        other evals of a sweep counts theirs too, so its own counters would overstate)."""
        self.plan, self.total, self.done, self.started = plan, total, done, time.monotonic()
        self.resumed = done
        self.usage = usage if usage is not None else {}
        self.cache_hits = cache_hits if cache_hits is not None else {}

    def sample_done(self, failed: bool) -> None:
        self.done += 1
        self.errors += failed

    def batches_changed(self) -> None:
        """A batch was created or ended (batch mode)."""

    def batch_counts(self) -> BatchCounts | None:
        """Batches and their requests over the plan's models; None when nothing is batched."""
        batchers = [m.batcher for m in self.plan.models() if m.batcher] if self.plan else []
        if not batchers:
            return None
        from engine.batch import BatchCounts

        total = BatchCounts()
        for batcher in batchers:
            total.add(batcher.counts)
        return total

    def finish(self) -> None:
        pass

    def message(self, text: str) -> None:
        from engine.logs import redact

        print(redact(text), file=sys.stderr)

    def counters(self) -> dict[str, Any]:
        """Tokens and cache hits of this eval; retries of its connection pools (which evals on
        the same provider in a sweep share)."""
        retries = 0
        if self.plan is not None:
            models = self.plan.models()
            retries = sum(pool.retries for pool in {m.pool.key: m.pool for m in models}.values())
        tokens = sum(used.total_tokens for used in self.usage.values())
        cached = sum(self.cache_hits.values())
        elapsed = time.monotonic() - self.started
        rate = (self.done - self.resumed) / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else None
        return {
            "retries": retries,
            "tokens": tokens,
            "cached": cached,
            "elapsed": elapsed,
            "eta": eta,
        }


class PlainDisplay(Display):
    """One line per 10 % (and at most every 5 s), for CI logs and pipes."""

    def __init__(self, labelled: bool = False) -> None:
        """`labelled`: prefix progress lines with task × model (evals running side by side)."""
        super().__init__()
        self._last_print = 0.0
        self._last_decile = -1
        self._labelled = labelled
        self._prefix = ""
        self._last_batch_print = 0.0

    def start(
        self,
        plan: EvalPlan,
        total: int,
        done: int = 0,
        usage: dict[str, ModelUsage] | None = None,
        cache_hits: dict[str, int] | None = None,
    ) -> None:
        super().start(plan, total, done, usage, cache_hits)
        resumed = f" ({done} already scored)" if done else ""
        label = f"{plan.config.task.name} × {plan.model_name}"
        self._prefix = f"{label}: " if self._labelled else ""
        print(f"{label}: {total} samples{resumed}", file=sys.stderr)

    def sample_done(self, failed: bool) -> None:
        super().sample_done(failed)
        decile = self.done * 10 // max(self.total, 1)
        now = time.monotonic()
        if decile != self._last_decile and (now - self._last_print >= 5 or self.done == self.total):
            self._last_decile, self._last_print = decile, now
            c = self.counters()
            eta = f"{c['eta']:.0f}s" if c["eta"] is not None else "?"
            print(
                f"  {self._prefix}{self.done}/{self.total} done, {self.errors} errors, {c['retries']} retries, "
                f"{c['tokens']} tokens, {c['cached']} cached, eta {eta}",
                file=sys.stderr,
            )

    def batches_changed(self) -> None:
        now = time.monotonic()
        if now - self._last_batch_print >= 5:
            self._last_batch_print = now
            print(f"  {self.batch_counts()}", file=sys.stderr)


class RichDisplay(Display):
    """A live progress bar with errors, retries, tokens and ETA."""

    def __init__(self, console: Any = None, progress: Any = None) -> None:
        """`progress`: a rich Progress shared by evals running side by side (its owner starts
        and stops it); without one, this display has its own."""
        super().__init__()
        self.console = console
        self._shared = progress

    def start(
        self,
        plan: EvalPlan,
        total: int,
        done: int = 0,
        usage: dict[str, ModelUsage] | None = None,
        cache_hits: dict[str, int] | None = None,
    ) -> None:
        super().start(plan, total, done, usage, cache_hits)
        self._progress = self._shared or new_progress(self.console)
        self._task = self._progress.add_task(
            f"{plan.config.task.name} × {plan.model_name}", total=total, completed=done, stats=""
        )
        if self._shared is None:
            self._progress.start()

    def sample_done(self, failed: bool) -> None:
        super().sample_done(failed)
        self._update()

    def batches_changed(self) -> None:
        self._update()

    def _update(self) -> None:
        c = self.counters()
        stats = f"errors {self.errors}  retries {c['retries']}  tokens {c['tokens']:,}"
        if c["cached"]:
            stats += f"  cached {c['cached']:,}"
        batches = self.batch_counts()
        if batches is not None:
            stats += f"  {batches}"
        self._progress.update(self._task, completed=self.done, stats=stats)

    def finish(self) -> None:
        if self._shared is None:
            self._progress.stop()


def new_progress(console: Any = None) -> Any:
    """A rich Progress with errors, retries and tokens beside the bar."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[stats]}"),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )


def make_display(mode: Literal["auto", "rich", "plain", "none"]) -> Display:
    if mode == "auto":
        mode = "rich" if sys.stderr.isatty() else "plain"
    return {"rich": RichDisplay, "plain": PlainDisplay, "none": Display}[mode]()


def results_table(results: list[EvalResult]) -> str:
    """Task, model, samples, each metric ± stderr, tokens, duration, log path."""
    rows = []
    for result in results:
        metrics = []
        for scorer, values in result.metrics.items():
            for name, value in values.items():
                if name == "stderr":
                    continue
                text = f"{name}={value:.3f}"
                if "stderr" in values:
                    text += f" ± {values['stderr']:.3f}"
                metrics.append(text if len(result.metrics) == 1 else f"{scorer}.{text}")
        tokens = sum(usage.total_tokens for usage in result.usage.values())
        samples = f"{result.samples}" + (f" ({result.errors} failed)" if result.errors else "")
        rows.append(
            [
                result.task,
                result.model,
                samples,
                ", ".join(metrics) or "-",
                f"{tokens:,}",
                f"{result.duration:.1f}s",
                result.log_location or str(result.log_path),
            ]
        )
    head = ["task", "model", "samples", "metrics", "tokens", "time", "log"]
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    lines = [
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [head, *rows]
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)
