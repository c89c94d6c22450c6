"""Split one job into shards (`shard=I/N`, Slurm arrays, Kubernetes Indexed Jobs, `workers=K`)
and merge their logs into the log an unsharded run writes."""

from engine._sharding import SHARD_KEYS, Shard, config_shard, env_shard, job_config, parse_shard
from engine.shards._command import describe, merge_command
from engine.shards._merge import MergedLog, MergeError, merge_logs, merge_shard_sets, shard_of
from engine.shards._workers import run_workers

__all__ = [
    "SHARD_KEYS",
    "MergeError",
    "MergedLog",
    "Shard",
    "config_shard",
    "describe",
    "env_shard",
    "job_config",
    "merge_command",
    "merge_logs",
    "merge_shard_sets",
    "parse_shard",
    "run_workers",
    "shard_of",
]
