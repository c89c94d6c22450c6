"""Prints the differential test's counts: cases per scorer and cases per documented difference."""

from __future__ import annotations

from typing import Any


def pytest_terminal_summary(terminalreporter: Any) -> None:
    from tests.scorers import test_differential

    if not test_differential.CASES:
        return
    terminalreporter.section("differential test against inspect_ai 0.3.285")
    for scorer, count in sorted(test_differential.CASES.items()):
        terminalreporter.write_line(f"{scorer:<18} {count:>6} cases")
    terminalreporter.write_line(f"{'total':<18} {sum(test_differential.CASES.values()):>6} cases")
    for difference, count in sorted(test_differential.FIRED.items()):
        terminalreporter.write_line(f"  documented difference {difference}: {count} cases")
