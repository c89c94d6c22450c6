"""Datasets: local JSONL, JSON and CSV files read into samples."""

from engine.datasets._files import (
    DatasetError,
    DatasetFile,
    dataset_format,
    load_dataset,
    read_samples,
    record_to_sample,
    resolve_path,
)
from engine.datasets._sample import Sample

__all__ = [
    "DatasetError",
    "DatasetFile",
    "Sample",
    "dataset_format",
    "load_dataset",
    "read_samples",
    "record_to_sample",
    "resolve_path",
]
