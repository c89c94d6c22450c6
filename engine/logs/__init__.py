"""Eval logs in Inspect's EvalLog JSON, written incrementally, with provenance."""

from engine.logs._provenance import config_hash, git_revision, package_versions
from engine.logs._writer import LOG_VERSION, LogWriter, utc_now

__all__ = [
    "LOG_VERSION",
    "LogWriter",
    "config_hash",
    "git_revision",
    "package_versions",
    "utc_now",
]
