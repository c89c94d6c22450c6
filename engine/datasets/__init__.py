"""Datasets: local JSONL, JSON, CSV and Parquet files, or a Hugging Face Hub dataset, read into
samples by a field mapping or a `record_to_sample` hook; images become resized image parts."""

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
