"""The one result type every executor returns, and the limits it runs under."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NotRequired

from typing_extensions import TypedDict

ExecutionStatus = Literal[
    "ok",
    "error",
    "timeout",
    "resource_limit",
    "output_limit",
    "policy_violation",
    "crashed",
    "sandbox_error",
]


class ExecutionError(TypedDict):
    """What went wrong, in terms the rectify prompt can show the model."""

    type: str
    """Exception class name, or a label such as ``Timeout`` for limits."""
    message: str
    """The exception message or a description of the limit that was hit."""
    traceback: str
    """The traceback trimmed to frames of the executed files; empty for limits."""
    file: NotRequired[str]
    """The executed file the innermost frame belongs to (``tool.py`` or ``main.py``)."""
    limit: NotRequired[str]
    """The name of the limit that was hit, e.g. ``wall_seconds``."""
    limit_value: NotRequired[float]
    """The value of that limit."""
    signal: NotRequired[int]
    """The signal that ended the process, if any."""
    hint: NotRequired[str]
    """A short suggestion for the model, e.g. to avoid brute force."""


class ExecutionResult(TypedDict):
    """The outcome of one run. JSON-serialisable, so it can live in graph state."""

    status: ExecutionStatus
    stdout: str
    """Captured standard output, capped at ``Limits.output_bytes``."""
    stderr: str
    """Captured standard error, capped likewise."""
    error: ExecutionError | None
    seconds: float
    backend: str
    confinement: list[str]
    """The confinement layers that were in force, e.g. ``["landlock-v7", "seccomp"]``."""


@dataclass(frozen=True, kw_only=True)
class Limits:
    """Bounds for one run.

    Attributes:
        wall_seconds: Wall-clock time before the whole process group is killed.
        cpu_seconds: CPU time (RLIMIT_CPU); defaults to ``wall_seconds`` rounded up.
        memory_mb: Address-space limit of the process.
        output_bytes: Cap on each of stdout and stderr.
        file_size_mb: Largest file the code may write.
        open_files: Most file descriptors the process may hold.
        disk_mb: Most disk space all files in the scratch directory may take together.
        processes: Most processes and threads the child's uid may have (applies when the
            child runs as an unprivileged uid of its own; RLIMIT_NPROC never binds root).
    """

    wall_seconds: float = 5.0
    cpu_seconds: int | None = None
    memory_mb: int = 1024
    output_bytes: int = 64_000
    file_size_mb: int = 16
    open_files: int = 64
    disk_mb: int = 64
    processes: int = 64
