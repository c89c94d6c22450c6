"""Eval logs in Inspect's EvalLog JSON, written incrementally, with provenance."""

from engine._secrets import MASK, Redactor, redact, secret_values
from engine.logs._locations import unusable_folder
from engine.logs._lock import LOCK_FILE, FolderBusy, FolderLock
from engine.logs._provenance import config_hash, git_revision, package_versions
from engine.logs._remote import RemoteLogDir, RemoteLogError, is_remote
from engine.logs._resume import (
    NOT_IDENTITY,
    RESUMABLE,
    RUN_FILE,
    Recovered,
    find_resumable,
    read_run_file,
    recover_journal,
    run_identity,
    write_run_file,
)
from engine.logs._writer import LOG_VERSION, LogWriter, journal_path, utc_now

__all__ = [
    "LOCK_FILE",
    "LOG_VERSION",
    "MASK",
    "NOT_IDENTITY",
    "RESUMABLE",
    "RUN_FILE",
    "FolderBusy",
    "FolderLock",
    "LogWriter",
    "Recovered",
    "Redactor",
    "RemoteLogDir",
    "RemoteLogError",
    "config_hash",
    "find_resumable",
    "git_revision",
    "is_remote",
    "journal_path",
    "package_versions",
    "read_run_file",
    "recover_journal",
    "redact",
    "run_identity",
    "secret_values",
    "unusable_folder",
    "utc_now",
    "write_run_file",
]
