"""Eval logs in Inspect's formats (`.eval` zip or EvalLog JSON), written incrementally, with
provenance and each sample's transcript."""

from engine._secrets import MASK, Redactor, redact, secret_values
from engine.logs._eval_zip import EvalLogWriter
from engine.logs._find import LOG_NAME, eval_seconds, find_log_files
from engine.logs._format import (
    LOG_SUFFIXES,
    LogFormat,
    LogSink,
    iter_log_samples,
    log_writer,
    read_log,
    read_log_header,
)
from engine.logs._locations import unusable_folder
from engine.logs._lock import LOCK_FILE, FolderBusy, FolderLock
from engine.logs._provenance import config_hash, git_revision, package_versions
from engine.logs._records import (
    EvalHeader,
    RoleModel,
    ScoreSummary,
    eval_error,
    eval_header,
    eval_reductions,
    eval_results,
    eval_sample,
    eval_stats,
    rescored_header,
)
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
from engine.logs._transcript import (
    Transcript,
    current_transcript,
    event_time,
    recording,
    seconds_to_micros,
)
from engine.logs._writer import LOG_VERSION, LogWriter, journal_path, utc_now

__all__ = [
    "LOCK_FILE",
    "LOG_NAME",
    "LOG_SUFFIXES",
    "LOG_VERSION",
    "MASK",
    "NOT_IDENTITY",
    "RESUMABLE",
    "RUN_FILE",
    "EvalHeader",
    "EvalLogWriter",
    "FolderBusy",
    "FolderLock",
    "LogFormat",
    "LogSink",
    "LogWriter",
    "Recovered",
    "Redactor",
    "RemoteLogDir",
    "RemoteLogError",
    "RoleModel",
    "ScoreSummary",
    "Transcript",
    "config_hash",
    "current_transcript",
    "eval_error",
    "eval_header",
    "eval_reductions",
    "eval_results",
    "eval_sample",
    "eval_seconds",
    "eval_stats",
    "event_time",
    "find_log_files",
    "find_resumable",
    "git_revision",
    "is_remote",
    "iter_log_samples",
    "journal_path",
    "log_writer",
    "package_versions",
    "read_log",
    "read_log_header",
    "read_run_file",
    "recording",
    "recover_journal",
    "redact",
    "rescored_header",
    "run_identity",
    "seconds_to_micros",
    "secret_values",
    "unusable_folder",
    "utc_now",
    "write_run_file",
]
