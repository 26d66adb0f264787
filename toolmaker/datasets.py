"""Benchmark datasets: located through one setting and verified against their checksums.

The data is never copied into the repository. By default it is read from
``../shared/datasets`` beside a clone (where CI has it); ``TOOLMAKER_DATASETS_DIR``
points anywhere else that holds the same files and their ``SHA256SUMS``.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

_BESIDE_THE_CLONE = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


class DatasetError(RuntimeError):
    """A dataset file is missing or not the published bytes."""


def datasets_dir() -> Path:
    """The folder that holds the datasets and their ``SHA256SUMS``."""
    configured = os.environ.get("TOOLMAKER_DATASETS_DIR")
    return Path(configured) if configured else _BESIDE_THE_CLONE


def dataset_file(relative: str) -> Path:
    """The verified path of a dataset file, e.g. ``tool_transfer/transfer_300.jsonl``.

    Raises:
        DatasetError: The file or its checksum line is missing, or its SHA-256 differs.
    """
    root = datasets_dir()
    path = root / relative
    sums = root / "SHA256SUMS"
    if not path.is_file() or not sums.is_file():
        raise DatasetError(
            f"dataset file {path} (or {sums}) is missing: set TOOLMAKER_DATASETS_DIR to a folder "
            "with the datasets and their SHA256SUMS"
        )
    expected = {
        name.removeprefix("./"): digest
        for digest, name in (line.split(maxsplit=1) for line in sums.read_text().splitlines() if line.strip())
    }.get(relative)
    if expected is None:
        raise DatasetError(f"{sums} has no checksum for {relative}")
    actual = hashlib.sha256(path.read_bytes()).hexdigest()
    if actual != expected:
        raise DatasetError(f"{path} has sha256 {actual}, expected {expected}: fetch it again")
    return path
