"""Which log dirs are object storage URLs (`s3://`, `gs://`, `az://`, any fsspec URL), and whether
this install can write them: a leaf, so the config layer checks `log_dir` while validating and
`engine.logs` stages and uploads (`engine.logs.RemoteLogDir`) with the same rules.
"""

from __future__ import annotations

__all__ = ["EXTRAS", "is_remote", "remote_problem"]

EXTRAS = {
    "s3": ("s3fs", "s3"),
    "s3a": ("s3fs", "s3"),
    "gs": ("gcsfs", "gcs"),
    "gcs": ("gcsfs", "gcs"),
    "az": ("adlfs", "azure-blob"),
    "abfs": ("adlfs", "azure-blob"),
    "abfss": ("adlfs", "azure-blob"),
}
"""URL scheme → (fsspec implementation package, the inspect-run extra that installs it)."""


def is_remote(log_dir: str) -> bool:
    """`scheme://…` other than `file://` (a local folder named `s3:` is never made)."""
    scheme, sep, _ = log_dir.partition("://")
    return bool(sep) and scheme.lower() != "file" and scheme.replace("+", "").isalnum()


def remote_problem(log_dir: str) -> str | None:
    """Why `log_dir` cannot be written (a missing extra, an unknown scheme), or None."""
    if not is_remote(log_dir):
        return None
    scheme = log_dir.partition("://")[0].lower()
    package, extra = EXTRAS.get(scheme, (None, None))
    install = f'pip install "inspect-run[{extra}]"' if extra else "install its fsspec package"
    try:
        import fsspec
    except ImportError:
        return f"a {scheme}:// log dir needs fsspec and {package or 'its backend'}: {install}"
    try:
        fsspec.get_filesystem_class(scheme)
    except ValueError:
        return f"unknown storage scheme '{scheme}://' (fsspec knows no such protocol)"
    except ImportError:
        return f"a {scheme}:// log dir needs the {package or scheme} package: {install}"
    return None
