"""Turn how a child ended (exit status, why we stopped it, its report) into a status and error."""

from __future__ import annotations

import json
import math
import signal
from pathlib import Path
from typing import Any

from sandbox.result import ExecutionError, ExecutionStatus, Limits

_BRUTE_FORCE = "avoid brute force over large ranges and loops that never end"
_POLICY_HINT = (
    "the sandbox allows no network, no new processes and no files outside the working "
    "directory: compute the answer in plain Python"
)
_HINTS = {
    "RecursionError": "the recursion went too deep: use a loop or a closed formula",
    "MemoryError": "the code ran out of memory: avoid building huge lists or numbers",
    "ModuleNotFoundError": "only the Python standard library and sympy are available",
    "SyntaxError": "the code is not valid Python: check brackets, indentation and quotes",
    "NameError": "a name is used before it is defined or imported",
}
_STOPPED_BY_US: dict[str, tuple[ExecutionStatus, str, str, str]] = {
    "wall_seconds": ("timeout", "Timeout", "the code ran past the {value:g} s time limit", _BRUTE_FORCE),
    "cpu_seconds": ("timeout", "Timeout", "the code used more than {value} s of CPU time", _BRUTE_FORCE),
    "disk_mb": (
        "resource_limit",
        "DiskLimit",
        "the code wrote more than {value} MB of files",
        "do not write files",
    ),
    "output_bytes": (
        "output_limit",
        "OutputLimit",
        "the code printed more than {value} bytes",
        "print only the answer",
    ),
}


def read_report(report: Path) -> dict[str, Any] | None:
    """The runner's JSON report, or None if it wrote none (or garbage)."""
    try:
        reported = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return reported if isinstance(reported, dict) else None


def _limit_error(limit: str, limits: Limits, **extra: int) -> tuple[ExecutionStatus, ExecutionError]:
    status, kind, message, hint = _STOPPED_BY_US[limit]
    value = (
        (limits.cpu_seconds or math.ceil(limits.wall_seconds))
        if limit == "cpu_seconds"
        else getattr(limits, limit)
    )
    error = ExecutionError(
        type=kind,
        message=message.format(value=value),
        traceback="",
        limit=limit,
        limit_value=value,
        hint=hint,
    )
    if "signal" in extra:
        error["signal"] = extra["signal"]
    return status, error


def _limit_behind(error: ExecutionError) -> str | None:
    """Which limit an exception comes from, if any (memory, file size, open files, processes)."""
    message = error["message"]
    if error["type"] == "MemoryError":
        return "memory_mb"
    if error["type"] == "RuntimeError" and "can't start new thread" in message:
        return "memory_mb"
    if error["type"] == "BlockingIOError" and "[Errno 11]" in message:  # EAGAIN: RLIMIT_NPROC
        return "processes"
    errno_limits = {"[Errno 27]": "file_size_mb", "[Errno 24]": "open_files", "[Errno 28]": "disk_mb"}
    return next((limit for code, limit in errno_limits.items() if code in message), None)


def classify(
    returncode: int, stopped_for: str | None, reported: dict[str, Any] | None, limits: Limits
) -> tuple[ExecutionStatus, ExecutionError | None]:
    """The status and error of a run, from the child's end and its report."""
    if stopped_for is not None:
        return _limit_error(stopped_for, limits)
    if reported is not None and "setup_error" in reported:  # limits or the uid drop failed: ours
        message = f"the sandbox could not set up the run: {reported['setup_error']}"
        return "sandbox_error", ExecutionError(type="SandboxError", message=message, traceback="")
    # bwrap reports a child killed by signal N as exit status 128 + N, as shells do.
    signum = -returncode if returncode < 0 else returncode - 128 if returncode > 128 and not reported else 0
    if signum in (signal.SIGXCPU, signal.SIGKILL):
        return _limit_error("cpu_seconds", limits, signal=signum)
    if signum > 0:
        name = signal.Signals(signum).name
        message = f"the process was ended by signal {name}"
        return "crashed", ExecutionError(type="Crashed", message=message, traceback="", signal=signum)
    if reported is None or not isinstance(reported.get("error", {}), dict | None):
        message = f"the process exited with status {returncode} before reporting"
        return "crashed", ExecutionError(type="Crashed", message=message, traceback="")
    raised = reported.get("error")
    if raised is None:
        return "ok", None
    error = ExecutionError(
        type=str(raised.get("type", "Error")),
        message=str(raised.get("message", "")),
        traceback=str(raised.get("traceback", "")),
    )
    if "file" in raised:
        error["file"] = str(raised["file"])
    if error["type"] == "PermissionError":
        error["hint"] = _POLICY_HINT
        return "policy_violation", error
    if hint := _HINTS.get(error["type"]):
        error["hint"] = hint
    if limit := _limit_behind(error):
        error["limit"], error["limit_value"] = limit, getattr(limits, limit)
        error.setdefault("hint", f"the code hit the sandbox's {limit} limit: use less of it")
        return "resource_limit", error
    return "error", error
