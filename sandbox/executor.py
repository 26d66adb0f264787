"""Executors: run code in a fresh child process under limits, return an ExecutionResult."""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import math
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import NamedTuple, Protocol

from sandbox.result import ExecutionError, ExecutionResult, ExecutionStatus, Limits
from sandbox.verdicts import classify, read_report

RUNNER = Path(__file__).with_name("_runner.py")
_SAFE_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
}
_READ_CHUNK = 65536
_DISK_CHECK_SECONDS = 0.1


class Executor(Protocol):
    """Anything that runs Python code confined and reports an :class:`ExecutionResult`."""

    name: str

    def run(
        self,
        main: str,
        *,
        modules: Mapping[str, str] | None = None,
        limits: Limits | None = None,
    ) -> ExecutionResult:
        """Run ``main`` as ``main.py`` beside ``modules`` (file name → source).

        Args:
            main: Source of the entry file.
            modules: Further files importable from the entry file, e.g. ``{"tool.py": ...}``.
            limits: Bounds for the run; the executor's defaults when omitted.

        Returns:
            The structured result. Never raises for anything the code does.
        """
        ...


class SubprocessExecutor:
    """A fresh ``python -I`` child per run, in its own session and scratch directory.

    The child gets an allow-listed environment (no host variables, so no secrets), a
    private scratch directory removed afterwards, closed stdin, rlimits on CPU time,
    address space, file size, open files and core dumps, and is killed with its whole
    process group on wall-clock timeout or when its output or disk use passes its cap.
    Before running the code it confines itself with Landlock and seccomp where the
    kernel allows (``confine``); as root it runs as a fresh unprivileged uid when the
    interpreter is readable by one (``drop_root``).
    """

    name = "subprocess"

    def __init__(
        self,
        python: str | None = None,
        default_limits: Limits | None = None,
        *,
        confine: bool = True,
        drop_root: bool = True,
    ) -> None:
        """Create an executor.

        Args:
            python: The interpreter for the child; ours by default, so the same
                packages (the standard library and sympy) are importable.
            default_limits: Limits used when a run passes none.
            confine: Apply Landlock and seccomp in the child where available.
            drop_root: When we run as root, run the child as a fresh unprivileged uid
                (if the interpreter is readable by it), so process limits bind.
        """
        self.python = python or sys.executable
        self.default_limits = default_limits or Limits()
        self.confine = confine
        self.drop_root = drop_root

    def run(
        self,
        main: str,
        *,
        modules: Mapping[str, str] | None = None,
        limits: Limits | None = None,
    ) -> ExecutionResult:
        """Run ``main`` in a child process; see :meth:`Executor.run`."""
        limits = limits or self.default_limits
        started = time.monotonic()
        workdir = Path(tempfile.mkdtemp(prefix="toolmaker-run-"))
        try:
            outcome = self._run_in(workdir, main, modules or {}, limits)
        except OSError as exc:
            error = ExecutionError(type=type(exc).__name__, message=str(exc), traceback="")
            outcome = _Outcome("sandbox_error", "", "", error, [])
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        # Removing the run's folder is part of what the run cost, so it is inside its seconds.
        return ExecutionResult(
            status=outcome.status,
            stdout=outcome.stdout,
            stderr=outcome.stderr,
            error=outcome.error,
            seconds=round(time.monotonic() - started, 4),
            backend=self.name,
            confinement=outcome.confinement,
        )

    def _command(self, scratch: Path, report: Path, limits: Limits, uid: int | None) -> Launch:
        """How to start the runner on ``scratch``: it applies ``limits`` and becomes ``uid`` itself."""
        return Launch(
            self._runner_command(str(scratch), str(report), limits, uid), sandbox_environment(str(scratch))
        )

    def _unprivileged_uid(self) -> int | None:
        """As root, a fresh unprivileged uid for this run, if our Python can run as it."""
        if os.geteuid() != 0 or not self.drop_root:
            return None
        uid = _UID_BASE + next(_uid_counter) % _UID_SPAN
        return uid if _uid_can_run(self.python, _UID_BASE, self._read_as_uid()) else None

    def _read_as_uid(self) -> tuple[str, ...]:
        """Folders the run reads after its uid is dropped (the runner is started as root)."""
        return ()

    def _runner_command(self, scratch: str, report: str, limits: Limits, uid: int | None) -> list[str]:
        confine = "confine" if self.confine else "none"
        bounds = json.dumps(_bounds(limits, uid))
        return [self.python, "-I", "-X", "utf8", str(RUNNER), scratch, "main.py", report, confine, bounds]

    def _run_in(
        self,
        workdir: Path,
        main: str,
        modules: Mapping[str, str],
        limits: Limits,
    ) -> _Outcome:
        scratch = workdir / "scratch"
        scratch.mkdir()
        for filename, source in {**modules, "main.py": main}.items():
            if Path(filename).name != filename or not filename.endswith(".py"):
                raise OSError(f"module file name must be a plain *.py name: {filename!r}")
            (scratch / filename).write_text(source, encoding="utf-8")
        report = workdir / "report.json"
        report.touch()
        uid = self._unprivileged_uid()
        if uid is not None:
            workdir.chmod(0o711)
            for path in (scratch, report):
                os.chown(path, uid, uid)
        launch = self._command(scratch, report, limits, uid)
        # No preexec_fn: with none (and no user to become) Python spawns with vfork, see _runner.py.
        process = subprocess.Popen(
            launch.argv,
            cwd=scratch,
            env=launch.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            user=launch.user,
            group=launch.user,
            extra_groups=None if launch.user is None else [],
        )

        def reap() -> None:
            _kill_group(process.pid)
            if uid is not None:
                _kill_uid(uid)

        stdout, stderr, stopped_for = _collect(process, limits, scratch, reap)
        returncode = process.wait()
        reap()
        reported = read_report(report)
        status, error = classify(returncode, stopped_for, reported, limits)
        confinement = list(reported.get("confinement", [])) if reported else []
        return _Outcome(status, stdout, stderr, error, confinement)


def sandbox_environment(scratch: str) -> dict[str, str]:
    """The child's whole environment: an allow-list, never the host's variables."""
    return {**_SAFE_ENV, "HOME": scratch, "TMPDIR": scratch}


_UID_BASE, _UID_SPAN = 1_500_000_000, 100_000
_uid_counter = itertools.count()


@functools.cache
def _uid_can_run(python: str, uid: int, folders: tuple[str, ...] = ()) -> bool:
    """Whether ``python`` starts as ``uid`` and can read ``folders`` (not under a private home)."""
    readable = "import os, sys; sys.exit(not all(os.access(p, os.R_OK | os.X_OK) for p in sys.argv[1:]))"
    try:
        probe = subprocess.run(
            [python, "-I", "-c", readable, *folders],
            capture_output=True,
            timeout=30,
            check=False,
            cwd="/",
            user=uid,
            group=uid,
            extra_groups=[],
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return probe.returncode == 0


def _bounds(limits: Limits, uid: int | None) -> dict[str, int]:
    """The rlimits the runner sets on itself, and the uid it becomes as root (see ``_runner.py``)."""
    cpu = limits.cpu_seconds or math.ceil(limits.wall_seconds)
    bounds = {
        "cpu": cpu,
        "memory": limits.memory_mb * 1024 * 1024,
        "file_size": limits.file_size_mb * 1024 * 1024,
        "open_files": limits.open_files,
        "processes": limits.processes,
    }
    # RLIMIT_NPROC binds every uid but root: hence the drop, with a uid of its own per run.
    return bounds if uid is None else {**bounds, "uid": uid}


def _kill_uid(uid: int) -> None:
    """End every process left running as ``uid``, even those that left the process group."""
    for status in Path("/proc").glob("[0-9]*/status"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            uids = next(line for line in status.read_text().splitlines() if line.startswith("Uid:"))
            if int(uids.split()[1]) == uid:
                os.kill(int(status.parent.name), signal.SIGKILL)


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _disk_usage(directory: Path) -> int:
    total = 0
    for root, _, files in os.walk(directory):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
    return total


def _collect(
    process: subprocess.Popen[bytes], limits: Limits, scratch: Path, reap: Callable[[], None]
) -> tuple[str, str, str | None]:
    """Read both pipes until EOF, the deadline, or the output or disk cap; say which stopped it."""
    assert process.stdout is not None and process.stderr is not None
    buffers = {process.stdout.fileno(): bytearray(), process.stderr.fileno(): bytearray()}
    selector = selectors.DefaultSelector()
    for fd in buffers:
        selector.register(fd, selectors.EVENT_READ)
    deadline = time.monotonic() + limits.wall_seconds
    next_disk_check = time.monotonic() + _DISK_CHECK_SECONDS
    stopped_for: str | None = None
    while selector.get_map() and stopped_for is None:
        now = time.monotonic()
        if now >= deadline:
            stopped_for = "wall_seconds"
            break
        if now >= next_disk_check:
            next_disk_check = now + _DISK_CHECK_SECONDS
            if _disk_usage(scratch) > limits.disk_mb * 1024 * 1024:
                stopped_for = "disk_mb"
                break
        if process.poll() is not None:
            reap()  # leftover children may hold the pipes open: end them so EOF arrives
        for key, _ in selector.select(min(deadline - now, _DISK_CHECK_SECONDS)):
            chunk = os.read(key.fd, _READ_CHUNK)
            if not chunk:
                selector.unregister(key.fd)
                continue
            buffers[key.fd] += chunk
            if len(buffers[key.fd]) > limits.output_bytes:
                stopped_for = "output_bytes"
    reap()
    selector.close()
    stdout, stderr = (
        bytes(buffers[stream.fileno()][: limits.output_bytes]).decode("utf-8", errors="replace")
        for stream in (process.stdout, process.stderr)
    )
    process.stdout.close()
    process.stderr.close()
    return stdout, stderr, stopped_for


class Launch(NamedTuple):
    """A run's command line and environment, and the uid to start it as (None: as we are)."""

    argv: list[str]
    env: dict[str, str]
    user: int | None = None


class _Outcome(NamedTuple):
    """What a run gave, before its timing and backend are added."""

    status: ExecutionStatus
    stdout: str
    stderr: str
    error: ExecutionError | None
    confinement: list[str]
