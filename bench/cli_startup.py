"""Start-up cost of `inspect-run` commands that must stay instant (help, version, usage errors).

Prints, per command line, the wall time of a fresh interpreter (best of N) and what `-X importtime`
says: the number of modules imported and the heaviest top-level imports. Run:
`python bench/cli_startup.py [N]`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

COMMANDS = [
    ["--help"],
    ["--version"],
    ["list", "--help"],
    ["validate", "--help"],
    ["report", "--help"],
    ["score", "--help"],
    ["gate", "--help"],
    ["cache", "--help"],
    ["schemas", "--help"],
    ["valdate"],
]
CODE = "import sys; from engine.cli import main; sys.argv[1:] = {args!r}; main()"


def _importtime(args: list[str]) -> tuple[int, list[tuple[int, str]]]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", CODE.format(args=args)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = (part.strip() for part in line.split(":", 1)[1].split("|"))
        rows.append((int(cumulative), name))
    top = sorted((r for r in rows if not r[1].startswith(" ")), reverse=True)[:3]
    return len(rows), top


def _wall(args: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", CODE.format(args=args)], capture_output=True, check=False
        )
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    repeat = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    empty = min(_timed([sys.executable, "-c", "pass"]) for _ in range(repeat))
    print(f"python -c pass: {empty * 1000:.0f} ms")
    for args in COMMANDS:
        modules, top = _importtime(args)
        heaviest = ", ".join(f"{name} {us / 1000:.0f} ms" for us, name in top)
        print(
            f"inspect-run {' '.join(args):<16} {_wall(args, repeat) * 1000:5.0f} ms  "
            f"{modules:4d} modules  heaviest: {heaviest}"
        )


def _timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, capture_output=True, check=False)
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
