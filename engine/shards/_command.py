"""`inspect-run merge PATH… [-o OUT]`: one log from the shard logs of one job."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

USAGE = (
    "usage: inspect-run merge PATH… [-o OUT]\n"
    "  joins the shard logs (files, or folders holding them) of one job into one log;\n"
    "  OUT: a log file (.eval or .json) or a folder (default: merged-<job> beside the shards)"
)


def merge_command(args: Sequence[str]) -> int:
    from engine.shards._merge import MergeError, merge_logs

    args = list(args)
    out = None
    if "-o" in args or "--out" in args:
        at = args.index("-o") if "-o" in args else args.index("--out")
        if at + 1 >= len(args):
            print(f"inspect-run: -o needs a path\n{USAGE}", file=sys.stderr)
            return 2
        out = Path(args[at + 1])
        del args[at : at + 2]
    if not args or any(a.startswith("-") for a in args):
        print(
            f"inspect-run: {'unknown option ' + args[0] if args else 'no PATH given'}\n{USAGE}",
            file=sys.stderr,
        )
        return 2
    try:
        merged = merge_logs([Path(a) for a in args], out)
    except MergeError as error:
        print(f"inspect-run: merge: {error}", file=sys.stderr)
        return 2
    print(describe(merged))
    return 0 if merged.status == "success" else 1


def describe(merged: object) -> str:
    from engine.shards._merge import MergedLog

    assert isinstance(merged, MergedLog)
    metrics = ", ".join(
        f"{scorer}.{name} {value:.3f}"
        for scorer, values in merged.metrics.items()
        for name, value in values.items()
    )
    return (
        f"{len(merged.shards)} shards → {merged.path}\n"
        f"  {merged.samples} of {merged.expected} samples, {merged.errors} failed, "
        f"status {merged.status}; {metrics}"
    )
